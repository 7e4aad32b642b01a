/**
 * Plays Asterisk for one FastAGI call, as a real Asterisk 22 would send it, and prints the
 * channel variables the guard set:
 *
 *   npm run agi-call -- EXT NUMBER [SOURCE] [ORIGIN]
 *   npm run agi-call -- 1001 011442079460000 192.168.1.20:5060
 *   npm run agi-call -- --settle CALL_ID ANSWEREDTIME DIALSTATUS
 *
 * DIALGUARD_AGI_LISTEN (default 127.0.0.1:4573) names the guard.
 */
import { parseListen } from '../src/config/config.js';
import { authorizeEnv, playAsteriskSession, settleEnv } from '../test/support/asterisk-agi.js';

const args = process.argv.slice(2);
const { host, port } = parseListen('DIALGUARD_AGI_LISTEN', process.env.DIALGUARD_AGI_LISTEN ?? '127.0.0.1:4573');

if (args.length < 2 || args[0] === '--help') {
  process.stderr.write('usage: npm run agi-call -- EXT NUMBER [SOURCE] [ORIGIN]\n       npm run agi-call -- --settle CALL_ID ANSWEREDTIME DIALSTATUS\n');
  process.exit(2);
}

const env =
  args[0] === '--settle'
    ? settleEnv({ callId: args[1] ?? '', answeredTime: args[2] ?? '', dialStatus: args[3] ?? 'ANSWER' })
    : authorizeEnv({ ext: args[0] ?? '', number: args[1] ?? '', source: args[2] ?? '192.168.1.20:5060', origin: args[3] ?? 'phone' });

const transcript = await playAsteriskSession({ host, port, env, deadChannel: args[0] === '--settle' });
if (transcript.commands.length === 0) {
  process.stderr.write(`no answer from the guard at ${host}:${port} (Asterisk would leave DIALGUARD_RESULT empty and fail closed)\n`);
  process.exit(1);
}
for (const [name, value] of transcript.variables) process.stdout.write(`${name}=${value}\n`);
process.exit(transcript.variables.get('DIALGUARD_RESULT') === 'DENY' ? 1 : 0);
