import { fileURLToPath } from 'node:url';

/**
 * A file or folder of the installed package, by its path in the package (`dialplan/`): it is two
 * levels up both from src/cli (a clone) and from dist/cli (an npm install, global or not).
 */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}
