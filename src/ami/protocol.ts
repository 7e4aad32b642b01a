/**
 * The Asterisk Manager Interface wire format as Asterisk 22 speaks it (shared/asterisk/security/
 * README.md, fact 5). Pure: no sockets, no timers. The client feeds it bytes.
 *
 * - The banner is one line, `Asterisk Call Manager/11.0.0\r\n`, and is not a block.
 * - Every block after it is `Name: value` lines ending in `\r\n`, closed by an empty line.
 * - A block is a response or an event by its FIRST line only: a ChallengeResponseFailed event
 *   carries a `Response:` field (the client's digest), so "has a Response field" is not a test.
 * - An empty value is sent as `Name: ` (trailing space).
 */
import { DialguardError } from '../errors.js';

/** Stable error codes of the AMI client; callers match on these, never on messages. */
export const AmiErrorCode = {
  /** No TCP connection (or no banner) within the connect timeout. */
  connectTimeout: 'DG_AMI_CONNECT_TIMEOUT',
  /** No answer to Login within the login timeout. */
  loginTimeout: 'DG_AMI_LOGIN_TIMEOUT',
  /** Asterisk answered Login with `Response: Error` (wrong user or secret, address not permitted). */
  loginRefused: 'DG_AMI_LOGIN_REFUSED',
  /** The peer sent something that is not AMI (no banner). */
  protocol: 'DG_AMI_PROTOCOL',
  /** The connection closed. */
  closed: 'DG_AMI_CLOSED',
  /** No answer to a keep-alive Ping in time: the connection is dead even if TCP has not noticed. */
  pingTimeout: 'DG_AMI_PING_TIMEOUT',
  /** An action we refuse to send: a CR or LF in a value would end the line and inject another header. */
  badAction: 'DG_AMI_BAD_ACTION',
} as const;
export type AmiErrorCode = (typeof AmiErrorCode)[keyof typeof AmiErrorCode];

/** Far above any security event (under 1 KB); a block beyond it is dropped, not buffered. */
export const MAX_BLOCK_BYTES = 64 * 1024;
/** The banner is ~30 bytes; anything longer without a line end is not Asterisk. */
const MAX_BANNER_BYTES = 256;
const BANNER_PREFIX = 'Asterisk Call Manager/';

const CRLF = Buffer.from('\r\n');
const END_OF_BLOCK = Buffer.from('\r\n\r\n');

export type AmiFields = ReadonlyMap<string, string>;

export type AmiBlock =
  | { kind: 'response'; fields: AmiFields }
  | { kind: 'event'; name: string; fields: AmiFields }
  /** A block that is neither: counted by the caller, never thrown. `reason` says why (for a debug log). */
  | { kind: 'malformed'; reason: string };

/** What the stream gave for one chunk: the banner once, then blocks in order, and how many were too large. */
export interface AmiChunk {
  banner?: string;
  blocks: AmiBlock[];
  /** Blocks dropped because they exceeded the size limit (their bytes were discarded as they came). */
  oversize: number;
}

/**
 * Splits the byte stream into the banner and blocks, whatever the chunking. Works on bytes so that
 * a UTF-8 character cut between two chunks is decoded whole. Memory is bounded: a block that grows
 * past `maxBlockBytes` is discarded up to its end and counted.
 */
export class AmiStreamReader {
  private pending: Buffer = Buffer.alloc(0);
  private bannerSeen = false;
  /** Inside an oversize block: bytes are dropped until its end. */
  private discarding = false;

  constructor(private readonly maxBlockBytes: number = MAX_BLOCK_BYTES) {}

