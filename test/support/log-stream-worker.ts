/**
 * Reads an Asterisk log from stdin the way forensics does (split, parse, collect the failures)
 * and prints what it found and its peak RSS as one JSON line. Run with a small
 * --max-old-space-size: if reading kept the log, the heap limit would stop it.
 */
import { FailureCollector } from '../../src/forensics/attempts.js';
import { splitLines } from '../../src/security/log-files.js';
import { parseAsteriskLine } from '../../src/security/parse-line.js';

const context = { timezone: 'UTC', referenceMs: Date.parse('2026-12-02T00:00:00Z') };
const failures = new FailureCollector();
let lines = 0;
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
await splitLines(process.stdin, {
  line(text) {
    lines++;
    const parsed = parseAsteriskLine(text, context);
    if (parsed.kind === 'event') failures.add(parsed.event, 'stdin', text);
  },
});
clearInterval(sampler);
const sources = [...failures.sources.values()];
process.stdout.write(
  `${JSON.stringify({
    lines,
    sources: sources.length,
    attempts: sources.reduce((n, s) => n + s.attempts, 0),
    accountsOfFirst: failures.sources.get('198.51.0.0')?.accounts.size ?? 0,
    peakRss: Math.max(peakRss, process.memoryUsage().rss),
  })}\n`,
);
