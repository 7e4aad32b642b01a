import { describe, expect, it } from 'vitest';
import { AmiErrorCode, AmiStreamReader, formatAction, loginAction, parseBlock, type AmiBlock } from '../../src/ami/protocol.js';
import { amiCapture, amiCaptureBlocks } from '../support/security-captures.js';

/** Feeds `bytes` in chunks of the given sizes (cycled) and collects what came out. */
function readAll(bytes: Buffer, sizes: number[], maxBlockBytes?: number): { banner?: string; blocks: AmiBlock[]; oversize: number } {
  const reader = new AmiStreamReader(maxBlockBytes);
  const out: { banner?: string; blocks: AmiBlock[]; oversize: number } = { blocks: [], oversize: 0 };
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] as number;
    const chunk = reader.push(bytes.subarray(at, at + size));
    at += size;
    if (chunk.banner !== undefined) out.banner = chunk.banner;
    out.blocks.push(...chunk.blocks);
    out.oversize += chunk.oversize;
  }
  return out;
}

const asObject = (block: AmiBlock): Record<string, string> => (block.kind === 'malformed' ? {} : Object.fromEntries(block.fields));

describe('AMI stream', () => {
  const capture = amiCapture();
  const expected = amiCaptureBlocks();

  it.each([
    ['in one chunk', [capture.length]],
    ['byte by byte', [1]],
    ['in odd chunks that cut CRLFs and blocks', [7, 3, 61, 2, 1, 250]],
  ])('reads the captured stream %s: the banner, then the 87 blocks with their fields in order', (_name, sizes) => {
    const out = readAll(capture, sizes);
    expect(out.banner).toBe('Asterisk Call Manager/11.0.0');
    expect(out.oversize).toBe(0);
    expect(out.blocks.map(asObject)).toEqual(expected);
    // Object key order is insertion order: the JSON keeps the received order, so does the parser.
    expect(out.blocks.map((b) => Object.keys(asObject(b)))).toEqual(expected.map((b) => Object.keys(b)));
  });

  it('tells responses from events by the first line: ChallengeResponseFailed carries a Response field and is an event', () => {
    const { blocks } = readAll(capture, [capture.length]);
    const kinds = blocks.map((b) => b.kind);
    expect(kinds[0]).toBe('response');
    expect(kinds.at(-1)).toBe('response');
    expect(kinds.slice(1, -1).every((k) => k === 'event')).toBe(true);
    const failed = blocks.filter((b) => b.kind === 'event' && b.name === 'ChallengeResponseFailed');
    expect(failed.length).toBe(expected.filter((b) => b.Event === 'ChallengeResponseFailed').length);
    for (const block of failed) {
      if (block.kind === 'malformed') throw new Error('unreachable');
      expect(block.fields.get('Response')).toMatch(/^[0-9a-f]{32}$/);
      expect(block.fields.get('ExpectedResponse')).toBe('');
    }
  });

  it('reads an empty value sent as "Name: " as the empty string', () => {
    const block = parseBlock('Event: ChallengeSent\r\nChallenge: \r\nAccountID: 1001');
    expect(block).toMatchObject({ kind: 'event', name: 'ChallengeSent' });
    if (block.kind !== 'event') throw new Error('unreachable');
    expect(block.fields.get('Challenge')).toBe('');
    expect(block.fields.get('AccountID')).toBe('1001');
  });

  it('keeps the first value of a repeated field, so a later line cannot turn an event into something else', () => {
    const block = parseBlock('Event: SuccessfulAuth\r\nAccountID: 1001\r\nEvent: Fake\r\nAccountID: 2000');
    expect(block).toMatchObject({ kind: 'event', name: 'SuccessfulAuth' });
    if (block.kind !== 'event') throw new Error('unreachable');
    expect(block.fields.get('AccountID')).toBe('1001');
  });

  it('reads any field name without spaces, and calls a name with spaces malformed', () => {
    expect(parseBlock('Event: VarSet\r\nChanVariable(PJSIP/1001-00000001): X=1')).toMatchObject({ kind: 'event', name: 'VarSet' });
    expect(parseBlock('Event: VarSet\r\nBad Name: 1')).toEqual({ kind: 'malformed', reason: 'a field name with spaces' });
  });

  it('reports a malformed block and goes on with the next one', () => {
    const banner = capture.subarray(0, capture.indexOf('\r\n') + 2);
    const rest = capture.subarray(banner.length);
    const garbage = Buffer.from('this is not AMI\r\nnor: is this?\r\n\r\nPrivilege: security,all\r\nAccountID: 1\r\n\r\n');
    const out = readAll(Buffer.concat([banner, garbage, rest]), [5, 11]);
    expect(out.blocks.slice(0, 2)).toEqual([
      { kind: 'malformed', reason: 'a line without "Name:"' },
      { kind: 'malformed', reason: 'neither a Response nor an Event' },
    ]);
    expect(out.blocks.slice(2).map(asObject)).toEqual(expected);
  });

  it.each([
    ['in one chunk', [1 << 20]],
    ['in small chunks', [997]],
    ['byte by byte around its end', [1]],
  ])('drops a block over the limit %s, counts it, and reads the blocks after it', (_name, sizes) => {
    const banner = capture.subarray(0, capture.indexOf('\r\n') + 2);
    const rest = capture.subarray(banner.length);
    const huge = Buffer.from(`Event: UserEvent\r\nData: ${'x'.repeat(5000)}\r\n\r\n`);
    const out = readAll(Buffer.concat([banner, huge, rest]), sizes, 4096);
    expect(out.oversize).toBe(1);
    expect(out.blocks.map(asObject)).toEqual(expected);
  });

  it('holds at most the limit while an oversize block streams in', () => {
    const reader = new AmiStreamReader(1024);
    reader.push(Buffer.from('Asterisk Call Manager/11.0.0\r\nEvent: X\r\nData: '));
    for (let i = 0; i < 100; i++) reader.push(Buffer.alloc(1000, 'y'));
    expect(reader.pendingBytes).toBeLessThanOrEqual(1024);
    const end = reader.push(Buffer.from('\r\n\r\nEvent: FullyBooted\r\n\r\n'));
    expect(end.blocks).toEqual([{ kind: 'event', name: 'FullyBooted', fields: new Map([['Event', 'FullyBooted']]) }]);
  });

  it('refuses a peer that is not AMI', () => {
    const reader = new AmiStreamReader();
    expect(() => reader.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toThrow(expect.objectContaining({ code: AmiErrorCode.protocol }));
    expect(() => new AmiStreamReader().push(Buffer.alloc(300, 'a'))).toThrow(expect.objectContaining({ code: AmiErrorCode.protocol }));
  });
});

describe('AMI actions', () => {
  it('logs in with an ActionID and asks for security events only', () => {
    expect(loginAction('dg-1', 'dgsec', 'dgsecret')).toBe('Action: Login\r\nActionID: dg-1\r\nUsername: dgsec\r\nSecret: dgsecret\r\nEvents: security\r\n\r\n');
  });

  it('refuses a value that would inject another header or action', () => {
    expect(() => loginAction('dg-1', 'dgsec', 'x\r\nAction: Originate')).toThrow(expect.objectContaining({ code: AmiErrorCode.badAction }));
    expect(() => formatAction('Ping', [['Bad Name', 'v']])).toThrow(expect.objectContaining({ code: AmiErrorCode.badAction }));
  });
});
