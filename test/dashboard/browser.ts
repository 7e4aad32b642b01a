import { execFileSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '../support/captures.js';

/** Debian's chromium (apt-get install chromium); .ci/run installs it when missing. */
export const CHROMIUM = process.env.DIALGUARD_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(repoRoot, 'test-artifacts');

/**
 * What every dashboard response must carry, written out here rather than imported, so that a
 * change to the policy in src/http/static.ts has to be made on purpose in the test too.
 */
export const DASHBOARD_HEADERS = {
  'content-security-policy': "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
} as const;

/** The flags known to work here: without the networking ones Chromium keeps calling Google's hosts on a closed network. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** For requireDependency: what is missing when Chromium cannot be started. */
export function chromiumMissing(): string | null {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return null;
  } catch {
    return `no executable Chromium at ${CHROMIUM}: apt-get install -y chromium (or set DIALGUARD_CHROMIUM)`;
  }
}

export async function launchChromium(): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  mkdirSync(ARTIFACTS, { recursive: true });
  // playwright-core gives each launch a fresh, empty user data directory.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/**
 * The page as the sources say now: the same steps as `npm run build` for dist/web, which `serve`
 * from the sources serves. Built aside, then each file renamed into place, so that test files
 * building at the same time never serve a half-written script.
 */
export function buildDashboard(): void {
  const aside = join(repoRoot, 'dist', `.web-build-${process.pid}`);
  const web = join(repoRoot, 'dist/web');
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.web.json'), '--outDir', aside], { cwd: repoRoot, stdio: 'inherit' });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(repoRoot, 'src/web', file), join(aside, file));
  mkdirSync(web, { recursive: true });
  for (const file of readdirSync(aside)) renameSync(join(aside, file), join(web, file));
  rmSync(aside, { recursive: true, force: true });
}
