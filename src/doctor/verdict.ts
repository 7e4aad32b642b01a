/** `skip`: not configured, or not checkable because something it needs failed. */
export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  /** One line: what was found, and what to do when it is not ok. */
  detail: string;
}

export const result = (name: string, verdict: Verdict, detail: string): CheckResult => ({ name, verdict, detail });
