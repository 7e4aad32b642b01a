import type { CheckContext } from '../../src/engine/checks/check.js';
import { EMPTY_USAGE } from '../../src/domain/usage.js';
import { normalizeNumber } from '../../src/numbers/normalize.js';

/** The context a check sees for a call from a known, unlocked extension with no source and no usage. */
export function callTo(dialled: string, homeCountry = 'US', accessPrefix = ''): CheckContext {
  return {
    request: { extension: '1001', dialled, source: '', origin: 'phone', at: new Date('2025-01-06T12:00:00Z'), transport: 'cli' },
    number: normalizeNumber(dialled, { homeCountry, accessPrefix }),
    source: { ip: null, country: null },
    extension: { known: true, locked: false, lockReason: null },
    usage: EMPTY_USAGE,
    homeCountry,
    standing: null,
  };
}
