import { readFileSync } from 'node:fs';

/**
 * The installed package's version. package.json is two levels up both from src/cli (a clone) and
 * from dist/cli (an npm install), and npm always ships it.
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
