/**
 * One authenticated GET of /ari/api-docs/resources.json before ari-client loads the API: it
 * tells a wrong password (401) from an unreachable or foreign server in words an administrator
 * can act on, and it keeps ari-client away from answers its swagger loader cannot survive (a
 * body that is not JSON, or an API listing without paths, throws from inside its HTTP callback).
 */
export type PreflightFailure = { state: 'unauthorized' | 'unreachable' | 'failed'; reason: string };

export async function preflight(origin: string, user: string, password: string, timeoutMs: number): Promise<PreflightFailure | null> {
  const url = `${origin}/ari/api-docs/resources.json`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { state: 'unreachable', reason: networkReason(err) };
  }
  if (response.status === 401) {
    await response.body?.cancel();
    return { state: 'unauthorized', reason: `HTTP 401 from ${url}` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { state: 'failed', reason: `HTTP ${response.status} from ${url}` };
  }
  let listing: unknown;
  try {
    listing = await response.json();
  } catch {
    return { state: 'failed', reason: `${url} is not JSON: is this Asterisk's ARI (http.conf, ari.conf)?` };
  }
  if (!isApiListing(listing)) return { state: 'failed', reason: `${url} does not list ARI resources` };
  return null;
}

function isApiListing(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const apis = (value as { apis?: unknown }).apis;
  return Array.isArray(apis) && apis.length > 0 && apis.every((a) => typeof a === 'object' && a !== null && typeof (a as { path?: unknown }).path === 'string');
}

/** fetch() says only "fetch failed"; the reason is in its cause (ECONNREFUSED, timeout…). */
function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) return (cause as Error & { code?: string }).code ?? cause.message;
  return err instanceof Error ? err.message : String(err);
}
