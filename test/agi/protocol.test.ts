import { describe, expect, it } from 'vitest';
import {
  EnvironmentCollector,
  LineSplitter,
  ReplyReader,
  environmentFromPairs,
  parseEnvironmentLine,
  parseReplyLine,
  type AgiEnvironment,
  type AgiInbound,
} from '../../src/agi/protocol.js';
import { DialguardError } from '../../src/errors.js';
import { environmentText, inboundChunks, loadCapture } from '../support/captures.js';

const pjsip = loadCapture('agi-authorize-pjsip.json');
const local = loadCapture('agi-authorize-local.json');
const commandsErrors = loadCapture('agi-commands-errors.json');
const callerHangup = loadCapture('agi-caller-hangup.json');
const closesWithoutCommands = loadCapture('agi-server-closes-without-commands.json');

/** Feeds chunks through a splitter and an environment collector; returns the env and the lines after it. */
function readEnvironment(chunks: Buffer[]): { env?: AgiEnvironment; after: string[] } {
  const splitter = new LineSplitter();
  const collector = new EnvironmentCollector();
  let env: AgiEnvironment | undefined;
  const after: string[] = [];
  for (const chunk of chunks) {
    for (const line of splitter.push(chunk)) {
      if (env) after.push(line);
      else env = collector.push(line);
    }
  }
  return { env, after };
}

function readInbound(lines: string[]): AgiInbound[] {
  const reader = new ReplyReader();
  return lines.map((line) => reader.push(line)).filter((x): x is AgiInbound => x !== undefined);
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof DialguardError ? err.code : 'not a DialguardError';
  }
  return undefined;
}

