import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** The packages under node_modules that loading `module` resolves (ESM and CommonJS), in a fresh process. */
function packagesLoadedBy(module: string): string[] {
  // A resolve hook reports every URL the loader resolves; require() inside CommonJS packages shows in require.cache.
  const hook = `let port; export function initialize(data) { port = data.port; } export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
  const script = `
    import { createRequire, register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const urls = [];
    port1.on('message', (url) => urls.push(url));
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
    await import(${JSON.stringify(resolve(root, module))});
    await new Promise((r) => setTimeout(r, 200));
    port1.close();
    const paths = [...urls, ...Object.keys(createRequire(import.meta.url).cache)];
    const names = paths.map((p) => {
      const at = p.lastIndexOf('node_modules/');
      if (at < 0) return null;
      const [scope = '', name = ''] = p.slice(at + 'node_modules/'.length).split('/');
      return scope.startsWith('@') ? scope + '/' + name : scope;
    }).filter(Boolean);
    process.stdout.write(JSON.stringify([...new Set(names)]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as string[];
}

describe('what an SQLite guard loads', () => {
  it('does not load the PostgreSQL driver or the mail library until a site uses them', () => {
    const loaded = packagesLoadedBy('src/server.ts');
    // The check sees what the guard does load, CommonJS (better-sqlite3) and ESM (libphonenumber-js).
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).toContain('libphonenumber-js');
    expect(loaded).not.toContain('pg');
    expect(loaded).not.toContain('nodemailer');
  });
});
