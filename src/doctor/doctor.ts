import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import { DateTime } from 'luxon';
import { createMailer, mailServerName } from '../alerts/mail.js';
import { checkAriSettings } from '../ari/client.js';
import { probeAmi } from '../ami/probe.js';
import { preflight } from '../ari/preflight.js';
import { amiUrlForLog, formatAddress, localAddress, type Config } from '../config/config.js';
import { defaultGeoIpPath, geoIpBuiltAt } from '../geo/geoip.js';
import { openStore } from '../runtime.js';
import { describeDatabase } from '../store/open-store.js';
import { ntpState } from './ntp.js';
import { probeTcp } from './tcp-probe.js';
import { result, type CheckResult } from './verdict.js';

export interface DoctorOptions {
  /** Each network check (FastAGI, admin API, ARI, AMI, SMTP, timedatectl) is given up after this. */
  timeoutMs: number;
  /** A GeoIP database older than this is a warning: addresses move between countries. */
  geoipMaxAgeDays: number;
  env: NodeJS.ProcessEnv;
}

/** The checks after the configuration, in the order they are printed. */
export const CHECK_NAMES = ['database', 'geoip', 'locale', 'fastagi', 'admin-api', 'ari', 'ami', 'mail', 'clock'] as const;

const DAY_MS = 86_400_000;
const dayOf = (date: Date): string => date.toISOString().slice(0, 10);
const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Everything `dialguard doctor` checks on a configuration that loaded. Nothing is changed: the
 * database is only probed the way readiness probes it (the store's checkWritable), no call is
 * placed, no alert sent, and the FastAGI listener only sees a connection that closes at once.
 */
export async function diagnose(config: Config, options: DoctorOptions): Promise<CheckResult[]> {
  const now = new Date();
  const geoip = geoipCheck(config, options, now);
  const [database, fastagi, adminApi, ari, ami, mail, clock] = await Promise.all([
    databaseCheck(config),
    fastagiCheck(config, options),
    adminApiCheck(config, options),
    ariCheck(config, options),
    amiCheck(config, options),
    mailCheck(config, options),
    clockCheck(now, geoip.builtAt, options),
  ]);
  return [database, geoip.check, localeCheck(config, now), fastagi, adminApi, ari, ami, mail, clock];
}

async function databaseCheck(config: Config): Promise<CheckResult> {
  let store;
  try {
    store = await openStore(config, { existingDatabase: true });
  } catch (error) {
    const text = reason(error);
    const where = describeDatabase(config.dbPath);
    return result('database', 'fail', text.includes(where) ? text : `${where}: ${text}`);
  }
  try {
    await store.checkWritable();
    return result('database', 'ok', `${describeDatabase(config.dbPath)}: opens, schema up to date, writable (the store's write probe)`);
  } catch (error) {
    return result('database', 'fail', `${describeDatabase(config.dbPath)} is not writable: ${reason(error)}`);
  } finally {
    await store.close();
  }
}

/** The database in use, and every GeoIP build date seen: a clock before one of them is wrong. */
function geoipCheck(config: Config, options: DoctorOptions, now: Date): { check: CheckResult; builtAt: Array<{ what: string; at: Date }> } {
  const builtAt: Array<{ what: string; at: Date }> = [];
  const shipped = defaultGeoIpPath();
  if (config.geoipPath !== null) {
    try {
      builtAt.push({ what: 'the shipped GeoIP database', at: geoIpBuiltAt(shipped) });
    } catch {
      // The shipped file only gives the clock a lower bound; the one in use is checked below.
    }
  }
  const path = config.geoipPath ?? shipped;
  const name = config.geoipPath === null ? `the shipped DB-IP Lite (${path})` : path;
  let at: Date;
  try {
    at = geoIpBuiltAt(path);
  } catch (error) {
    return { check: result('geoip', 'fail', reason(error)), builtAt };
  }
  builtAt.push({ what: `the GeoIP database ${path}`, at });
  const age = Math.floor((now.getTime() - at.getTime()) / DAY_MS);
  if (age <= options.geoipMaxAgeDays) return { check: result('geoip', 'ok', `${name}: built ${dayOf(at)}, ${Math.max(0, age)} days ago`), builtAt };
  const fresher = config.geoipPath === null ? 'npm update -g dialguard brings a newer one, or set DIALGUARD_GEOIP_DB to a GeoLite2 Country you keep fresh' : 'update it (geoipupdate)';
  return { check: result('geoip', 'warn', `${name}: built ${dayOf(at)}, ${age} days ago (over ${options.geoipMaxAgeDays}): ${fresher}`), builtAt };
}

function localeCheck(config: Config, now: Date): CheckResult {
  const country = new Intl.DisplayNames(['en'], { type: 'region' }).of(config.homeCountry) ?? config.homeCountry;
  const offset = DateTime.fromJSDate(now).setZone(config.timezone).toFormat('ZZ');
  const detail = `home country ${config.homeCountry} (${country}, +${getCountryCallingCode(config.homeCountry as CountryCode)}), time zone ${config.timezone} (UTC${offset} now)`;
  // Servers often run on UTC; a PBX's schedules and budget days rarely should.
  if (/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu|Greenwich)$/.test(config.timezone)) {
    return result('locale', 'warn', `${detail}: schedules and budget days follow UTC; set DIALGUARD_TIMEZONE to the site's zone unless that is meant`);
  }
  return result('locale', 'ok', detail);
}

