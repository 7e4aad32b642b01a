import { describe, expect, it } from 'vitest';
import { credentialScrubber } from '../src/redact.js';

const PASSWORD = 's3cret:&/+=%';
const scrub = credentialScrubber('dialguard', PASSWORD);

describe('credentialScrubber', () => {
  it.each([
    ['the websocket URL ari-client builds', `ws://127.0.0.1:8088/ari/events?app=dialguard&api_key=dialguard:${encodeURIComponent(PASSWORD)}`],
    ['an api_key in any query', `GET /ari/asterisk/info?api_key=dialguard:${PASSWORD}`],
    ['the password as is', `auth failed for ${PASSWORD} today`],
    ['the basic auth header', `Authorization: Basic ${Buffer.from(`dialguard:${PASSWORD}`).toString('base64')}`],
    ['credentials in a URL', `http://dialguard:${encodeURIComponent(PASSWORD)}@pbx:8088/ari`],
    ['an SMTP AUTH LOGIN password line', `C: ${Buffer.from(PASSWORD).toString('base64')}`],
    ['an SMTP AUTH PLAIN command', `AUTH PLAIN ${Buffer.from(`\0dialguard\0${PASSWORD}`).toString('base64')}`],
  ])('removes the password from %s', (_name, text) => {
    const out = scrub(text);
    expect(out).toContain('[redacted]');
    const encoded = [`dialguard:${PASSWORD}`, PASSWORD, `\0dialguard\0${PASSWORD}`].map((t) => Buffer.from(t).toString('base64'));
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), ...encoded]) expect(out).not.toContain(form);
  });

  it('leaves other text alone', () => {
    expect(scrub('connect ECONNREFUSED 127.0.0.1:8088')).toBe('connect ECONNREFUSED 127.0.0.1:8088');
    expect(credentialScrubber('dialguard', '')('Unexpected server response: 401')).toBe('Unexpected server response: 401');
  });
});
