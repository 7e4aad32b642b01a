/**
 * The decision-path workload of scripts/store-timing.ts and scripts/store-ab.ts: a site policy
 * (busy-office velocity limits, or every limit at its largest) and requests from extensions in
 * turn to a mix of numbers (home, UK, premium and Jamaica denied, 911), 20 a second.
 */
import type { DecisionRequest } from '../src/domain/decision.js';

export const START = Date.parse('2026-11-17T15:00:00Z');

const velocity = (limit: number) => ({
  maxAttemptsPerMinute: limit,
  maxInternationalPerHour: limit,
  maxDistinctDestinationsPerHour: limit,
  maxDeniedPerHour: limit,
  maxNewCountriesPerHour: null,
  lockOnBreach: false,
});

export function site(busy: boolean): unknown {
  return {
    defaults: {
      destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR'] },
      geofence: { allowCidrs: ['10.0.0.0/8'], allowCountries: ['US'], unknownSource: 'deny' },
      budget: { dailySpend: 1e8, monthlySpend: 1e8, dailyMinutes: null, maxConcurrent: null, maxCallSeconds: 3600 },
      velocity: busy ? { ...velocity(500), maxAttemptsPerMinute: 200 } : velocity(100_000),
    },
    rates: [
      { prefix: '+', perMinute: 1, increment: 60 },
      { prefix: '+1', perMinute: 0.01, increment: 6 },
      { prefix: '+44', perMinute: 0.12, increment: 1 },
    ],
  };
}

const numbers = Array.from({ length: 5000 }, (_, i) => {
  const r = i % 20;
  if (r < 14) return `1212555${String(1000 + (i % 9000)).padStart(4, '0')}`;
  if (r < 16) return `01144207946${String(i % 10000).padStart(4, '0')}`;
  if (r < 18) return `1900555${String(1000 + (i % 9000)).padStart(4, '0')}`; // premium: denied
  if (r < 19) return `18765550${String(100 + (i % 900))}`; // Jamaica: denied
  return '911';
});

/** The i-th request, from extension 2000 + i mod `extensions`. */
export function request(i: number, extensions: number): DecisionRequest {
  return {
    extension: `${2000 + (i % extensions)}`,
    dialled: numbers[i % numbers.length] as string,
    source: '10.0.0.5:5060',
    origin: 'phone',
    // 20 decisions a second: the single extension's whole run stays inside the hour windows.
    at: new Date(START + i * 50),
    transport: 'agi',
    meta: { channel: `PJSIP/${2000 + (i % extensions)}-0000${i.toString(16)}`, uniqueid: `1795264997.${i}` },
  };
}
