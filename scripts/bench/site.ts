/**
 * The bench's site: a policy per department over 2,000 extensions, a full rate table, budget and
 * velocity checks on at busy-office limits, and a workload of many numbers from every extension
 * in turn. One more extension, ONE_EXTENSION, has its limits as high as the policy accepts (spend
 * 10^8 a day and a month; velocity 10^5, the policy's maximum; 10^4 calls at once), so that all
 * traffic can come from it without a breach: the cost of a decision must not depend on limits or
 * history.
 */
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/max';
import { validateDocument } from '../../src/policy/document.js';
import { openStore } from '../../src/store/open-store.js';
import { authorizeEnv } from '../../test/support/asterisk-agi.js';
import { seededRandom } from '../../test/support/seeded-random.js';

export const EXTENSIONS = 2000;
export const ONE_EXTENSION = '9999';
const HUGE = 1e8;
/** The largest velocity limit a policy accepts (src/policy validation). */
const VELOCITY_MAX = 100_000;

export function sitePolicy(): unknown {
  const extensions: Record<string, unknown> = {};
  for (let i = 0; i < EXTENSIONS; i++) {
    extensions[`${2000 + i}`] =
      i % 10 === 0
        ? { destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR', 'MX'] }, voicemailCallout: 'domestic' }
        : i % 7 === 0
          ? { schedule: { appliesTo: 'international', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] } }
          : {};
  }
  extensions[ONE_EXTENSION] = {
    budget: { dailySpend: HUGE, monthlySpend: HUGE, dailyMinutes: 14_400_000, maxConcurrent: 10_000, maxCallSeconds: 3600 },
    velocity: {
      maxAttemptsPerMinute: VELOCITY_MAX,
      maxInternationalPerHour: VELOCITY_MAX,
      maxDistinctDestinationsPerHour: VELOCITY_MAX,
      maxDeniedPerHour: VELOCITY_MAX,
      maxNewCountriesPerHour: VELOCITY_MAX,
      lockOnBreach: false,
    },
  };
  const rates = [{ prefix: '+', perMinute: 1, increment: 60 }];
  for (const country of getCountries()) {
    const cc = `+${getCountryCallingCode(country)}`;
    if (!rates.some((r) => r.prefix === cc)) rates.push({ prefix: cc, perMinute: 0.05 + (cc.length % 5) / 10, increment: 60 });
  }
  rates.push({ prefix: '+1', perMinute: 0.01, increment: 6 }, { prefix: '+447', perMinute: 0.12, increment: 1 }, { prefix: '+491', perMinute: 0.15, increment: 1 });
  return {
    defaults: {
      destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR'], blockedPrefixes: ['+88213'] },
      schedule: { timezone: 'America/New_York', appliesTo: 'none', windows: [] },
      geofence: { allowCidrs: ['10.0.0.0/8', '192.168.0.0/16', '198.51.100.0/24'], allowCountries: ['US', 'CA'], unknownSource: 'deny' },
      // Budgets that a busy office does not reach, so that reservations pile up as the RSS run asks.
      budget: { dailySpend: HUGE, monthlySpend: HUGE, dailyMinutes: null, maxConcurrent: null, maxCallSeconds: 3600 },
      // Velocity on and counting every call, with busy-office limits that a bench run's calls
      // per extension stay under.
      velocity: {
        maxAttemptsPerMinute: 200,
        maxInternationalPerHour: 500,
        maxDistinctDestinationsPerHour: 500,
        maxDeniedPerHour: 500,
        maxNewCountriesPerHour: null,
        lockOnBreach: false,
      },
    },
    extensions,
    rates: rates.filter((r, i, all) => all.findIndex((x) => x.prefix === r.prefix) === i),
  };
}

/** The site's policy imported into a fresh store at `database` (a SQLite path or a PostgreSQL URL). */
export async function seedSite(database: string): Promise<void> {
  const store = await openStore({ database, lockWaitMs: 5000, reservationGraceSeconds: 300 });
  try {
    await store.importDocument(validateDocument(sitePolicy()), 'bench', () => undefined);
    // The site circuit breaker would open on the bench's international spend within seconds.
    await store.setCircuitBreakerLimit(null, 'bench', new Date());
  } finally {
    await store.close();
  }
}

/**
 * 5,000 sessions' environments as Asterisk writes them (lines ending "\n"), from the 2,000
 * extensions in turn, or all from `ext`: mostly domestic numbers, some international, some
 * denied (Jamaica, premium), a few emergency calls; sources on and off the allowed networks.
 */
export function workload(ext?: string): string[][] {
  const rnd = seededRandom(42);
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const areas = ['212', '312', '415', '617', '202', '305', '713', '206'];
  const numbers: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const r = rnd();
    if (r < 0.7) numbers.push(`1${areas[i % areas.length]}${2 + Math.floor(rnd() * 8)}${digits(6)}`);
    else if (r < 0.8) numbers.push(`01144207946${digits(4)}`);
    else if (r < 0.88) numbers.push(`0114930${digits(8)}`);
    else if (r < 0.93) numbers.push(`18765${digits(6)}`); // Jamaica: denied
    else if (r < 0.97) numbers.push(`1900${2 + Math.floor(rnd() * 8)}${digits(6)}`); // premium: denied
    else numbers.push('911');
  }
  const sources = ['192.168.1.20:5060', '10.1.2.3:5060', '[2001:db8::1]:5060', '8.8.8.8:5060', '80.128.0.1:5060', ''];
  const sourceWeights = [0.5, 0.3, 0.02, 0.1, 0.05, 0.03];
  const pickSource = (): string => {
    let r = rnd();
    for (let i = 0; i < sources.length; i++) if ((r -= sourceWeights[i] as number) < 0) return sources[i] as string;
    return sources[0] as string;
  };
  return numbers.map((number, i) =>
    authorizeEnv({ ext: ext ?? `${2000 + (i % EXTENSIONS)}`, number, source: pickSource(), origin: i % 50 === 0 ? 'voicemail' : 'phone', uniqueid: `1795264997.${i}` }).map(
      ([k, v]) => `${k}: ${v}\n`,
    ),
  );
}
