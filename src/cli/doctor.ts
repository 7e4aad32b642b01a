import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { CHECK_NAMES, diagnose } from '../doctor/doctor.js';
import { result, type CheckResult } from '../doctor/verdict.js';
import { UsageError, type CommandIO } from './io.js';

export const DOCTOR_HELP = `dialguard doctor [--json] [--timeout MS] [--geoip-max-age DAYS]
                                check this site: the configuration, the database, GeoIP (warns past 60 days),
                                home country and time zone, the FastAGI listener and the admin API of a running
                                serve, ARI, AMI, SMTP, the clock. One line each: ok, warn, FAIL or skip.
                                Exit status: 0 when nothing failed, 1 when something did, 2 bad usage.`;

export interface DoctorCommandOptions {
  configFile?: string;
  db?: string;
  args: string[];
}

export async function runDoctor(options: DoctorCommandOptions, io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args: options.args,
    options: { json: { type: 'boolean', default: false }, timeout: { type: 'string', default: '3000' }, 'geoip-max-age': { type: 'string', default: '60' } },
    allowPositionals: false,
    strict: true,
  });
  const timeoutMs = wholeNumber('--timeout', values.timeout);
  const geoipMaxAgeDays = wholeNumber('--geoip-max-age', values['geoip-max-age']);
  const configFile = options.configFile ?? process.env.DIALGUARD_CONFIG;

  const checks: CheckResult[] = [];
  let config: Config | null = null;
  try {
    config = loadConfig({ configFile: options.configFile, flags: { db: options.db } });
    const set = Object.keys(process.env).filter((k) => k.startsWith('DIALGUARD_')).sort();
    const source = configFile ? `${configFile} parses` : 'no config file: the embedded defaults';
    checks.push(result('config', 'ok', `${source}${set.length ? `; the environment sets ${set.join(', ')}` : ''}`));
  } catch (error) {
    checks.push(result('config', 'fail', (error as Error).message));
  }
  if (config) checks.push(...(await diagnose(config, { timeoutMs, geoipMaxAgeDays, env: process.env })));
  else checks.push(...CHECK_NAMES.map((name) => result(name, 'skip', 'needs a configuration that loads')));

  const failed = checks.some((c) => c.verdict === 'fail');
  if (values.json) io.out(JSON.stringify({ ok: !failed, checks }));
  else for (const c of checks) io.out(`${(c.verdict === 'fail' ? 'FAIL' : c.verdict).padEnd(4)}  ${c.name.padEnd(9)}  ${c.detail}`);
  return failed ? 1 : 0;
}

function wholeNumber(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number`, DOCTOR_HELP);
  return n;
}
