/**
 * `Stasis(app,args…)` through the ARI double of asterisk-ari.ts, against a real ARI app:
 * - no app connected: STASISSTATUS=FAILED at once, with app_stasis.c's WARNING (ari-errors.json);
 * - in a hangup handler StasisStart and StasisEnd come together (ari-settle-session.json);
 * - the channel's absolute timeout takes it out of the app (StasisEnd, then 409 to the app)
 *   and Stasis() returns 0 with STASISSTATUS=SUCCESS (dialplan-deadline.md (c)).
 */
import type { AriChannel, ChannelExit } from '../asterisk-ari.js';
import { separateArgs } from './expand.js';
import type { PbxHost } from './host.js';

export interface StasisAttempt {
  args: string[];
  status: 'SUCCESS' | 'FAILED';
  /** How the channel left the app. */
  exit: ChannelExit;
  channel: AriChannel;
  deadChannel: boolean;
}

export async function runStasis(host: PbxHost, data: string): Promise<number> {
  const { ari } = host;
  if (!ari) throw new Error('Stasis() needs the ARI double (placeCall({ ari }))');
  const { channel } = host;
  const [app = '', ...args] = separateArgs(data);
  const snapshot = { app, caller: channel.callerId.num, context: channel.location.context, exten: channel.location.exten, priority: channel.location.priority, state: channel.state };
  const deadChannel = channel.hungUp;
  const ariChannel = deadChannel ? ari.stasisOnDeadChannel(args, snapshot) : ari.stasis(args, snapshot);
  const attempt: StasisAttempt = { args, status: ariChannel.status, exit: 'failed', channel: ariChannel, deadChannel };
  host.record.stasis.push(attempt);
  if (ariChannel.status === 'FAILED') host.warn(`WARNING app_stasis.c: ${channel.name}: Stasis app '${app}' doesn't exist`);
  const release = deadChannel || ariChannel.status === 'FAILED' ? () => {} : host.timeout.during(() => ari.timeOut(ariChannel));
  try {
    attempt.exit = await ariChannel.left;
  } finally {
    release();
  }
  for (const [name, value] of ariChannel.variables) channel.set(name, value);
  channel.set('STASISSTATUS', ariChannel.status);
  return 0;
}
