import type { AlertRecord } from '../store/roles/alerts.js';
import { alertPayload } from './payload.js';

export interface MailMessage {
  subject: string;
  text: string;
}

const WHAT: Readonly<Record<AlertRecord['kind'], string>> = {
  warn: 'warning',
  breach: 'limit breached',
  lock: 'extension locked',
  circuit_breaker: 'circuit breaker open',
};

/**
 * An alert as an administrator reads it in a mail client: what happened in the subject, the
 * facts one per line, what to do, then the webhook's JSON payload for a script that files it.
 */
export function alertMail(alert: AlertRecord): MailMessage {
  const { details } = alert;
  const lines = [
    alert.message,
    '',
    `What:        ${WHAT[alert.kind]} (${alert.severity})${alert.shadow ? ', shadow mode: nothing was enforced' : ''}`,
    `When:        ${new Date(alert.at).toISOString()}`,
  ];
  if (alert.ext !== null) lines.push(`Extension:   ${alert.ext}${details.locked ? ' (locked)' : ''}`);
  if (alert.check !== null) lines.push(`Check:       ${alert.check}${alert.counter ? ` / ${alert.counter}` : ''}`);
  if (details.count !== null || details.limit !== null) {
    const window = details.windowSeconds === null ? '' : ` within ${details.windowSeconds} s`;
    lines.push(`Count:       ${details.count ?? '-'}, limit ${details.limit ?? '-'}${window}`);
  }
  if (details.country !== null) lines.push(`Country:     ${details.country}`);
  if (alert.decisionId !== null) lines.push(`Decision:    ${alert.decisionId}`);
  if (details.numbers.length > 0) lines.push(`Numbers:     ${details.numbers.join(', ')} (newest first)`);
  lines.push(
    '',
    `The alert: GET /api/v1/alerts/${alert.id} on the admin API; acknowledge it with POST /api/v1/alerts/${alert.id}/ack.`,
  );
  if (details.locked) lines.push(`The extension stays locked until an admin unlocks it: POST /api/v1/extensions/${alert.ext ?? 'EXT'}/unlock.`);
  lines.push('', 'As JSON (the webhook payload):', JSON.stringify(alertPayload(alert), null, 2));
  return { subject: `[dialguard] ${WHAT[alert.kind]}: ${alert.message}`, text: `${lines.join('\n')}\n` };
}
