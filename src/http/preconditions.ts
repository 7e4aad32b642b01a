import { DialguardError } from '../errors.js';

/**
 * Optimistic concurrency on policy writes. A resource's ETag is the policy version of its last
 * change; a write with `If-Match` applies only if that is still current (RFC 9110 13.1.1), so
 * two admins editing one extension cannot silently overwrite each other.
 */

export const etag = (version: number): string => `"${version}"`;

export class StaleVersionError extends DialguardError {
  constructor(current: number | null) {
    super(
      'DG_STALE_VERSION',
      current === null ? 'If-Match given, but there is nothing to match: it does not exist' : `changed since you read it: the current version is ${current}`,
      { current },
    );
    this.name = 'StaleVersionError';
  }
}

/**
 * Throws unless `ifMatch` (the header, if any) matches `current` (null: the resource does not
 * exist). `*` matches anything that exists; a list matches if any member does. `W/` is
 * tolerated: versions are exact, so a weak and a strong tag of one version mean the same.
 */
export function checkIfMatch(ifMatch: string | undefined, current: number | null): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
  const matches = current !== null && tags.some((tag) => tag === '*' || tag === String(current));
  if (!matches) throw new StaleVersionError(current);
}
