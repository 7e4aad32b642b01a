import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnswerDeadline } from '../../src/agi/answer-deadline.js';
import { DeadlineError } from '../../src/errors.js';

const reason = (): Error => new DeadlineError('no answer within 100 ms');

describe('AnswerDeadline', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('has passed from its time on', () => {
    const deadline = new AnswerDeadline(Date.now() + 100, reason);
    expect(deadline.passed).toBe(false);
    vi.advanceTimersByTime(99);
    expect(deadline.passed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.passed).toBe(true);
  });

  it('aborts a signal asked for before the time, at the time, with the reason', () => {
    const deadline = new AnswerDeadline(Date.now() + 100, reason);
    const signal = deadline.signal;
    expect(deadline.signal).toBe(signal);
    vi.advanceTimersByTime(99);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DeadlineError);
  });

  it('gives a signal asked for after the time already aborted', () => {
    const deadline = new AnswerDeadline(Date.now() + 100, reason);
    vi.advanceTimersByTime(150);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineError);
  });

  it('never aborts after dispose', () => {
    const deadline = new AnswerDeadline(Date.now() + 100, reason);
    const signal = deadline.signal;
    deadline.dispose();
    vi.advanceTimersByTime(1000);
    expect(signal.aborted).toBe(false);
  });
});
