/**
 * The ARI double and dialguard's own description of ARI, against what Asterisk 22 served and
 * sent in shared/asterisk (ari/api-docs and the ari-*.json recordings).
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogs } from './fixture.js';
import { openEvents } from './ws-client.js';
import { startAsteriskAri, type AsteriskAri } from '../support/asterisk-ari.js';
import { loadText } from '../support/captures.js';
import { startAriClient } from '../../src/ari/client.js';

type Json = Record<string, unknown>;

interface CapturedHttp {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  response_headers: Record<string, string>;
  response_body?: { raw?: string };
}

interface CapturedFrame {
  data?: string;
}

const USER = 'lab';
const PASSWORD = 'lab-secret';

const captured = (name: string): Json => JSON.parse(loadText(name)) as Json;
const apiDoc = (name: string): Json => JSON.parse(loadText(`ari/api-docs/${name}`)) as Json;
const ourDoc = (name: string): Json => JSON.parse(readFileSync(new URL(`../support/ari-resources/${name}`, import.meta.url), 'utf8')) as Json;
const OUR_FILES = readdirSync(new URL('../support/ari-resources/', import.meta.url)).filter((f) => f.endsWith('.json') && f !== 'resources.json');

interface Operation {
  httpMethod: string;
  nickname: string;
  responseClass: string;
  parameters: Array<{ name: string; paramType: string; required?: boolean; allowMultiple?: boolean; dataType: string }>;
}

function operations(doc: Json): Array<{ path: string; op: Operation }> {
  return (doc.apis as Array<{ path: string; operations: Operation[] }>).flatMap((api) => api.operations.map((op) => ({ path: api.path, op })));
}

/** Keys in order and the type of every leaf: what "shaped like" means for an event. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

function frames(file: string): string[] {
  const capture = captured(file);
  const sockets = (capture.websocket ?? []) as Array<{ frames: CapturedFrame[] }>;
  const list = sockets.flatMap((s) => s.frames);
  const direct = (capture.websocket_frames ?? []) as CapturedFrame[];
  return [...list, ...direct].flatMap((f) => (f.data ? [f.data] : []));
}

function capturedEvent(file: string, type: string, match: (e: Json) => boolean = () => true): string {
  const found = frames(file).find((data) => {
    const event = JSON.parse(data) as Json;
    return event.type === type && match(event);
  });
  if (!found) throw new Error(`no ${type} in ${file}`);
  return found;
}

function capturedHttp(file: string, match: (h: CapturedHttp) => boolean): CapturedHttp {
  const found = (captured(file).http as CapturedHttp[]).find(match);
  if (!found) throw new Error(`no such exchange in ${file}`);
  return found;
}

describe("dialguard's description of ARI against Asterisk 22's api-docs", () => {
  it('lists only resources that Asterisk lists, with the same swagger version', () => {
    const ours = ourDoc('resources.json');
    const theirs = apiDoc('resources.json');
    expect(ours.swaggerVersion).toBe(theirs.swaggerVersion);
    const theirPaths = (theirs.apis as Array<{ path: string }>).map((a) => a.path);
    for (const api of ours.apis as Array<{ path: string }>) expect(theirPaths).toContain(api.path);
    expect(OUR_FILES.sort()).toEqual((ours.apis as Array<{ path: string }>).map((a) => a.path.replace('/api-docs/', '').replace('{format}', 'json')).sort());
  });

  it.each(OUR_FILES)('every operation of %s exists in Asterisk with the same path, method, nickname and parameters', (file) => {
    const theirs = operations(apiDoc(file));
    const ours = operations(ourDoc(file));
    expect(ours.length).toBeGreaterThan(0);
    for (const { path, op } of ours) {
      const twin = theirs.find((t) => t.path === path && t.op.httpMethod === op.httpMethod);
      expect(twin, `${op.httpMethod} ${path}`).toBeDefined();
      expect(twin?.op.nickname).toBe(op.nickname);
      expect(twin?.op.responseClass).toBe(op.responseClass);
      for (const p of op.parameters) {
        const tp = twin?.op.parameters.find((x) => x.name === p.name);
        expect(tp, `${op.nickname}(${p.name})`).toBeDefined();
        expect({ paramType: tp?.paramType, required: tp?.required ?? false, allowMultiple: tp?.allowMultiple ?? false, dataType: tp?.dataType }).toEqual({
          paramType: p.paramType,
          required: p.required ?? false,
          allowMultiple: p.allowMultiple ?? false,
          dataType: p.dataType,
        });
      }
      // What Asterisk requires, dialguard's description requires too: calls built from it are valid.
      for (const tp of twin?.op.parameters.filter((x) => x.required) ?? []) expect(op.parameters.map((p) => p.name)).toContain(tp.name);
    }
  });

  it.each(OUR_FILES)('every model property of %s has the type Asterisk gives it', (file) => {
    const theirs = apiDoc(file).models as Record<string, { properties: Record<string, { type: string; required?: boolean }> }>;
    const ours = ourDoc(file).models as Record<string, { properties: Record<string, { type: string; required?: boolean }> }>;
    for (const [name, model] of Object.entries(ours)) {
      expect(theirs[name], name).toBeDefined();
      for (const [prop, def] of Object.entries(model.properties)) {
        const twin = theirs[name]?.properties[prop];
        expect({ model: name, prop, type: twin?.type, required: twin?.required ?? false }).toEqual({ model: name, prop, type: def.type, required: def.required ?? false });
      }
    }
  });
});

describe('the ARI double against the recordings', () => {
  let asterisk: AsteriskAri;
  beforeEach(async () => {
    asterisk = await startAsteriskAri({ user: USER, password: PASSWORD });
  });
  afterEach(async () => {
    await asterisk.close();
  });

  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  const ask = async (method: string, path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${asterisk.url}${path}`, { method, headers });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  /** fetch() will not send another Host header than the URL's. */
  const getWithHost = (path: string, host: string) =>
    new Promise<{ status: number; headers: Headers; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: asterisk.port, path, headers: { ...auth, host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
    });

  it('serves the api-docs as Asterisk does: 401 without credentials, basePath from the Host header, the same headers', async () => {
    const probe = capturedHttp('ari-authorize-session.json', (h) => h.path === '/ari/api-docs/resources.json' && h.status === 401);
    const refused = await ask('GET', '/ari/api-docs/resources.json', {});
    expect(refused.status).toBe(401);
    expect(refused.body).toBe(probe.response_body?.raw);
    for (const header of ['server', 'cache-control', 'www-authenticate', 'content-type', 'content-length']) {
      expect(refused.headers.get(header), header).toBe(probe.response_headers[header]);
    }
    const served = await getWithHost('/ari/api-docs/resources.json', 'pbx.example:8089');
    expect(served.status).toBe(200);
    expect((JSON.parse(served.body) as Json).basePath).toBe('http://pbx.example:8089/ari');
    const headers = (captured('ari/api-docs-headers.json').files as Record<string, { headers: string[] }>)['resources.json']?.headers ?? [];
    for (const line of headers.filter((h) => !/^(Date|Content-Length):/.test(h))) {
      const [name, value] = line.split(': ') as [string, string];
      expect(served.headers.get(name), name).toBe(value);
    }
    expect(served.headers.get('content-length')).toBe(String(Buffer.byteLength(served.body)));
  });

  it("fetches what ari-client fetched at connect, then opens the events websocket as it did", async () => {
    const client = startAriClient({ url: asterisk.url, user: USER, password: PASSWORD, app: 'dialguard', logger: captureLogs().logger, onEvent: () => undefined });
    try {
      await asterisk.waitForConnection();
    } finally {
      await client.close();
    }
    const ourFiles = new Set(['/ari/api-docs/resources.json', ...OUR_FILES.map((f) => `/ari/api-docs/${f}`)]);
    const theirs = (captured('ari-authorize-session.json').http as CapturedHttp[])
      .filter((h) => h.method === 'GET' && ourFiles.has(h.path))
      .map((h) => `${h.path} ${h.status}`);
    // dialguard checks the credentials first (one authenticated GET), then ari-client does what it did.
    expect(asterisk.requests.map((r) => `${r.path} ${r.status}`)).toEqual(['/ari/api-docs/resources.json 200', ...theirs]);
    const upgrade = (captured('ari-authorize-session.json').websocket_connect as { query: Record<string, string> }).query;
    expect(asterisk.upgrades.map((u) => u.query)).toEqual([upgrade]);
  });

  it('sends events shaped like the captured ones, pretty-printed', async () => {
    const events = await openEvents(asterisk.port, `?app=dialguard&api_key=${USER}:${PASSWORD}`);
    const channel = asterisk.stasis(['authorize', '1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    await ask('POST', `/ari/channels/${channel.id}/variable?variable=DIALGUARD_RESULT&value=ALLOW`);
    await ask('POST', `/ari/channels/${channel.id}/continue`);
    const waiting = asterisk.stasis(['authorize', '1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    asterisk.hangup(waiting);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await events.close();

    const sent = events.messages.map((m) => JSON.parse(m) as Json);
    expect(sent.map((e) => e.type)).toEqual(['StasisStart', 'ChannelVarset', 'StasisEnd', 'StasisStart', 'ChannelHangupRequest', 'StasisEnd']);
    const expected = [
      capturedEvent('ari-authorize-session.json', 'StasisStart'),
      capturedEvent('ari-authorize-session.json', 'ChannelVarset'),
      capturedEvent('ari-authorize-session.json', 'StasisEnd'),
      capturedEvent('ari-app-silent.json', 'StasisStart'),
      capturedEvent('ari-app-silent.json', 'ChannelHangupRequest'),
      capturedEvent('ari-app-silent.json', 'StasisEnd'),
    ];
    events.messages.forEach((message, i) => {
      expect(shape(JSON.parse(message)), `${String(sent[i]?.type)} #${i}`).toEqual(shape(JSON.parse(expected[i] as string)));
      expect(message.startsWith('{\n  "')).toBe(true);
    });
    expect((sent[0]?.channel as Json).dialplan).toMatchObject({ app_name: 'Stasis', app_data: 'dialguard,authorize,1001,0044207946000,127.0.0.2:5060,phone' });
  });

  it('answers channel operations as Asterisk did (ari-errors.json)', async () => {
    const file = 'ari-errors.json';
    const events = await openEvents(asterisk.port, `?app=dialguard&api_key=${USER}:${PASSWORD}`);
    const live = asterisk.stasis(['authorize', '1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    const base = `/ari/channels/${live.id}`;
    const same = async (method: string, path: string, match: (h: CapturedHttp) => boolean) => {
      const theirs = capturedHttp(file, (h) => h.method === method && match(h));
      const ours = await ask(method, path);
      expect({ status: ours.status, body: ours.body }).toEqual({ status: theirs.status, body: theirs.response_body?.raw ?? '' });
    };
    await same('POST', `${base}/variable?value=x`, (h) => h.status === 400);
    await same('GET', `${base}/variable?variable=DIALGUARD_NOPE`, (h) => h.status === 404 && h.response_body?.raw?.includes('variable was not found') === true);
    await same('POST', `${base}/variable?variable=DIALGUARD_E164&value=`, (h) => h.status === 204);
    expect(live.vars()).toEqual({ DIALGUARD_E164: '' });
    await same('POST', `${base}/variable?variable=DIALGUARD_E164`, (h) => h.status === 204);
    expect(live.vars()).toEqual({});
    await same('POST', `${base}/continue`, (h) => h.path.endsWith('/continue') && h.status === 204);
    await same('POST', `${base}/continue`, (h) => h.path.endsWith('/continue') && h.status === 404);
    await same('POST', `${base}/variable?variable=DIALGUARD_RESULT&value=ALLOW`, (h) => h.status === 404);
    await same('GET', `${base}/variable?variable=DIALGUARD_RESULT`, (h) => h.status === 404 && h.response_body?.raw?.includes('Provided channel') === true);
    await same('POST', '/ari/channels/no-such-channel-id/continue', (h) => h.path.includes('no-such-channel-id'));
    await events.close();
  });

  it('a settle from a hangup handler is one-way: StasisStart and StasisEnd at once, every operation 404 (ari-settle-session.json)', async () => {
    const events = await openEvents(asterisk.port, `?app=dialguard&api_key=${USER}:${PASSWORD}`);
    const dead = asterisk.stasisOnDeadChannel(['settle', '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', '4', 'ANSWER']);
    const post = await ask('POST', `/ari/channels/${dead.id}/variable?variable=DIALGUARD_SETTLED&value=settled`);
    const get = await ask('GET', `/ari/channels/${dead.id}/variable?variable=DIALSTATUS`);
    const cont = await ask('POST', `/ari/channels/${dead.id}/continue`);
    await events.close();

    const file = 'ari-settle-session.json';
    const settleStart = capturedEvent(file, 'StasisStart', (e) => (e.args as string[])[0] === 'settle');
    const [start, end] = events.messages.map((m) => JSON.parse(m) as Json);
    expect(shape(start)).toEqual(shape(JSON.parse(settleStart)));
    expect(start?.args).toEqual(['settle', '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', '4', 'ANSWER']);
    expect((start?.channel as Json).state).toBe('Up');
    expect(end?.type).toBe('StasisEnd');
    expect(start?.timestamp).toBe(end?.timestamp);
    const theirs = (captured(file).http as CapturedHttp[]).filter((h) => h.status === 404);
    expect([post, get, cont].map((r) => ({ status: r.status, body: r.body }))).toEqual(theirs.map((h) => ({ status: h.status, body: h.response_body?.raw })));
  });

  it('refuses websocket upgrades as Asterisk did: 401 for wrong credentials, 400 twice without app, 101 for any app name', async () => {
    const upgrades = captured('ari-errors.json').websocket_upgrades as Array<{ name: string; response: string }>;
    const withoutDate = (raw: string) => raw.replace(/Date: [^\r]+\r\n/g, '');
    const wrong = await openEvents(asterisk.port, `?app=dialguard&api_key=${USER}:wrong`);
    expect(withoutDate(wrong.response)).toBe(withoutDate(upgrades.find((u) => u.name.includes('wrong password'))?.response ?? ''));
    const noApp = await openEvents(asterisk.port, '', auth);
    expect(withoutDate(noApp.response)).toBe(withoutDate(upgrades.find((u) => u.name.includes('without app'))?.response ?? ''));
    const anyApp = await openEvents(asterisk.port, '?app=dg_unknown_app', auth);
    expect(anyApp.response.split('\r\n').slice(0, 3)).toEqual(
      upgrades.find((u) => u.name.includes('nobody uses'))?.response.split('\r\n').slice(0, 3),
    );
    await anyApp.close();
  });

  it('an absolute timeout takes the channel out of Stasis: StasisEnd (Ring) and nothing else, then 409 on a late answer (dialplan-deadline.md (c), 926)', async () => {
    const events = await openEvents(asterisk.port, `?app=dialguard&api_key=${USER}:${PASSWORD}`);
    await asterisk.waitForConnection();
    const channel = asterisk.stasis(['authorize', '1001', '926', '127.0.0.2:5060', 'phone']);
    asterisk.timeOut(channel);
    expect(await channel.left).toBe('timeout');
    const set = await ask('POST', `/ari/channels/${channel.id}/variable?variable=DIALGUARD_RESULT&value=ALLOW`);
    const cont = await ask('POST', `/ari/channels/${channel.id}/continue`);
    await events.close();
    const sent = events.messages.map((m) => JSON.parse(m) as Json);
    expect(sent.map((e) => [e.type, (e.channel as Json).state])).toEqual([
      ['StasisStart', 'Ring'],
      ['StasisEnd', 'Ring'],
    ]);
    for (const r of [set, cont]) expect([r.status, (JSON.parse(r.body) as Json).message]).toEqual([409, 'Channel not in Stasis application']);
    expect(channel.vars()).toEqual({});
  });

  it('Stasis() with no app connected fails at once: STASISSTATUS=FAILED, nothing sent', async () => {
    expect((captured('ari-errors.json').no_app as { dialplan_saw: string }).dialplan_saw).toContain('STASISSTATUS=[FAILED]');
    const channel = asterisk.stasis(['authorize', '1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    expect(channel.status).toBe('FAILED');
    expect(await channel.left).toBe('failed');
  });
});
