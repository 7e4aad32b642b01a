/**
 * The benchmark's baseline: the same FastAGI server code doing the same protocol exchange
 * (environment in, seven SET VARIABLE round trips, FIN) and no decision, store or log.
 * Prints "listening PORT" when ready.
 */
import { createAgiServer } from '../../src/agi/server.js';
import { createLogger } from '../../src/logger.js';

const VARIABLES: ReadonlyArray<readonly [string, string]> = [
  ['DIALGUARD_REASON', 'allowed'],
  ['DIALGUARD_MESSAGE', 'Call to United States allowed, limit 60 min'],
  ['DIALGUARD_LIMIT_MS', '3600000'],
  ['DIALGUARD_CALL_ID', '01JDGQ7K3M5X8Y2Z4A6B8C0D1E'],
  ['DIALGUARD_E164', '+12125550123'],
  ['DIALGUARD_COUNTRY', 'US'],
  ['DIALGUARD_RESULT', 'ALLOW'],
];

const server = createAgiServer({
  host: '127.0.0.1',
  port: 0,
  logger: createLogger('warn'),
  maxConnections: 4096,
  handlers: {
    authorize: async (session) => {
      for (const [name, value] of VARIABLES) await session.setVariable(name, value);
    },
  },
});
const { port } = await server.listen();
process.stdout.write(`listening ${port}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