  /** Throws DG_AMI_PROTOCOL when the first line is not the AMI banner. */
  push(chunk: Buffer): AmiChunk {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: AmiChunk = { blocks: [], oversize: 0 };
    if (!this.bannerSeen) {
      const end = data.indexOf(CRLF);
      if (end === -1) {
        if (data.length > MAX_BANNER_BYTES) throw notAmi(data);
        this.pending = Buffer.from(data);
        return out;
      }
      const banner = data.toString('utf8', 0, end);
      if (!banner.startsWith(BANNER_PREFIX)) throw notAmi(data);
      this.bannerSeen = true;
      out.banner = banner;
      data = data.subarray(end + CRLF.length);
    }
    let start = 0;
    for (let end = data.indexOf(END_OF_BLOCK, start); end !== -1; end = data.indexOf(END_OF_BLOCK, start)) {
      if (this.discarding) this.discarding = false;
      else if (end - start > this.maxBlockBytes) out.oversize++;
      else out.blocks.push(parseBlock(data.toString('utf8', start, end)));
      start = end + END_OF_BLOCK.length;
    }
    const rest = data.subarray(start);
    if (!this.discarding && rest.length > this.maxBlockBytes) {
      this.discarding = true;
      out.oversize++;
    }
    // While discarding, only the last bytes are kept: the end-of-block may straddle two chunks.
    this.pending = Buffer.from(this.discarding ? rest.subarray(Math.max(0, rest.length - (END_OF_BLOCK.length - 1))) : rest);
    return out;
  }

  /** Bytes held for an incomplete banner or block. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}

function notAmi(data: Buffer): DialguardError {
  return new DialguardError(AmiErrorCode.protocol, 'not an Asterisk Manager Interface banner', { start: data.toString('utf8', 0, 40) });
}

/**
 * One block's text (without its closing empty line) → a response, an event or malformed. Fields
 * keep their received order; a repeated name keeps its first value, so that the first line's
 * `Event`/`Response` can never be overwritten by a later field.
 */
export function parseBlock(text: string): AmiBlock {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'malformed', reason: 'a line without "Name:"' };
    const name = line.slice(0, colon);
    if (!RECEIVED_NAME.test(name)) return { kind: 'malformed', reason: 'a field name with spaces' };
    // `Name: value`; Asterisk always puts one space after the colon, even before an empty value.
    const value = line.charCodeAt(colon + 1) === SPACE ? line.slice(colon + 2) : line.slice(colon + 1);
    if (!fields.has(name)) fields.set(name, value);
  }
  const first = fields.keys().next().value;
  if (first === 'Response') return { kind: 'response', fields };
  if (first === 'Event') {
    const name = fields.get('Event') ?? '';
    return name === '' ? { kind: 'malformed', reason: 'an event without a name' } : { kind: 'event', name, fields };
  }
  return { kind: 'malformed', reason: 'neither a Response nor an Event' };
}

/** What we send: plain names only. */
const FIELD_NAME = /^[A-Za-z0-9_-]+$/;
/** What we read: any name without white space (older versions sent `ChanVariable(PJSIP/1001-00000001): …`). */
const RECEIVED_NAME = /^\S+$/;
const SPACE = 0x20;

/**
 * `Action: NAME\r\nField: value\r\n…\r\n\r\n`. A CR or LF inside a value would end the line and let
 * the rest be read as more headers (or a second action), so such a value is refused.
 */
export function formatAction(action: string, fields: ReadonlyArray<readonly [string, string]>): string {
  const lines = [['Action', action] as const, ...fields].map(([name, value]) => {
    if (!FIELD_NAME.test(name) || /[\r\n]/.test(value)) {
      throw new DialguardError(AmiErrorCode.badAction, 'an AMI action field must be one line with a plain name', { name });
    }
    return `${name}: ${value}\r\n`;
  });
  return `${lines.join('')}\r\n`;
}

/**
 * Login asking for security events only. Without `Events:` Asterisk sends every class the user's
 * `read` permits (the capture, which sent none, also got FullyBooted, PeerStatus, ContactStatus);
 * on a user with wider rights that is every call's events, parsed and thrown away here.
 */
export function loginAction(actionId: string, user: string, secret: string): string {
  return formatAction('Login', [
    ['ActionID', actionId],
    ['Username', user],
    ['Secret', secret],
    ['Events', 'security'],
  ]);
}

export function pingAction(actionId: string): string {
  return formatAction('Ping', [['ActionID', actionId]]);
}

export function logoffAction(actionId: string): string {
  return formatAction('Logoff', [['ActionID', actionId]]);
}