describe('reading the environment Asterisk sends', () => {
  it('parses the environment of a real PJSIP /authorize call into typed fields and arguments', () => {
    const { env } = readEnvironment(inboundChunks(pjsip).map((c) => Buffer.from(c)));
    expect(env).toMatchObject({
      network: 'yes',
      networkScript: 'authorize',
      request: 'agi://127.0.0.1:4573/authorize',
      channel: 'PJSIP/1001-00000001',
      type: 'PJSIP',
      uniqueid: '1795264997.1',
      callerid: '1001',
      calleridname: 'Lab 1001',
      dnid: '0044207946000',
      context: 'dg-authorize',
      extension: '0044207946000',
      priority: '2',
      accountcode: '',
      path: 'authorize',
      args: ['1001', '0044207946000', '127.0.0.2:5060', 'phone'],
    });
    expect(Object.entries(env?.raw ?? {})).toEqual(pjsip.env);
  });

  it('gives the same environment whatever the chunking: split at every byte boundary', () => {
    const bytes = Buffer.from(environmentText(pjsip));
    const whole = readEnvironment([bytes]).env;
    for (let cut = 1; cut < bytes.length; cut++) {
      const { env } = readEnvironment([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(env, `cut at byte ${cut}`).toEqual(whole);
    }
    expect(readEnvironment([...bytes].map((b) => Buffer.from([b]))).env).toEqual(whole);
  });

  it('keeps a UTF-8 caller name whole when a chunk ends inside a character', () => {
    const bytes = Buffer.from('agi_calleridname: José 中文\nagi_network_script: authorize\n\n');
    const cut = bytes.indexOf(Buffer.from('é')) + 1;
    const { env } = readEnvironment([bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(env?.calleridname).toBe('José 中文');
  });

  it('sees the HANGUP line that arrived in the same chunk as the environment', () => {
    const [chunk] = inboundChunks(closesWithoutCommands);
    expect(chunk?.endsWith('\n\nHANGUP\n')).toBe(true);
    const { env, after } = readEnvironment([Buffer.from(chunk ?? '')]);
    expect(env?.args).toEqual(['1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    expect(readInbound(after)).toEqual([{ kind: 'hangup' }]);
  });

  it('splits a line on the first ": " only, so values keep their colons and spaces', () => {
    expect(parseEnvironmentLine('agi_arg_3: 127.0.0.2:5060')).toEqual(['agi_arg_3', '127.0.0.2:5060']);
    expect(parseEnvironmentLine('agi_request: agi://127.0.0.1:4573/authorize')).toEqual([
      'agi_request',
      'agi://127.0.0.1:4573/authorize',
    ]);
    expect(parseEnvironmentLine('agi_calleridname: Doe: John ')).toEqual(['agi_calleridname', 'Doe: John ']);
    expect(parseEnvironmentLine('agi_accountcode: ')).toEqual(['agi_accountcode', '']);
  });

  it('keeps empty arguments, an argument with a space, and decodes the query string (Local channel)', () => {
    const { env } = readEnvironment(inboundChunks(local).map((c) => Buffer.from(c)));
    expect(env?.args).toEqual(['1001', '0044207946000', '', 'phone', 'two words']);
    expect(env?.path).toBe('authorize');
    expect(env?.networkScript).toBe('authorize?src=lab&note=a%20b');
    expect(Object.fromEntries(env?.query ?? [])).toEqual({ src: 'lab', note: 'a b' });
    expect(env?.type).toBe('Local');
    expect(env?.dnid).toBe('unknown');
  });

  it('orders arguments by their number and fills a missing one with an empty string', () => {
    const env = environmentFromPairs([
      ['agi_network_script', '/settle'],
      ['agi_arg_2', 'b'],
      ['agi_arg_4', 'd'],
      ['agi_arg_1', 'a'],
    ]);
    expect(env.args).toEqual(['a', 'b', '', 'd']);
    expect(env.path).toBe('settle');
  });

  it('treats anything that is not an agi_* line as garbage', () => {
    const collector = new EnvironmentCollector();
    expect(errorCode(() => collector.push('GET / HTTP/1.1'))).toBe('DG_AGI_PROTOCOL');
    expect(errorCode(() => new EnvironmentCollector().push('agi_network:yes'))).toBe('DG_AGI_PROTOCOL');
    expect(errorCode(() => new EnvironmentCollector().push(''))).toBe('DG_AGI_PROTOCOL');
    expect(errorCode(() => environmentFromPairs([['agi_arg_99999999', 'x']]))).toBe('DG_AGI_PROTOCOL');
  });

  it('refuses an endless environment', () => {
    const collector = new EnvironmentCollector();
    expect(
      errorCode(() => {
        for (let i = 0; i < 1000; i++) collector.push(`agi_x${i}: y`);
      }),
    ).toBe('DG_AGI_PROTOCOL');
  });
});

describe('splitting lines', () => {
  it('errors on a line longer than the limit, even before its LF arrives', () => {
    const splitter = new LineSplitter(16);
    expect(splitter.push(Buffer.from('0123456789abcdef\n0123'))).toEqual(['0123456789abcdef']);
    expect(splitter.pendingBytes).toBe(4);
    expect(errorCode(() => splitter.push(Buffer.from('456789abcdefX')))).toBe('DG_AGI_LINE_TOO_LONG');
  });

  it('errors on an overlong complete line inside one chunk', () => {
    expect(errorCode(() => new LineSplitter(8).push(Buffer.from('123456789\n')))).toBe('DG_AGI_LINE_TOO_LONG');
  });

  it('keeps a CR as part of the line: only LF ends a line, as in Asterisk', () => {
    expect(new LineSplitter().push(Buffer.from('200 result=1\r\n'))).toEqual(['200 result=1\r']);
  });
});

describe('reading replies', () => {
  it('parses every reply Asterisk gave in agi-commands-errors.json', () => {
    const expected = new Map<string, unknown>([
      ['200 result=1', { code: 200, result: '1' }],
      ['200 result=0', { code: 200, result: '0' }],
      ['200 result=4', { code: 200, result: '4' }],
      ['200 result=6', { code: 200, result: '6' }],
      ['200 result=-2', { code: 200, result: '-2' }],
      ['200 result=1 (preset value)', { code: 200, result: '1', data: 'preset value' }],
      ['200 result=1 (1001)', { code: 200, result: '1', data: '1001' }],
      ['200 result=1 (127.0.0.2:5060)', { code: 200, result: '1', data: '127.0.0.2:5060' }],
      ['200 result=1 ()', { code: 200, result: '1', data: '' }],
      ['200 result=1 (preset value and 0044207946000)', { code: 200, result: '1', data: 'preset value and 0044207946000' }],
      ['200 result=1 (1)', { code: 200, result: '1', data: '1' }],
      ['200 result=1 (set after HANGUP)', { code: 200, result: '1', data: 'set after HANGUP' }],
      ['510 Invalid or unknown command', { code: 510, message: 'Invalid or unknown command', usage: [] }],
      [
        '511 Command Not Permitted on a dead channel or intercept routine',
        { code: 511, message: 'Command Not Permitted on a dead channel or intercept routine', usage: [] },
      ],
    ]);
    const transcript = commandsErrors.transcript ?? [];
    let checked = 0;
    for (const entry of transcript) {
      for (const lines of entry.replies) {
        if (lines[0]?.startsWith('<')) continue; // "<no reply within 2000 ms>"
        const got = readInbound(lines);
        expect(got, entry.sent).toHaveLength(1);
        const reply = got[0]?.kind === 'reply' ? got[0].reply : undefined;
        if (lines.length > 1) {
          expect(reply).toEqual({
            code: 520,
            message: 'Invalid command syntax.  Proper usage follows:',
            usage: lines.slice(1, -1),
          });
        } else {
          expect(expected.has(lines[0] ?? ''), `no expectation for ${lines[0]}`).toBe(true);
          expect(reply).toEqual(expected.get(lines[0] ?? ''));
        }
        checked++;
      }
    }
    expect(checked).toBe(38); // 37 commands, the pipelined pair answered late
  });

  it('assembles a 520 usage reply that arrives in two chunks, 43 ms apart', () => {
    const events = commandsErrors.events;
    const first = events.findIndex((e) => e.data === '520-Invalid command syntax.  Proper usage follows:\n');
    const splitter = new LineSplitter();
    const reader = new ReplyReader();
    const out1 = splitter.push(Buffer.from(events[first]?.data ?? '')).map((l) => reader.push(l));
    expect(out1).toEqual([undefined]);
    const out2 = splitter.push(Buffer.from(events[first + 1]?.data ?? '')).map((l) => reader.push(l));
    expect(out2.filter(Boolean)).toEqual([
      {
        kind: 'reply',
        reply: {
          code: 520,
          message: 'Invalid command syntax.  Proper usage follows:',
          usage: [
            'Returns <literal>0</literal> if <replaceable>variablename</replaceable> is not set. Returns <literal>1</literal> if <replaceable>variablename</replaceable> is set and returns the variable in parentheses.',
            'Example return code: 200 result=1 (testvariable)',
          ],
        },
      },
    ]);
  });

  it('takes GET VARIABLE data between the first "(" and the last ")", parentheses inside kept', () => {
    expect(parseReplyLine('200 result=1 ((x) y))')).toEqual({ code: 200, result: '1', data: '(x) y)' });
    expect(parseReplyLine('200 result=1 (}{)()')).toEqual({ code: 200, result: '1', data: '}{)(' });
    expect(parseReplyLine('200 result=0 endpos=12345')).toEqual({ code: 200, result: '0', endpos: '12345' });
    expect(parseReplyLine('200 result=1 (timeout) endpos=80')).toEqual({ code: 200, result: '1', data: 'timeout', endpos: '80' });
  });

  it('reads the single-line 520 Asterisk sends when it has no usage text', () => {
    expect(parseReplyLine('520 Invalid command syntax.  Proper usage not available.')).toEqual({
      code: 520,
      message: 'Invalid command syntax.  Proper usage not available.',
      usage: [],
    });
  });

  it('tells the unsolicited HANGUP apart from the reply that follows it (caller hung up)', () => {
    const afterEnv = inboundChunks(callerHangup).slice(2).join('');
    const lines = afterEnv.split('\n').slice(0, -1);
    const inbound = readInbound(lines);
    expect(inbound[0]).toEqual({ kind: 'hangup' });
    expect(inbound.slice(1, 8).every((x) => x.kind === 'reply' && x.reply.code === 200)).toBe(true);
    expect(inbound.at(-2)).toEqual({
      kind: 'reply',
      reply: { code: 511, message: 'Command Not Permitted on a dead channel or intercept routine', usage: [] },
    });
    expect(inbound.at(-1)).toEqual({ kind: 'hangup' });
    expect(inbound.filter((x) => x.kind === 'hangup')).toHaveLength(2);
  });

  it('rejects a line that is not a reply', () => {
    expect(errorCode(() => parseReplyLine('hello'))).toBe('DG_AGI_PROTOCOL');
    expect(errorCode(() => parseReplyLine('200 ok'))).toBe('DG_AGI_PROTOCOL');
  });
});
