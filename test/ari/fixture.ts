/**
 * dialguard's Stasis app in-process, against the ARI double, on a temporary database, with a
 * logger configured as `dialguard serve` configures it whose every line is kept.
 */
import { Writable } from 'node:stream';
import { startAriApp, type AriApp, type AriAppOptions } from '../../src/ari/app.js';
import { createDecisionQueue, type DecisionQueue } from '../../src/guard/decision-queue.js';
import type { GuardObserver } from '../../src/guard/observer.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { startAsteriskAri, type AriChannel, type AsteriskAri, type AsteriskAriOptions } from '../support/asterisk-ari.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

export const ARI_USER = 'dialguard';
/** Characters that URL and base64 encodings change, so that every encoded form can be looked for. */
export const ARI_PASSWORD = 'pw-Zq8!x:y@z/%+&=';
export const LAN = '192.168.1.20:5060';

export const POLICY = {
  defaults: {
    destinations: { allowCountries: ['US', 'CA', 'GB'] },
    budget: { dailySpend: 25, monthlySpend: 300, dailyMinutes: 600, maxConcurrent: 2, maxCallSeconds: 3600 },
  },
  extensions: {
    '1001': {},
    busy: { budget: { maxConcurrent: 5, dailySpend: 1000, monthlySpend: 10000, dailyMinutes: 100000 } },
  },
  rates: [
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: '+1', perMinute: 0.02, increment: 60 },
    { prefix: '+44', perMinute: 0.1, increment: 60 },
  ],
  site: { denyUnknownExtensions: false },
} as unknown as PolicyDocument;

export interface LogCapture {
  logger: Logger;
  /** Every line exactly as written. */
  lines: string[];
  records(): Array<Record<string, unknown> & { level: number; msg: string }>;
  messages(msg: string): Array<Record<string, unknown>>;
}

/** The production logger (redaction included) at debug level, into memory. */
export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('debug', stream);
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown> & { level: number; msg: string });
  return { logger, lines, records, messages: (msg) => records().filter((r) => r.msg === msg) };
}

export interface CountingObserver extends GuardObserver {
  decisions: Array<{ result: string; reason: string; transport: string }>;
  settlements: string[];
  errors: string[];
  /** Transports of the calls answered guard_error. */
  guardErrors: string[];
}

export function countingObserver(): CountingObserver {
  const o: CountingObserver = {
    decisions: [],
    settlements: [],
    errors: [],
    guardErrors: [],
    observeDecision: (d, transport) => void o.decisions.push({ result: d.result, reason: d.reason, transport }),
    observeSettlement: (outcome) => void o.settlements.push(outcome),
    observeError: (code) => void o.errors.push(code),
    observeGuardError: (transport, code) => {
      o.guardErrors.push(transport);
      o.errors.push(code);
    },
  };
  return o;
}

export interface AriFixture {
  asterisk: AsteriskAri;
  db: TempGuard;
  app: AriApp;
  logs: LogCapture;
  observer: CountingObserver;
  /** The real decision queue, for wrappers that delay it. */
  queue: DecisionQueue;
  close(): Promise<void>;
}

export interface FixtureOptions {
  app?: Partial<Omit<AriAppOptions, 'ari'>> & { password?: string };
  asterisk?: AsteriskAriOptions;
  /** Wrap the decision queue (delay it, make it fail). */
  decisions?: (real: DecisionQueue) => DecisionQueue;
  /** Wait for the websocket. Default true. */
  connected?: boolean;
}

export async function startAriFixture(options: FixtureOptions = {}): Promise<AriFixture> {
  const asterisk = await startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD, ...options.asterisk });
  const db = await tempGuard(POLICY);
  const logs = captureLogs();
  const observer = countingObserver();
  const queue = createDecisionQueue(db.guard);
  const { password = ARI_PASSWORD, ...appOptions } = options.app ?? {};
  const app = startAriApp({
    ari: { url: asterisk.url, user: ARI_USER, password, app: 'dialguard' },
    guard: db.guard,
    decisions: options.decisions ? options.decisions(queue) : queue,
    logger: logs.logger,
    observer,
    answerDeadlineMs: 500,
    retryDelayMs: 100,
    maxRetryDelayMs: 400,
    ...appOptions,
  });
  if (options.connected !== false) {
    // The double counts the websocket once it wrote its 101; the app, once it read it.
    await asterisk.waitForConnection();
    await until(() => app.connected, 5000, 'the app to see its websocket open');
  }
  return {
    asterisk,
    db,
    app,
    logs,
    observer,
    queue,
    async close() {
      await app.close();
      await asterisk.close();
      db.close();
    },
  };
}

/** The channel's way out of Stasis, or a test failure if it stays there. */
export async function leaves(channel: AriChannel, withinMs = 5000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<string>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`channel ${channel.id} still in Stasis after ${withinMs} ms`)), withinMs);
  });
  try {
    return await Promise.race([channel.left, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const DIALGUARD_VARIABLES = ['REASON', 'MESSAGE', 'LIMIT_MS', 'CALL_ID', 'E164', 'COUNTRY', 'RESULT'].map((v) => `DIALGUARD_${v}`);
