/**
 * Says what is missing, e.g. "no Chromium at /usr/bin/chromium: apt-get install -y chromium", or
 * null when the dependency is there.
 */
export type DependencyProbe = () => string | null | Promise<string | null>;

export interface RequireOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the loud message goes outside CI. Default: stderr. */
  warn?: (message: string) => void;
}

/** CI sets CI=true (.ci/run runs under it); "false" and "0" are how a developer turns it off. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/**
 * For test files that need something outside the project (Chromium, a PostgreSQL server), used as
 * `describe.runIf(await requireDependency('Chromium', probe))`. Under CI a missing dependency throws,
 * so the file fails and the run with it: CI never passes by skipping what it was meant to test.
 * Elsewhere the file is skipped with a message that names what is missing and how to get it, and the
 * closing line counts its tests as skipped.
 */
export async function requireDependency(name: string, probe: DependencyProbe, options: RequireOptions = {}): Promise<boolean> {
  const missing = await probe();
  if (missing === null) return true;
  if (underCi(options.env)) throw new Error(`${name} is required under CI=true: ${missing}`);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  warn(`\n*** SKIPPED: these tests need ${name}: ${missing}. Under CI=true they fail instead. ***\n`);
  return false;
}
