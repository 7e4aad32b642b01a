import { ariOrigin } from '../ari/client.js';
import { amiUrlForLog, formatAddress, type Config } from '../config/config.js';
import { createLogger } from '../logger.js';
import { startServer } from '../server.js';
import { describeDatabase } from '../store/open-store.js';
import type { CommandIO } from './io.js';

/** Runs until SIGTERM or SIGINT, then shuts down in order; resolves with the exit status. */
export async function runServe(config: Config, io: CommandIO): Promise<number> {
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  io.out(`dialguard FastAGI listening on ${formatAddress(server.agi.host, server.agi.port)}`);
  io.out(`dialguard admin API listening on http://${formatAddress(server.http.host, server.http.port)}`);
  if (server.generatedAdminToken) {
    io.out(`dialguard admin token (shown only this once, only its hash is stored): ${server.generatedAdminToken}`);
  }
  if (config.ari) io.out(`dialguard ARI app "${config.ari.app}" on ${ariOrigin(config.ari.url)} as user "${config.ari.user}"`);
  if (config.ami) io.out(`dialguard security events from AMI ${amiUrlForLog(config.ami)}`);
  if (config.securityLog) io.out(`dialguard security events from the log ${config.securityLog}`);
  const database = describeDatabase(config.dbPath);
  io.out(`dialguard database ${database}`);
  logger.info(
    { agi: server.agi, http: server.http, db: database, homeCountry: config.homeCountry, timezone: config.timezone },
    'dialguard started',
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down: no new sessions, finishing those in flight');
  await server.close();
  return 0;
}
