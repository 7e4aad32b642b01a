import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { censorSecrets, createLogger } from '../src/logger.js';

/** A logger writing to memory, and its lines parsed. */
function memory(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', stream);
  return { logger, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the logger censors secrets', () => {
  it('at the top of a line, in nested objects and arrays, in an error and in a child logger’s bindings', () => {
    const { logger, lines } = memory();
    const smtp = { host: 'mail.example', password: 's3cret' };
    const err = Object.assign(new Error('login failed'), { token: 'tok-1' });
    logger.info({ password: 'p1', smtp, req: { headers: { authorization: 'Bearer abc' } }, hops: [{ token: 't2' }] }, 'one');
    logger.error({ err }, 'two');
    logger.child({ token: 'child-token' }).warn('three');
    const [one, two, three] = lines();
    expect(one).toMatchObject({ msg: 'one', password: '[redacted]', smtp: { host: 'mail.example', password: '[redacted]' }, req: { headers: { authorization: '[redacted]' } }, hops: [{ token: '[redacted]' }] });
    expect(two).toMatchObject({ msg: 'two', err: { message: 'login failed', token: '[redacted]', type: 'Error' } });
    expect(three).toMatchObject({ msg: 'three', token: '[redacted]' });
    // What was logged is left as it was.
    expect(smtp.password).toBe('s3cret');
    expect(err.token).toBe('tok-1');
    expect(JSON.stringify(lines())).not.toMatch(/s3cret|tok-1|Bearer abc|t2"|child-token|"p1"/);
  });

  it('leaves a line without a secret field as it is, a mention of one in a value included', () => {
    const line = '{"level":30,"msg":"the password field is \\"password\\": set it","note":"token:"}\n';
    expect(censorSecrets(line)).toBe(line);
    const { logger, lines } = memory();
    logger.info({ callId: 'c1', checks: [{ name: 'budget', passed: true }] }, 'decision');
    expect(lines()[0]).toMatchObject({ callId: 'c1', checks: [{ name: 'budget', passed: true }], msg: 'decision', service: 'dialguard' });
  });
});
