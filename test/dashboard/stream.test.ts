import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../http/app-fixture.js';

/** GET /api/v1/decisions/stream: what the live page follows. */
let t: TestApp;
afterEach(async () => t?.closeAll());

/** Reads the stream until `count` decision events arrived. */
async function events(body: ReadableStream<Uint8Array>, count: number): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const found = (): string[] => text.split('\n\n').filter((block) => block.startsWith('event: decision'));
  while (found().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return found().map((block) => ({
    event: /^event: (\S+)/.exec(block)?.[1] ?? '',
    data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>,
  }));
}

describe('the live decision stream', () => {
  it('sends each decision the transports report, as the audit lists it, to an auditor', async () => {
    t = await testApp();
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${address}/api/v1/decisions/stream`, { headers: t.as(t.auditor) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');

    const denied = await t.guard.authorize({ extension: '1001', dialled: '0115352123456', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' });
    t.metrics.observeDecision(denied, 'agi', 0.001);
    const allowed = await t.guard.authorize({ extension: '1002', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' });
    t.metrics.observeDecision(allowed, 'agi', 0.001);

    const received = await events(response.body as ReadableStream<Uint8Array>, 2);
    expect(received.map((e) => e.event)).toEqual(['decision', 'decision']);
    expect(received[0]?.data).toMatchObject({ id: denied.callId, ext: '1001', result: 'DENY', reason: 'destination_country_denied', country: 'CU', sourceIp: '10.0.0.5' });
    expect(received[1]?.data).toMatchObject({ id: allowed.callId, ext: '1002', result: 'ALLOW' });
    const listed = (await t.app.inject({ url: '/api/v1/decisions?limit=1', headers: t.as(t.admin) })).json() as { items: unknown[] };
    expect(received[1]?.data).toEqual(listed.items[0]);
  });

  it('ends open streams when the server closes, so shutdown does not wait for browsers', async () => {
    t = await testApp();
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${address}/api/v1/decisions/stream`, { headers: t.as(t.admin) });
    const reading = (async () => {
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      while (!(await reader.read()).done);
      return 'ended';
    })();
    const started = Date.now();
    await t.app.close();
    await expect(reading).resolves.toBe('ended');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
