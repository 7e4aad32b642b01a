import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { repoRoot } from '../support/captures.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const RULES = readFileSync(join(repoRoot, 'deploy/prometheus/dialguard-rules.yml'), 'utf8');

/** Every series name a guard with ARI and AMI exports once it has decided a call, as GET /metrics serves it. */
async function exportedNames(t: TempGuard): Promise<Set<string>> {
  const metrics = createMetrics(t.store);
  metrics.watchAriConnection(() => true);
  metrics.watchAmiConnection(() => true);
  metrics.observeDecision({ result: 'DENY', reason: 'destination_high_risk' }, 'agi', 0.002);
  const text = await metrics.registry.metrics();
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('deploy/prometheus/dialguard-rules.yml', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('names only metrics that dialguard exports', async () => {
    t = await tempGuard();
    const used = new Set(RULES.match(/\bdialguard_[a-z_]+\b/g));
    expect(used.size).toBeGreaterThanOrEqual(5);
    const exported = await exportedNames(t);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('matches and groups by labels that those metrics have (result, reason, transport, le)', async () => {
    t = await tempGuard();
    const metrics = createMetrics(t.store);
    metrics.observeDecision({ result: 'DENY', reason: 'destination_high_risk' }, 'agi', 0.002);
    const text = await metrics.registry.metrics();
    expect(text).toContain('dialguard_decisions_total{result="DENY",reason="destination_high_risk",transport="agi"} 1');
    expect(text).toMatch(/^dialguard_decision_latency_seconds_bucket\{le="0\.25",transport="agi"\} 1$/m);
    // At 0 before any guard_error, so that the alert's increase() sees the first one.
    expect(text).toContain('dialguard_guard_errors_total{transport="agi"} 0');
  });
});
