/**
 * `AGI(agi://host:port/script?query,args…)` as res_agi runs it, through the FastAGI double of
 * asterisk-agi.ts (which behaves like Asterisk 22 on the wire) against a real server: the
 * environment, the server's commands, SET VARIABLE landing on the channel, AGISTATUS. A server
 * that cannot be reached gives AGISTATUS=FAILURE with the two WARNING lines of
 * agi-server-down.json.
 */
import { agiEnv, playAsteriskSession, splitAsteriskArgs, type AsteriskTranscript } from '../asterisk-agi.js';
import type { Channel } from './channel.js';

export interface AgiRun {
  url: string;
  args: string[];
  status: 'SUCCESS' | 'FAILURE';
  /** The channel was dead (a hangup handler): the double answers 511 where Asterisk would. */
  deadChannel: boolean;
  /** What the server set, in order. */
  variables: Map<string, string>;
  transcript?: AsteriskTranscript;
}

export interface AgiHost {
  channel: Channel;
  log(line: string): void;
  warn(line: string): void;
}

export async function runAgi(host: AgiHost, data: string, args: string[]): Promise<AgiRun> {
  const { channel } = host;
  const [url = '', ...scriptArgs] = args;
  const run: AgiRun = { url, args: scriptArgs, status: 'FAILURE', deadChannel: channel.hungUp, variables: new Map() };
  const parsed = /^agi:\/\/([^/:]+)(?::(\d+))?\/([^?]*)(?:\?(.*))?$/.exec(url);
  if (!parsed) {
    host.warn(`WARNING res_agi.c: Failed to execute '${url}': File does not exist.`);
    channel.set('AGISTATUS', 'FAILURE');
    return run;
  }
  const [, hostName = '', port = '4573', script = '', query] = parsed;
  const env = agiEnv({
    script: query === undefined ? script : `${script}?${query}`,
    args: scriptArgs,
    channel: channel.name,
    uniqueid: channel.uniqueid,
    callerid: channel.callerId.num,
    calleridname: channel.callerId.name,
    context: channel.location.context,
    extension: channel.location.exten,
    priority: String(channel.location.priority),
  });
  let transcript: AsteriskTranscript;
  try {
    transcript = await playAsteriskSession({ host: hostName, port: Number(port), env, channelVariables: channel.snapshot(), deadChannel: channel.hungUp });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'Connection refused' : String(err);
    host.warn(`WARNING res_agi.c: Connecting to '${hostName}:${port}' failed for url '${url}': ${reason}`);
    host.warn("WARNING res_agi.c: Couldn't connect to any host.  FastAGI failed.");
    channel.set('AGISTATUS', 'FAILURE');
    return run;
  }
  // Asterisk would wait for ever; the double gave up, so the server under test never closed.
  if (transcript.end === 'gave-up') throw new Error(`the FastAGI server never closed the session for ${url}: ${transcript.violations.join('; ')}`);
  for (const command of transcript.commands) {
    const [verb, message] = splitAsteriskArgs(command.line);
    if (verb?.toUpperCase() === 'VERBOSE' && message !== undefined) host.log(`VERBOSE res_agi.c: ${data}: ${message}`);
  }
  for (const [name, value] of transcript.variables) channel.set(name, value);
  run.variables = transcript.variables;
  run.transcript = transcript;
  run.status = 'SUCCESS';
  channel.set('AGISTATUS', 'SUCCESS');
  host.log(`VERBOSE res_agi.c: <${channel.name}>AGI Script ${url} completed, returning 0`);
  return run;
}
