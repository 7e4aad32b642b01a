import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../ari/fixture.js';
import { startAsteriskAmi, type AsteriskAmi } from '../support/asterisk-ami.js';
import { amiCaptureBlocks, captureLines } from '../support/security-captures.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';

const USER = 'dgsec';
const SECRET = 'Zq8!x:y@z/%+&=amI';
const captured = amiCaptureBlocks().filter((b) => b.Event !== undefined);
const countOf = (...names: string[]): number => captured.filter((b) => names.includes(b.Event as string)).length;

async function metricLines(serve: ServeProcess): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`, { headers: { authorization: `Bearer ${serve.adminToken}` } });
  return (await res.text()).split('\n').filter((line) => line.startsWith('dialguard_ami_connected') || line.startsWith('dialguard_security_events'));
}

describe('dialguard serve with DIALGUARD_AMI_URL and DIALGUARD_SECURITY_LOG', () => {
  let dir: string;
  let asterisk: AsteriskAmi;
  let serve: ServeProcess;
  let log: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dialguard-serve-ami-'));
    log = join(dir, 'security');
    writeFileSync(log, '');
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET });
    serve = await startServe(join(dir, 'dialguard.db'), { DIALGUARD_AMI_URL: asterisk.url(), DIALGUARD_SECURITY_LOG: log });
  });

  afterAll(async () => {
    await serve?.stop();
    await asterisk?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says where it reads security events from, without the secret', () => {
    expect(serve.output).toContain(`dialguard security events from AMI tcp://${USER}@127.0.0.1:${asterisk.port}`);
    expect(serve.output).toContain(`dialguard security events from the log ${log}`);
  });

  it('logs in, logs "AMI connected" and exports the events it consumed', async () => {
    await until(() => logLines(serve.output).some((l) => l.msg === 'AMI connected'), 10_000, 'the connected log line');
    expect(asterisk.logins[0]?.fields.get('events')).toBe('security');
    const expected = [
      'dialguard_ami_connected 1',
      `dialguard_security_events_total{source="ami",kind="failed_auth"} ${countOf('ChallengeResponseFailed', 'InvalidPassword')}`,
      `dialguard_security_events_total{source="ami",kind="invalid_account"} ${countOf('InvalidAccountID')}`,
      `dialguard_security_events_total{source="ami",kind="successful_auth"} ${countOf('SuccessfulAuth')}`,
      `dialguard_security_events_total{source="ami",kind="challenge_sent"} ${countOf('ChallengeSent')}`,
      'dialguard_security_events_unparsed_total{source="ami"} 0',
    ];
    await until(async () => {
      const lines = await metricLines(serve);
      return expected.every((line) => lines.includes(line));
    }, 10_000, 'the AMI metrics');
  });

  it('follows the security log', async () => {
    const lines = captureLines('security.log');
    appendFileSync(log, `${lines.join('\n')}\n`);
    const failed = lines.filter((l) => /SecurityEvent="(ChallengeResponseFailed|InvalidPassword)"/.test(l)).length;
    await until(async () => (await metricLines(serve)).includes(`dialguard_security_events_total{source="file",kind="failed_auth"} ${failed}`), 10_000, 'the file metrics');
  });

  it('logs the loss with the delay, reconnects when Asterisk is back, logs off on shutdown; the secret is never printed', async () => {
    await asterisk.stop();
    await until(() => logLines(serve.output).some((l) => typeof l.msg === 'string' && l.msg.startsWith('AMI connection lost; reconnecting in ')), 10_000, 'the lost log line');
    await until(async () => (await metricLines(serve)).includes('dialguard_ami_connected 0'), 10_000, 'the gauge at 0');
    await asterisk.start();
    await until(() => logLines(serve.output).filter((l) => l.msg === 'AMI connected').length === 2, 15_000, 'the second connection');
    expect(await serve.stop()).toBe(0);
    expect(asterisk.actions.at(-1)?.fields.get('action')).toBe('Logoff');
    const printed = serve.output.join('\n');
    for (const form of [SECRET, encodeURIComponent(SECRET)]) expect(printed).not.toContain(form);
  });
});