async function fastagiCheck(config: Config, options: DoctorOptions): Promise<CheckResult> {
  const target = localAddress(config.agiListen);
  const shown = formatAddress(target.host, target.port);
  const probe = await probeTcp(target, options.timeoutMs);
  switch (probe.state) {
    case 'open':
      return result('fastagi', 'ok', `${shown} accepts TCP connections from this machine (a listener is there and lets this host in; admin-api says whether it is dialguard)`);
    case 'dropped':
      return result('fastagi', 'fail', `${shown} accepted and closed at once: this machine is not in DIALGUARD_AGI_ALLOW, or the guard is at DIALGUARD_AGI_MAX_CONNECTIONS`);
    case 'timeout':
      return result('fastagi', 'fail', `${shown}: no TCP handshake within ${options.timeoutMs} ms (a firewall dropping it?); Asterisk gives up after 2 s`);
    case 'refused':
      return result('fastagi', 'fail', `${shown}: nothing listens (${probe.code}): is dialguard serve running with this configuration?`);
  }
}

async function adminApiCheck(config: Config, options: DoctorOptions): Promise<CheckResult> {
  const target = localAddress(config.httpListen);
  const url = `http://${formatAddress(target.host, target.port)}`;
  let response: Response;
  try {
    response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `nothing answers (${cause ?? reason(error)})`;
    return result('admin-api', 'fail', `${url}: ${why}: is dialguard serve running with this configuration?`);
  }
  const body = (await response.json().catch(() => null)) as { status?: string; checks?: Record<string, boolean> } | null;
  if (!body?.checks || (response.status !== 200 && response.status !== 503)) {
    return result('admin-api', 'fail', `${url}/readyz answered HTTP ${response.status} without a readiness report: something else listens there`);
  }
  const names = Object.keys(body.checks);
  if (response.status === 200) return result('admin-api', 'ok', `${url}/ is dialguard, ready (${names.join(', ')}); the dashboard is there`);
  const failing = names.filter((n) => body.checks?.[n] === false);
  return result('admin-api', 'fail', `${url}/readyz: dialguard is running but not ready: ${failing.join(', ')} false`);
}

async function ariCheck(config: Config, options: DoctorOptions): Promise<CheckResult> {
  if (!config.ari) return result('ari', 'skip', 'not configured (DIALGUARD_ARI_URL)');
  let origin: string;
  try {
    origin = checkAriSettings(config.ari);
  } catch (error) {
    return result('ari', 'fail', reason(error));
  }
  // The same authenticated request the ARI app makes before it connects: credentials, and that this is ARI.
  const failure = await preflight(origin, config.ari.user, config.ari.password, options.timeoutMs);
  if (failure === null) return result('ari', 'ok', `${origin} accepts user "${config.ari.user}" (an authenticated GET /ari/api-docs/resources.json listed the ARI resources)`);
  const hint =
    failure.state === 'unauthorized'
      ? `Asterisk refused user "${config.ari.user}": check DIALGUARD_ARI_USER and DIALGUARD_ARI_PASSWORD against ari.conf`
      : failure.state === 'unreachable'
        ? `unreachable: check DIALGUARD_ARI_URL and http.conf (enabled, bindaddr, bindport)`
        : 'not an ARI answer: check http.conf and ari.conf (enabled = yes)';
  return result('ari', 'fail', `${origin}: ${failure.reason}: ${hint}`);
}

/** The login serve makes for security events; `read = security` itself cannot be seen without an event. */
async function amiCheck(config: Config, options: DoctorOptions): Promise<CheckResult> {
  if (!config.ami) return result('ami', 'skip', 'not configured (DIALGUARD_AMI_URL)');
  const url = amiUrlForLog(config.ami);
  const probe = await probeAmi(config.ami, options.timeoutMs);
  if (probe.ok) return result('ami', 'ok', `${url} accepts user "${config.ami.user}" (${probe.banner}; logged in and off; give it read = security in manager.conf)`);
  const hint =
    probe.reason === 'refused'
      ? `Asterisk refused user "${config.ami.user}": check the user and secret of DIALGUARD_AMI_URL against manager.conf, and its permit/deny for this address`
      : probe.reason === 'not_ami'
        ? 'not AMI: check the port of DIALGUARD_AMI_URL (5038 by default)'
        : 'check DIALGUARD_AMI_URL and manager.conf [general] (enabled = yes, port, bindaddr)';
  return result('ami', 'fail', `${url}: ${probe.detail}: ${hint}`);
}

async function mailCheck(config: Config, options: DoctorOptions): Promise<CheckResult> {
  const mail = config.alerts.mail;
  if (!mail) return result('mail', 'skip', 'alert mail not configured (DIALGUARD_ALERT_SMTP)');
  const verified = await createMailer(mail, { timeoutMs: options.timeoutMs }).verify();
  if (!verified.ok) return result('mail', 'fail', verified.error);
  const login = mail.auth ? `accepts the login of ${mail.auth.user}` : 'accepts a session without login';
  return result('mail', 'ok', `${mailServerName(mail)} ${login} (nothing sent); alerts go to ${mail.to.join(', ')}`);
}

async function clockCheck(now: Date, builtAt: Array<{ what: string; at: Date }>, options: DoctorOptions): Promise<CheckResult> {
  const later = builtAt.filter((b) => b.at.getTime() > now.getTime()).sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  if (later) return result('clock', 'fail', `the clock says ${now.toISOString()}, before ${later.what} was built (${later.at.toISOString()}): set the time (NTP)`);
  const ntp = await ntpState(options.timeoutMs);
  const base = `${now.toISOString()}, after every build date known`;
  if (!ntp.known) return result('clock', 'ok', `${base}; NTP state unknown (${ntp.why})`);
  if (ntp.synchronized) return result('clock', 'ok', `${base}; NTP synchronised`);
  return result('clock', 'warn', `${base}; NTP not synchronised (timedatectl): budget days, schedules, sliding windows and webhook signatures follow this clock`);
}
