import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectLogFile, MAX_LINE_CHARS, readLogLines, splitLines } from '../../src/security/log-files.js';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const WORKER = join(import.meta.dirname, '../support/log-stream-worker.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-logs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesOf(chunks: Array<string | Buffer>): Promise<{ lines: string[]; overlong: number }> {
  const lines: string[] = [];
  let overlong = 0;
  await splitLines(Readable.from(chunks), { line: (l) => lines.push(l), overlong: () => overlong++ });
  return { lines, overlong };
}

describe('reading log files', () => {
  it('splits lines across chunks, CRLF and a UTF-8 character cut between chunks included', async () => {
    const euro = Buffer.from('€');
    const { lines } = await linesOf([Buffer.from('one\r\ntw'), Buffer.from('o\nthree '), euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\nlast')])]);
    expect(lines).toEqual(['one', 'two', 'three €', 'last']);
  });

  it('cuts an overlong line, whether it comes in one chunk or many, and goes on with the next', async () => {
    const long = 'x'.repeat(MAX_LINE_CHARS + 10);
    expect(await linesOf([`${long}\nafter\n`])).toEqual({ lines: ['x'.repeat(MAX_LINE_CHARS), 'after'], overlong: 1 });
    const pieces = Array.from({ length: 20 }, () => 'y'.repeat(10_000));
    expect(await linesOf([...pieces, '\nafter'])).toEqual({ lines: ['y'.repeat(MAX_LINE_CHARS), 'after'], overlong: 1 });
  });

  it('tells gzip by its bytes, not its name, and reports a truncated one', async () => {
    const text = '[2026-12-01 22:10:01.676] NOTICE[1] x.c: a\n[2026-12-01 22:10:01.676] NOTICE[1] x.c: b\n';
    writeFileSync(join(dir, 'messages.2'), gzipSync(text));
    writeFileSync(join(dir, 'messages.3.gz'), text);
    for (const name of ['messages.2', 'messages.3.gz']) {
      const info = await inspectLogFile(join(dir, name));
      expect(info.gzip).toBe(name === 'messages.2');
      const lines: string[] = [];
      await readLogLines(info, { line: (l) => lines.push(l) });
      expect(lines).toHaveLength(2);
    }
    writeFileSync(join(dir, 'cut.gz'), gzipSync(text.repeat(100)).subarray(0, 40));
    await expect(readLogLines(await inspectLogFile(join(dir, 'cut.gz')), { line: () => undefined })).rejects.toThrow(/^gzip: unexpected end of file/);
    await expect(inspectLogFile(join(dir, 'none'))).rejects.toThrow(/ENOENT/);
  });

  it('streams 200 MB of log through a pipe in bounded memory', async () => {
    // A scanner walking 50 accounts from 1000 addresses: 3 NOTICE lines per request, a VERBOSE line between.
    const generator = `
      const out = process.stdout;
      let i = 0, bytes = 0;
      const LIMIT = 200 * 1024 * 1024;
      function line(n) {
        const ip = '198.51.' + (Math.floor(n / 250) % 4) + '.' + (n % 250);
        const acct = 1000 + (Math.floor(n / 1000) % 50);
        const from = "Request 'REGISTER' from '<sip:" + acct + "@192.0.2.1>' failed for '" + ip + ":5060' (callid: " + n + "-1@" + ip + ")";
        const stamp = '[2026-12-01 22:' + String(10 + Math.floor(n / 600000) % 50).padStart(2, '0') + ':01.676] ';
        return stamp + 'NOTICE[16514] res_pjsip/pjsip_distributor.c: ' + from + ' - No matching endpoint found\\n'
          + stamp + 'NOTICE[16514] res_pjsip/pjsip_distributor.c: ' + from + ' - No matching endpoint found\\n'
          + stamp + 'NOTICE[16514] res_pjsip/pjsip_distributor.c: ' + from + ' - Failed to authenticate\\n'
          + stamp + 'VERBOSE[17229][C-00000001] pbx.c: Executing [0044207946000@lab-out:1] NoOp("PJSIP/1001-00000000", "x") in new stack\\n';
      }
      function write() {
        while (bytes < LIMIT) {
          let chunk = '';
          for (let k = 0; k < 200; k++) chunk += line(i++);
          bytes += chunk.length;
          if (!out.write(chunk)) return out.once('drain', write);
        }
        out.end();
      }
      write();`;
    // Generator | worker: a real pipe between two processes, the worker's heap capped below the log's size.
    const generatorProcess = spawn(process.execPath, ['-e', generator], { stdio: ['ignore', 'pipe', 'inherit'] });
    const worker = spawn(process.execPath, ['--max-old-space-size=96', '--import', TSX, WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    generatorProcess.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    generatorProcess.stdout.pipe(worker.stdin);
    let out = '';
    let err = '';
    worker.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    worker.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    const status = await new Promise<number | null>((resolveExit) => worker.once('close', resolveExit));
    expect(err).toBe('');
    expect(status).toBe(0);
    const result = JSON.parse(out) as { lines: number; sources: number; attempts: number; accountsOfFirst: number; peakRss: number };
    expect(bytes).toBeGreaterThanOrEqual(200 * 1024 * 1024);
    expect(result.sources).toBe(1000);
    expect(result.attempts).toBe(result.lines / 4);
    expect(result.accountsOfFirst).toBe(50);
    // Loose: holding the log would take more than its 200 MB.
    expect(result.peakRss).toBeLessThan(200 * 1024 * 1024);
  }, 300_000);
});
