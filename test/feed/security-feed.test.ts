import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { startSecurityFeed, type SecurityFeed } from '../../src/feed/security-feed.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { memoryLogger } from '../agi/memory-logger.js';
import { until } from '../ari/fixture.js';
import { captureEventBlocks, startAsteriskAmi, type AsteriskAmi } from '../support/asterisk-ami.js';
import { amiCaptureBlocks, captureLines } from '../support/security-captures.js';

const USER = 'dgsec';
const SECRET = 'dgsecret';
const captured = amiCaptureBlocks().filter((b) => b.Event !== undefined);
const countOf = (...names: string[]): number => captured.filter((b) => names.includes(b.Event as string)).length;

let dir: string;
let asterisk: AsteriskAmi | undefined;
let feed: SecurityFeed | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-feed-'));
});

afterEach(async () => {
  await feed?.close();
  await asterisk?.close();
  feed = undefined;
  asterisk = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** The metrics the feed writes; the store is only read by other gauges at a full scrape. */
function metrics(): Metrics {
  return createMetrics({ countActiveReservations: async () => 0, circuitBreaker: async () => ({ open: false }) } as unknown as Parameters<typeof createMetrics>[0]);
}

async function value(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  const data = await metric?.get();
  return data?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('security feed', () => {
  it('hands AMI and security-log events to the sink and counts them by source and kind', async () => {
    const blocks = captureEventBlocks();
    asterisk = await startAsteriskAmi({
      user: USER,
      secret: SECRET,
      afterLogin: () => [...blocks.slice(0, 5), Buffer.from('garbage\r\n\r\n'), ...blocks.slice(5)],
    });
    const log = join(dir, 'security');
    writeFileSync(log, 'written before the guard started\n');
    const accepted: Array<{ event: SecurityEvent }> = [];
    const m = metrics();
    const { logger, records } = memoryLogger();
    feed = startSecurityFeed({
      ami: { host: '127.0.0.1', port: asterisk.port, user: USER, secret: SECRET },
      securityLog: log,
      timezone: 'UTC',
      sink: { accept: (event) => accepted.push({ event }) },
      logger,
      metrics: m,
      fileTuning: { pollIntervalMs: 20 },
    });
    // Both sources give the same events: said once, at start.
    expect(records.filter((r) => r.level === 40 && r.msg === 'security events from both AMI and the security log: each event is read twice')).toHaveLength(1);
    const securityCount = countOf('InvalidAccountID', 'ChallengeSent', 'ChallengeResponseFailed', 'SuccessfulAuth', 'InvalidPassword');
    await until(() => accepted.length === securityCount, 5000, 'the AMI events');
    expect(await value(m, 'dialguard_ami_connected')).toBe(1);
    expect(await value(m, 'dialguard_security_events_total', { source: 'ami', kind: 'failed_auth' })).toBe(countOf('ChallengeResponseFailed', 'InvalidPassword'));
    expect(await value(m, 'dialguard_security_events_total', { source: 'ami', kind: 'invalid_account' })).toBe(countOf('InvalidAccountID'));
    expect(await value(m, 'dialguard_security_events_total', { source: 'ami', kind: 'successful_auth' })).toBe(countOf('SuccessfulAuth'));
    // FullyBooted, PeerStatus and ContactStatus are not security events: not ours, not faults.
    expect(await value(m, 'dialguard_security_events_unparsed_total', { source: 'ami' })).toBe(1);
    expect(await value(m, 'dialguard_security_events_unparsed_total', { source: 'file' })).toBe(0);

    const lines = captureLines('capture2-security.log');
    appendFileSync(log, `${lines.join('\n')}\nnot a security line\n`);
    await until(() => accepted.length === securityCount + lines.length - 1, 5000, 'the log events');
    // The header line is ignored; the garbage line is counted; the line from before the start is not read.
    expect(await value(m, 'dialguard_security_events_unparsed_total', { source: 'file' })).toBe(1);
    const fromFile = accepted.slice(securityCount).map((a) => a.event);
    expect(fromFile.filter((e) => e.kind === 'successful_auth' && e.account === '1001').every((e) => e.address === '127.0.0.6')).toBe(true);
    expect(await value(m, 'dialguard_security_events_total', { source: 'file', kind: 'failed_auth' })).toBe(fromFile.filter((e) => e.kind === 'failed_auth').length);

    await asterisk.stop();
    await until(async () => (await value(m, 'dialguard_ami_connected')) === 0, 5000, 'the gauge at 0');
  });

  it('goes on when the sink throws', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET });
    const { logger, records } = memoryLogger();
    let calls = 0;
    feed = startSecurityFeed({
      ami: { host: '127.0.0.1', port: asterisk.port, user: USER, secret: SECRET },
      securityLog: null,
      timezone: 'UTC',
      sink: {
        accept() {
          calls++;
          throw new Error('tracker bug');
        },
      },
      logger,
      metrics: metrics(),
    });
    await until(() => calls === countOf('InvalidAccountID', 'ChallengeSent', 'ChallengeResponseFailed', 'SuccessfulAuth', 'InvalidPassword'), 5000, 'every event');
    expect(records.filter((r) => r.msg === 'security event sink failed; the feed goes on').length).toBe(calls);
    expect(feed.ami?.connected).toBe(true);
  });
});
