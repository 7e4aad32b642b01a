/**
 * The Asterisk 22 recordings in shared/asterisk, beside the repository (../shared/asterisk from
 * the repo root). CI checks shared/ out next to the clone; without it these tests must fail, not
 * skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const capturesDir = path.resolve(repoRoot, '..', 'shared', 'asterisk');

export interface CaptureEvent {
  /** `in`: from Asterisk, exactly as one read() got it; `out`: from the recording server. */
  dir: 'in' | 'out';
  t_ms: number;
  data: string;
}

export interface CaptureTranscriptEntry {
  sent: string;
  /** Each reply as its lines; `<…>` entries describe what did not come. */
  replies: string[][];
  hangup_lines_before_reply?: number;
  note?: string;
}

export interface CaptureSocketEvent {
  t_ms: number;
  what: string;
  detail: string;
}

/** One recorded FastAGI session. */
export interface AgiSessionCapture {
  title: string;
  events: CaptureEvent[];
  env?: Array<[string, string]>;
  transcript?: CaptureTranscriptEntry[];
  socket: CaptureSocketEvent[];
  dialplan_saw?: string;
}

export interface AgiCapture extends AgiSessionCapture {
  dialplan: string;
  how: string;
  observations?: string[];
  variants?: AgiSessionCapture[];
  sessions?: AgiSessionCapture[];
}

export interface QuotingFinding {
  var: string;
  case: string;
  /** The exact bytes sent, LF included. */
  sent: string;
  reply: string[];
  get_variable_reply: string;
  /** The value the dialplan saw, byte-exact (empty when not set). */
  dialplan_value: string;
  dialplan_len: number;
  rule: string;
}

export interface QuotingCapture extends AgiCapture {
  rules: string[];
  findings: QuotingFinding[];
}

function capturePath(name: string): string {
  const file = path.join(capturesDir, name);
  if (!existsSync(file)) {
    throw new Error(
      `Asterisk capture ${name} not found in ${capturesDir}. ` +
        `These tests need shared/asterisk beside the repository (../shared/asterisk from ${repoRoot}).`,
    );
  }
  return file;
}

export function loadCapture<T extends AgiCapture = AgiCapture>(name: string): T {
  return JSON.parse(readFileSync(capturePath(name), 'utf8')) as T;
}

export function loadText(name: string): string {
  return readFileSync(capturePath(name), 'utf8');
}

/** What Asterisk sent, chunk by chunk, as the recording server read it. */
export function inboundChunks(session: AgiSessionCapture): string[] {
  return session.events.filter((e) => e.dir === 'in').map((e) => e.data);
}

/** The environment part of what Asterisk sent (up to and including the blank line). */
export function environmentText(session: AgiSessionCapture): string {
  const all = inboundChunks(session).join('');
  return all.slice(0, all.indexOf('\n\n') + 2);
}
