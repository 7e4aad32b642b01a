import { execFile } from 'node:child_process';

export type NtpState = { known: true; synchronized: boolean } | { known: false; why: string };

/**
 * systemd's view of NTP (`timedatectl show`): only where systemd runs. Anywhere else (a
 * container, another init) the state is unknown, which is not a failure.
 */
export function ntpState(timeoutMs: number): Promise<NtpState> {
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '--property=NTPSynchronized', '--value'], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const value = stdout.trim();
      if (!error && (value === 'yes' || value === 'no')) {
        resolve({ known: true, synchronized: value === 'yes' });
        return;
      }
      const why = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? 'no timedatectl' : stderr.trim().split('\n')[0] || value || 'timedatectl failed';
      resolve({ known: false, why: `timedatectl: ${why}` });
    });
  });
}
