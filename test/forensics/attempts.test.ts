import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { FailureCollector } from '../../src/forensics/attempts.js';
import { logOf } from '../../src/forensics/repeats.js';

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

describe('the logs a set of files is', () => {
  it('a log and its rotations are one log, plain or gzip, numbered or dated; another name or folder is another', () => {
    expect(['/l/messages', '/l/messages.1', '/l/messages.2.gz', '/l/messages-20261201.gz', '/l/messages-2026120112'].map(logOf)).toEqual(Array(5).fill('/l/messages'));
    expect(['/l/messages.log.1', '/l/full', '/l/security.3', '/m/messages'].map(logOf)).toEqual(['/l/messages.log', '/l/full', '/l/security', '/m/messages']);
  });

  it('a log counts its rotations together, a request cut by the rotation once; logs telling the same requests count the most of them', () => {
    const c = new FailureCollector();
    // messages.1 ends within the request that messages goes on with.
    c.add(failure({ session: 'r1', at: 1_000_000 }), '/l/messages.1', 'a');
    c.add(failure({ session: 'r2', at: 1_000_100 }), '/l/messages.1', 'b');
    c.add(failure({ session: 'r2', at: 1_000_101 }), '/l/messages', 'b2');
    c.add(failure({ session: 'r3', at: 1_000_200 }), '/l/messages', 'c');
    // The security log told only two of them.
    c.add(failure({ session: 'r2', at: 1_000_100 }), '/l/security', 'x');
    c.add(failure({ session: 'r3', at: 1_000_200 }), '/l/security', 'y');
    expect(c.sources.get('203.0.113.9')?.attempts).toBe(3);
    expect(c.accounts.get('1001')?.attempts).toBe(3);
  });

  it('service by service: AMI logins told only by messages add to the SIP requests that security tells too', () => {
    const c = new FailureCollector();
    c.add(failure({ session: 's1' }), '/l/messages', 'a');
    c.add(failure({ session: 's1' }), '/l/security', 'a2');
    c.add(failure({ session: 's2', at: 1_000_500 }), '/l/security', 'b');
    c.add(failure({ service: 'AMI', account: 'admin', at: 1_002_000 }), '/l/messages', 'c');
    expect(c.sources.get('203.0.113.9')?.attempts).toBe(3);
  });

  it('a key is forgotten a minute of log time later: the same Call-ID an hour on is another attempt', () => {
    const c = new FailureCollector();
    c.add(failure({ session: 'same', at: 1_000_000 }), 'messages', 'a');
    c.add(failure({ session: 'same', at: 1_030_000 }), 'messages', 'b');
    c.add(failure({ session: 'same', at: 4_600_000 }), 'messages', 'c');
    expect(c.sources.get('203.0.113.9')?.attempts).toBe(2);
  });
});
