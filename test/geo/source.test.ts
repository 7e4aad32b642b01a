import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/geo/source.js';

describe('parseSource: the SOURCE argument as Asterisk prints it', () => {
  it('takes the address out of ${CHANNEL(pjsip,remote_addr)} for IPv4, as in the lab capture', () => {
    expect(parseSource('127.0.0.2:5060')).toBe('127.0.0.2');
    expect(parseSource('203.0.113.9:5060')).toBe('203.0.113.9');
  });

  it('takes the address out of a bracketed IPv6 remote_addr, with or without a port', () => {
    expect(parseSource('[2001:db8::1]:5060')).toBe('2001:db8::1');
    expect(parseSource('[2001:db8::1]')).toBe('2001:db8::1');
  });

  it("accepts the bare address of chan_sip's ${CHANNEL(recvip)}, IPv4 and IPv6", () => {
    expect(parseSource('203.0.113.9')).toBe('203.0.113.9');
    expect(parseSource('2001:db8::1')).toBe('2001:db8::1');
  });

  it('writes IPv6 in its canonical short form, so one address is always one string', () => {
    expect(parseSource('[2001:0DB8:0000:0000:0000:0000:0000:0001]:5061')).toBe('2001:db8::1');
  });

  it('turns an IPv4-mapped IPv6 source from a dual-stack socket into the IPv4 address', () => {
    expect(parseSource('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(parseSource('[::ffff:203.0.113.9]:5060')).toBe('203.0.113.9');
    expect(parseSource('[::ffff:cb00:7109]:5060')).toBe('203.0.113.9');
  });

  it('ignores whitespace around the argument', () => {
    expect(parseSource(' 203.0.113.9:5060 ')).toBe('203.0.113.9');
  });

  it('answers null for an empty source (a Local channel, or a non-PJSIP caller)', () => {
    expect(parseSource('')).toBeNull();
    expect(parseSource('   ')).toBeNull();
  });

  it('answers null for anything that is not an address, rather than guessing', () => {
    for (const garbage of [
      'garbage',
      'sip:1001@203.0.113.9',
      'udp:203.0.113.9:5060',
      'pbx.example.com:5060',
      '203.0.113.9:',
      '203.0.113.9:99999',
      '203.0.113.9:sip',
      '203.0.113',
      '10.1',
      '010.0.0.1',
      '256.1.1.1',
      '[2001:db8::1',
      '[2001:db8::1]5060',
      '[203.0.113.9]:x',
      '2001:db8::g',
    ]) {
      expect(parseSource(garbage), garbage).toBeNull();
    }
  });
});
