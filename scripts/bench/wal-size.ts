import { statSync } from 'node:fs';

export interface WalSampler {
  /** Stops sampling; the largest size seen, in MB. */
  stop(): number;
}

/**
 * The WAL file's largest size while the guard runs, sampled every `everyMs`. The file only
 * shrinks when the WAL restarts or is truncated, so a sample this often misses little of a peak.
 */
export function sampleWal(dbPath: string, everyMs = 10): WalSampler {
  let peak = 0;
  const sample = (): void => {
    try {
      peak = Math.max(peak, statSync(`${dbPath}-wal`).size);
    } catch {
      // No WAL file (yet, or truncated and removed): size 0.
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak / (1024 * 1024);
    },
  };
}
