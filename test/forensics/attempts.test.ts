import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { FailureCollector } from '../../src/forensics/attempts.js';

const failure = (over: Partial<SecurityEvent>): SecurityEvent => ({ kind: 'failed_auth', at: 1_000_000, service: 'PJSIP', account: '1001', address: '203.0.113.9', detail: 'x', ...over });

describe('attempts', () => {
  it('one request is one attempt, however many events and files report it', () => {
    const c = new FailureCollector();
    // InvalidAccountID names the account, ChallengeResponseFailed of the same Call-ID says <unknown>.
    c.add(failure({ kind: 'invalid_account', account: '127', session: '1-1@x' }), 'security', 'a');
    c.add(failure({ account: null, session: '1-1@x' }), 'security', 'b');
    c.add(failure({ account: '127', session: '1-1@x' }), 'messages', 'c');
    c.add(failure({ account: '127', session: '1-1@x' }), 'full', 'c');
    c.add(failure({ account: '128', session: '1-2@x', at: 1_100_000 }), 'messages', 'd');
    const s = c.sources.get('203.0.113.9');
    expect(s).toMatchObject({ attempts: 2, events: 5, firstAt: 1_000_000, lastAt: 1_100_000 });
    expect([...(s?.accounts ?? [])]).toEqual(['127', '128']);
    expect(c.accounts.get('127')?.attempts).toBe(1);
    // The same line in messages and full is one piece of evidence.
    expect(s?.firstLines.map((l) => l.line)).toEqual(['a', 'b']);
  });

  it('an AMI login is its address, account and second: its NOTICEs and its security event are one attempt', () => {
    const c = new FailureCollector();
    c.add(failure({ kind: 'invalid_account', service: 'AMI', account: 'admin', at: 5_000_100 }), 'messages', 'nonexistent');
    c.add(failure({ service: 'AMI', account: 'admin', at: 5_000_100 }), 'messages', 'failed');
    c.add(failure({ kind: 'invalid_account', service: 'AMI', account: 'admin', at: 5_000_101, session: '0x7f3be4001ed0' }), 'security', 'event');
    c.add(failure({ service: 'AMI', account: 'admin', at: 6_000_000 }), 'messages', 'again');
    expect(c.sources.get('203.0.113.9')?.attempts).toBe(2);
  });

  it('groups IPv4 by /24 and IPv6 by /64', () => {
    const c = new FailureCollector();
    c.add(failure({ address: '203.0.113.9' }), 'messages', 'v4');
    c.add(failure({ address: '2001:db8:1:2:3:4:5:6' }), 'messages', 'v6');
    expect(c.sources.get('203.0.113.9')?.network).toBe('203.0.113.0/24');
    expect(c.sources.get('2001:db8:1:2:3:4:5:6')?.network).toBe('2001:db8:1:2::/64');
  });
});
