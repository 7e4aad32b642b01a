import { setFlagsFromString } from 'node:v8';
import { ariOrigin } from '../ari/client.js';
import { amiUrlForLog, formatAddress, type Config } from '../config/config.js';
import { createLogger } from '../logger.js';
import { startServer } from '../server.js';
import { describeDatabase } from '../store/open-store.js';
import type { CommandIO } from './io.js';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent.
 * Under the decision load objects of sessions in flight outlive the young generation and die in
 * the old one; V8's own choice (up to 4x) then let the heap grow from about 30 MB live to 125 MB
 * between collections, all of it resident. At 50 % a bench-like run of serve peaked at 151 MB of
 * RSS instead of 221 MB, with the same CPU a decision within noise; at 20 % its RSS after the
 * bench's table was 117-118 MB instead of 121-123 MB (2026-12-07, two runs each), for one
 * mark-compact more every 10 s at 200 calls/s, each a pause of 2-5 ms. Set here so that every way
 * of starting serve (npm start, the systemd unit, node dist/cli/bin.js) gets it.
 */
const HEAP_GROWING_PERCENT = 20;

/**
 * Allocation-site pretenuring off. Once most objects made at one allocation site have survived
 * minor GCs, V8 allocates that site's objects straight into the old generation. A burst of calls
 * (16 in flight) made it decide so for sites on the session path. At 200 calls/s those objects
 * die within milliseconds, but from the old generation they held every session object they
 * pointed at through minor GCs, and all of it was promoted. Without pretenuring, serve promoted
 * 4.6-5.0 KB a session instead of 9.7-10.2 KB, and ran 3 mark-compacts in 30 s at 200/s instead
 * of 5-7 (README, Benchmark).
 */
const V8_FLAGS = [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--no-allocation-site-pretenuring'];

/** Runs until SIGTERM or SIGINT, then shuts down in order; resolves with the exit status. */
export async function runServe(config: Config, io: CommandIO): Promise<number> {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
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
