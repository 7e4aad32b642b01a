import type { SecurityEvent } from '../domain/security.js';
import { inspectLogFile, readLogLines, type LogFileInfo } from '../security/log-files.js';
import { parseAsteriskLine } from '../security/parse-line.js';
import type { AuditStore } from '../store/roles/audit.js';
import { FailureCollector } from './attempts.js';
import { findCalls } from './calls.js';
import { buildReport, type FileReport, type ForensicsReport } from './report.js';
import { TakeoverCollector } from './takeovers.js';

export interface InvestigateOptions {
  files: readonly string[];
  /** Epoch ms, inclusive; events and calls before it are left out. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** The zone the PBX writes its log times in. */
  timezone: string;
  countryOf(address: string): string | null;
  /** The guard's audit; null when there is none to read (`auditNote` says why). */
  audit: AuditStore | null;
  auditNote: string;
  /** Called as files are read: pass 1 or 2, the file, bytes read of its size. */
  progress?(pass: 1 | 2, file: string, bytes: number, size: number): void;
}

// Only these lines can hold a success: the second reading parses nothing else.
const SUCCESS_MARKERS = ['SuccessfulAuth', 'Added contact', 'is now Reachable', 'Registered SIP', 'logged on from'];

/**
 * Reads the logs twice, streaming: first every failed authentication (by source, by account),
 * then the successes, judged against all the failures (a success is suspicious when its source
 * failed before it, whichever file either is in). Then the audit, once.
 */
export async function investigate(options: InvestigateOptions): Promise<ForensicsReport> {
  const files: FileReport[] = [];
  const readable: Array<{ info: LogFileInfo; report: FileReport }> = [];
  // A file named twice (messages* and messages) is one file: read twice, it would count its log twice.
  for (const path of new Set(options.files)) {
    const report: FileReport = { path, lines: 0, events: 0, ignored: 0, unrecognised: 0, overlong: 0, securityEvents: 0 };
    files.push(report);
    try {
      readable.push({ info: await inspectLogFile(path), report });
    } catch (err) {
      report.error = (err as Error).message;
    }
  }
  // Oldest first: the rotations of a log are read in the order they were written (src/forensics/repeats.ts).
  readable.sort((a, b) => a.info.mtimeMs - b.info.mtimeMs);
  const inWindow = (e: SecurityEvent): boolean => (options.since === undefined || e.at >= options.since) && (options.until === undefined || e.at < options.until);

  const failures = new FailureCollector();
  for (const { info, report } of readable) {
    const context = { timezone: options.timezone, referenceMs: info.mtimeMs };
    try {
      await readLogLines(info, {
        line(text) {
          report.lines++;
          const parsed = parseAsteriskLine(text, context);
          if (parsed.kind !== 'event') {
            report[parsed.kind]++;
            return;
          }
          report.events++;
          if (text.includes('SecurityEvent="')) report.securityEvents++;
          if (inWindow(parsed.event)) failures.add(parsed.event, info.path, text);
        },
        overlong: () => report.overlong++,
        progress: (bytes) => options.progress?.(1, info.path, bytes, info.size),
      });
    } catch (err) {
      report.error = (err as Error).message;
    }
  }

  const successes = new TakeoverCollector(failures.sources, failures.accounts, options.countryOf);
  for (const { info, report } of readable) {
    if (report.error !== undefined) continue;
    const context = { timezone: options.timezone, referenceMs: info.mtimeMs };
    try {
      await readLogLines(info, {
        line(text) {
          if (!SUCCESS_MARKERS.some((m) => text.includes(m))) return;
          const parsed = parseAsteriskLine(text, context);
          if (parsed.kind === 'event' && inWindow(parsed.event)) successes.add(parsed.event, info.path, text);
        },
        progress: (bytes) => options.progress?.(2, info.path, bytes, info.size),
      });
    } catch (err) {
      report.error = (err as Error).message;
    }
  }
  const takeovers = successes.result();

  const sources = [...failures.sources.values()];
  const addresses = new Set(sources.map((s) => s.address));
  const perNetwork = new Map<string, number>();
  for (const s of sources) perNetwork.set(s.network, (perNetwork.get(s.network) ?? 0) + 1);
  const rotating = new Set([...perNetwork].filter(([, n]) => n > 1).map(([network]) => network));
  const calls =
    options.audit === null
      ? null
      : await findCalls(options.audit, {
          addresses,
          networks: rotating,
          takeovers,
          ...(options.since !== undefined ? { from: options.since } : {}),
          ...(options.until !== undefined ? { to: options.until } : {}),
        });
  return buildReport({ files, sources, accounts: failures.accounts, takeovers, calls, countryOf: options.countryOf, since: options.since, until: options.until, auditNote: options.auditNote });
}
