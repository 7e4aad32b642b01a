import { createHash } from 'node:crypto';
import type { DeliveryChannel, DeliveryResult } from './channel.js';
import { alertPayload } from './payload.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface WebhookRequest {
  url: string;
  body: string;
  alertId: string;
  kind: string;
  attempt: number;
  secret: string | null;
  timeoutMs: number;
  /** Aborts the request when the guard stops. */
  signal: AbortSignal;
}

/** A webhook as a delivery channel: the alert's JSON payload, signed when there is a secret. */
export function webhookChannel(url: string, options: { secret: string | null; timeoutMs: number }): DeliveryChannel {
  return {
    id: webhookId(url),
    send: (alert, attempt, signal) =>
      postWebhook({ url, body: JSON.stringify(alertPayload(alert)), alertId: alert.id, kind: alert.kind, attempt, signal, ...options }),
  };
}

/** How a webhook is named in the store and the logs: a URL may carry a token (Slack, Teams…), so never the URL itself. */
export function webhookId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

/** The scheme, host and port of a webhook, for messages. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

/** One signed POST; any 2xx is success, anything else (a redirect included) a failure to retry. */
export async function postWebhook(request: WebhookRequest): Promise<DeliveryResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'dialguard-alerts/1',
    'x-dialguard-alert': request.alertId,
    'x-dialguard-event': request.kind,
    'x-dialguard-attempt': String(request.attempt),
  };
  if (request.secret) headers[SIGNATURE_HEADER] = signatureHeader(request.secret, request.body, Math.floor(Date.now() / 1000));
  const origin = webhookOrigin(request.url);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]),
    });
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? { ok: true } : { ok: false, error: `${origin} answered HTTP ${response.status}` };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError') return { ok: false, error: `${origin} did not answer within ${request.timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: `${origin} unreachable${cause ? ` (${cause})` : `: ${(error as Error).message}`}` };
  }
}
