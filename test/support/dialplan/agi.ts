/**
 * `AGI(agi://host:port/script?query,args…)` as res_agi runs it, through the FastAGI double of
 * asterisk-agi.ts (which behaves like Asterisk 22 on the wire) against a real server:
 * - the environment, the server's commands, SET VARIABLE landing on the channel at once (also
 *   on a dead channel: agi-caller-hangup.json), its VERBOSE lines in the log, AGISTATUS;
 * - a server that cannot be reached: AGISTATUS=FAILURE, refused at once or no handshake after
 *   MAX_AGI_CONNECT, with the WARNING lines of agi-server-down.json. res_agi polls that connect
 *   without looking at the channel, so a deadline that passes during it is acted on after;
 * - the channel's absolute timeout (dialplan-deadline.md (a)): "HANGUP\n" to the server; with
 *   AGIEXITONHANGUP Asterisk closes the session at once (902), without it AGI() waits for the
 *   server to close (901, 912); either way AGISTATUS=HANGUP and AGI() returns -1.
 */
import { agiEnv, MAX_AGI_CONNECT_MS, playAsteriskSession, splitAsteriskArgs, type AsteriskTranscript } from '../asterisk-agi.js';
import { separateArgs } from './expand.js';
import type { PbxHost } from './host.js';

export interface AgiAttempt {
  url: string;
  args: string[];
  status: 'SUCCESS' | 'FAILURE' | 'HANGUP';
  /** The channel was dead (a hangup handler): the double answers 511 where Asterisk would. */
  deadChannel: boolean;
  /** What the server set, in order; empty when it could not connect. */
  variables: Map<string, string>;
  /** The session as the server saw it; absent when it could not connect. */
  transcript?: AsteriskTranscript;
  startedMs: number;
  endedMs: number;
}

/** ast_true(). */
function isAstTrue(value: string | undefined): boolean {
  return ['yes', 'true', 'y', 't', '1', 'on'].includes((value ?? '').trim().toLowerCase());
}

export async function runAgi(host: PbxHost, data: string): Promise<number> {
  const { channel } = host;
  const [url = '', ...args] = separateArgs(data);
  const deadChannel = channel.hungUp;
  const attempt: AgiAttempt = { url, args, status: 'FAILURE', deadChannel, variables: new Map(), startedMs: host.now(), endedMs: 0 };
  host.record.agi.push(attempt);
  const parsed = /^agi:\/\/([^/:]+)(?::(\d+))?\/([^?]*)(?:\?(.*))?$/.exec(url);
  if (!parsed) throw new Error(`the dialplan double only speaks agi:// (got ${url})`);
  const [, hostName = '', port = '4573', script = '', query] = parsed;
  const exitOnHangup = isAstTrue(host.variable('AGIEXITONHANGUP'));
  const hangup = new AbortController();
  const release = deadChannel ? () => {} : host.timeout.during(() => hangup.abort());
  let transcript: AsteriskTranscript | undefined;
  try {
    transcript = await playAsteriskSession({
      host: hostName,
      port: Number(port),
      env: agiEnv({
        script: query === undefined ? script : `${script}?${query}`,
        request: url,
        args,
        channel: channel.name,
        uniqueid: channel.uniqueid,
        callerid: channel.callerId.num,
        calleridname: channel.callerId.name,
        context: channel.location.context,
        extension: channel.location.exten,
        priority: String(channel.location.priority),
      }),
      channelVariables: channel.snapshot(),
      deadChannel,
      exitOnHangup,
      hangupSignal: hangup.signal,
      connectTimeoutMs: MAX_AGI_CONNECT_MS,
      giveUpAfterMs: host.agiGiveUpAfterMs,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    host.warn(
      code === 'ETIMEDOUT'
        ? `WARNING res_agi.c: FastAGI connection to '${url}' timed out after MAX_AGI_CONNECT (${MAX_AGI_CONNECT_MS}) milliseconds.`
        : `WARNING res_agi.c: Connecting to '${hostName}:${port}' failed for url '${url}': ${code === 'ECONNREFUSED' ? 'Connection refused' : String(err)}`,
    );
    host.warn("WARNING res_agi.c: Couldn't connect to any host.  FastAGI failed.");
  } finally {
    release();
    attempt.endedMs = host.now();
  }
  if (transcript) {
    // Asterisk would wait for ever; the double gave up, so the server under test never closed.
    if (transcript.end === 'gave-up') throw new Error(`AGI(${url}): the server never closed the session (${transcript.violations.join('; ')}): Asterisk would wait forever`);
    for (const command of transcript.commands) {
      const [verb, message] = splitAsteriskArgs(command.line);
      if (verb?.toUpperCase() === 'VERBOSE' && message !== undefined) host.log(`VERBOSE res_agi.c: ${data}: ${message}`);
    }
    for (const [name, value] of transcript.variables) channel.set(name, value);
    attempt.variables = transcript.variables;
    attempt.transcript = transcript;
    attempt.status = !deadChannel && hangup.signal.aborted ? 'HANGUP' : 'SUCCESS';
    if (attempt.status === 'SUCCESS' || !exitOnHangup) {
      host.log(`VERBOSE res_agi.c: <${channel.name}>AGI Script ${url} completed, returning ${attempt.status === 'SUCCESS' ? 0 : 4}`);
    }
  }
  channel.set('AGISTATUS', attempt.status);
  return attempt.status === 'HANGUP' ? -1 : 0;
}
