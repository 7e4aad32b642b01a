/**
 * What the PBX gives the applications it runs (applications.ts, agi.ts, stasis.ts), and what a
 * call leaves for the test to read.
 */
import type { AsteriskAri } from '../asterisk-ari.js';
import type { AgiAttempt } from './agi.js';
import type { DialAttempt, DialOutcome, DialRequest } from './applications.js';
import type { Location } from './channel.js';
import type { FunctionHost } from './functions.js';
import type { StasisAttempt } from './stasis.js';
import type { AbsoluteTimeout } from './timeout.js';

export interface HandlerRun {
  /** As pushed: `dialguard-hangup,s,1`. */
  location: string;
  /** Channel variables when the handler started. */
  variables: Record<string, string>;
}

export interface CallRecord {
  /** Asterisk's verbose log of the call, without timestamps: `VERBOSE pbx.c: Executing [s@ctx:1] Set("PJSIP/1001-00000001", "X=1") in new stack`, WARNING lines included. */
  log: string[];
  /** The WARNING and ERROR lines of the log. */
  warnings: string[];
  /** Every priority run, as `exten@context:n`. */
  executed: string[];
  agi: AgiAttempt[];
  stasis: StasisAttempt[];
  dials: DialAttempt[];
  /** `Playback()`, `PlayTones()`, `Progress()` in order, as `App(data)`. */
  media: string[];
  /** TIMEOUT(absolute) as set, in order, with where. */
  timeouts: Array<{ value: string; at: string; atMs: number }>;
  /** When the PBX acted on a passed absolute timeout (T or hangup), and where the channel was. */
  deadlines: Array<{ atMs: number; at: string }>;
  hangupCause: number;
  /** What the SIP caller receives last: `403 Forbidden` (cause 21), `603 Decline` (cause 0), or `BYE` for an answered call. */
  final: string;
  /** Real time to the hangup plus the Playback() durations. */
  finalAtMs: number;
  /** Channel variables at hangup. */
  variables: Record<string, string>;
  /** The hangup handlers run, last pushed first. */
  handlers: HandlerRun[];
  /** Channel variables after the h extension and the hangup handlers (DIALGUARD_SETTLED). */
  finalVariables: Record<string, string>;
}

export interface PbxHost extends FunctionHost {
  readonly appMacro: boolean;
  readonly record: CallRecord;
  readonly timeout: AbsoluteTimeout;
  readonly ari: AsteriskAri | undefined;
  /** Asterisk waits for a silent FastAGI server forever; the double fails the test after this. */
  readonly agiGiveUpAfterMs: number;
  /** Milliseconds since the call started. */
  now(): number;
  /** What the far end does for a placed Dial(). */
  dialOutcome(request: DialRequest): Promise<DialOutcome>;
  /** A file Playback() played: its duration counts in the caller's view. */
  played(file: string): void;
  /** `[[context,]exten,]priority-or-label` from the current position; undefined if it does not exist. */
  resolve(target: string): Location | undefined;
  jump(to: Location): void;
  gosub(to: Location, args: string[]): void;
  /** Pops the top frame and jumps back; -1 when it was a hangup handler's (or there was none). */
  returnFromGosub(value: string): number;
  macro(name: string, args: string[]): Promise<number>;
  /** Sets a variable, or writes a function (`CHANNEL(hangup_handler_push)`, `LOCAL(x)`). */
  assign(name: string, value: string): void;
  /** Runs an application by name on data already expanded (ExecIf). */
  exec(app: string, data: string): Promise<number>;
}
