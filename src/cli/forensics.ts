import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { forensicsDocument } from '../forensics/document.js';
import { investigate } from '../forensics/investigate.js';
import { renderReport } from '../forensics/render.js';
import type { ForensicsReport } from '../forensics/report.js';
import { openGeoIp } from '../geo/geoip.js';
import { openStore } from '../runtime.js';
import { absoluteDatabase, describeDatabase, isPostgresUrl } from '../store/open-store.js';
import { UsageError, type CommandIO } from './io.js';

export const FORENSICS_HELP = `dialguard forensics [--since TIME] [--until TIME] [--json] FILE…

Reads Asterisk logs (messages, full, security; plain, rotated .1 .2 …, .gz; PJSIP and chan_sip)
and the guard's audit (DIALGUARD_DB), and prints how the PBX was broken into: the attacking
sources, the accounts taken over, the calls made after, and what to do.
  dialguard forensics /var/log/asterisk/messages* /var/log/asterisk/security*
TIME is ISO-8601 (2026-12-01T22:00:00Z, 2026-12-01). Log times without a zone are read in
DIALGUARD_TIMEZONE, a date without a year as the latest such date before the file was last written.
Exit status: 0 report printed, 2 bad usage or error.`;

export interface ForensicsIO extends CommandIO {
  /** A progress line for a terminal (overwritten in place); absent when stderr is not a TTY. */
  progress?(text: string): void;
}

export async function runForensics(config: Config, args: string[], io: ForensicsIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError('give at least one log FILE', FORENSICS_HELP);
  const since = timeOption('--since', values.since);
  const until = timeOption('--until', values.until);
  if (since !== undefined && until !== undefined && until <= since) throw new UsageError('--until must be after --since', FORENSICS_HELP);

  const geoip = openGeoIp(...(config.geoipPath === null ? [] : [config.geoipPath]));
  const database = describeDatabase(config.dbPath);
  const store = !isPostgresUrl(config.dbPath) && !existsSync(absoluteDatabase(config.dbPath)) ? null : await openStore(config, { existingDatabase: true });
  try {
    let last = 0;
    const report = await investigate({
      files: positionals,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      timezone: config.timezone,
      countryOf: (address) => geoip.country(address),
      audit: store,
      auditNote: store === null ? `no database at ${database}: the calls are not known` : `read from ${database}`,
      ...(io.progress
        ? {
            progress: (pass: 1 | 2, file: string, bytes: number, size: number) => {
              const now = Date.now();
              if (now - last < 200 && bytes < size) return;
              last = now;
              io.progress?.(`reading ${file} (${pass === 1 ? 'failures' : 'successes'}): ${size > 0 ? Math.floor((bytes / size) * 100) : 100}%`);
            },
          }
        : {}),
    });
    io.progress?.('');
    io.out(values.json ? toJson(report) : renderReport(report, config.timezone));
    return 0;
  } finally {
    await store?.close();
    geoip.close();
  }
}

function timeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${name} "${text}" is not an ISO-8601 time (2026-12-01T22:00:00Z)`, FORENSICS_HELP);
  return ms;
}

/** One JSON document, under shared/design.md's names. */
export function toJson(report: ForensicsReport): string {
  return JSON.stringify(forensicsDocument(report));
}
