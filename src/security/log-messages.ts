import type { SecurityEvent, SecurityEventKind } from '../domain/security.js';
import { parseSource } from '../geo/source.js';

/**
 * The messages of `messages`/`full` that tell about authentication, without their prefix
 * (log-line.ts): PJSIP's NOTICE for a refused request, the AMI login NOTICEs, the VERBOSE lines
 * of a PJSIP registration, and chan_sip's `Registration from …` and `Registered SIP …`.
 * Their exact text is in shared/asterisk/security (README, facts 1, 8, 10, 12 and chan_sip).
 */
export type MessageEvent = Omit<SecurityEvent, 'at'>;

// res_pjsip/pjsip_distributor.c log_failed_request(). The From is pjproject's print of the URI
// (display name, a space, `<uri>`), so it may hold quotes: the callid part anchors the end.
const PJSIP_REFUSED = /^Request '([A-Z]+)' from '(.*)' failed for '([^']*)' \(callid: ([^)]*)\) - (.+)$/;
// main/manager.c authenticate().
const AMI_UNKNOWN_USER = /^(\S+) tried to authenticate with nonexistent user '(.*)'$/;
const AMI_FAILED = /^(\S+) failed to authenticate as '(.*)'$/;
const AMI_LOGGED_ON = /^Manager '(.*)' logged on from (\S+)$/;
// res_pjsip_registrar.c and res_pjsip/pjsip_configuration.c, VERBOSE.
const PJSIP_ADDED_CONTACT = /^Added contact '(.*)' to AOR '(.*)' with expiration of \d+ seconds$/;
const PJSIP_REACHABLE = /^Endpoint (\S+) is now Reachable$/;
// channels/chan_sip.c: the '…' after "from" is the request's To header; the address is `IP` up to 1.6, `IP:port` from 1.8.
const SIP_REGISTRATION_FAILED = /^Registration from '(.*)' failed for '([^']*)' - (.+)$/;
const SIP_REGISTERED = /^(?:-- )?Registered SIP '(.*)' at (\S+?)(?: port \d{1,5})?$/;

const SIP_REASONS: Readonly<Record<string, SecurityEventKind>> = {
  'No matching peer found': 'invalid_account',
  'Wrong password': 'failed_auth',
  'Username/auth name mismatch': 'failed_auth',
};

/** The event one message reports; null when it says nothing about authentication. */
export function parseLogMessage(message: string): MessageEvent | null {
  let m = PJSIP_REFUSED.exec(message);
  if (m) {
    const reason = m[5] as string;
    const kind: SecurityEventKind = reason.startsWith('No matching endpoint found')
      ? 'invalid_account'
      : reason === 'Failed to authenticate'
        ? 'failed_auth'
        : 'other';
    return withSession({ kind, service: 'PJSIP', account: uriUser(m[2] as string), address: parseSource(m[3] as string), detail: `${m[1]} ${reason}` }, m[4] as string);
  }
  if ((m = AMI_UNKNOWN_USER.exec(message))) return { kind: 'invalid_account', service: 'AMI', account: m[2] as string, address: parseSource(m[1] as string), detail: 'AMI nonexistent user' };
  if ((m = AMI_FAILED.exec(message))) return { kind: 'failed_auth', service: 'AMI', account: m[2] as string, address: parseSource(m[1] as string), detail: 'AMI failed to authenticate' };
  if ((m = AMI_LOGGED_ON.exec(message))) return { kind: 'successful_auth', service: 'AMI', account: m[1] as string, address: parseSource(m[2] as string), detail: 'AMI logged on' };
  if ((m = PJSIP_ADDED_CONTACT.exec(message))) {
    // The Contact is what the phone wrote, not the source address; behind NAT it is a private one (then not an address here).
    return { kind: 'successful_auth', service: 'PJSIP', account: m[2] as string, address: uriAddress(m[1] as string), detail: 'Added contact' };
  }
  if ((m = PJSIP_REACHABLE.exec(message))) return { kind: 'successful_auth', service: 'PJSIP', account: m[1] as string, address: null, detail: 'Endpoint is now Reachable' };
  if ((m = SIP_REGISTRATION_FAILED.exec(message))) {
    const reason = m[3] as string;
    return { kind: SIP_REASONS[reason] ?? 'other', service: 'SIP', account: uriUser(m[1] as string), address: parseSource(m[2] as string), detail: reason };
  }
  if ((m = SIP_REGISTERED.exec(message))) return { kind: 'successful_auth', service: 'SIP', account: m[1] as string, address: parseSource(m[2] as string), detail: 'Registered SIP' };
  return null;
}

function withSession(event: MessageEvent, session: string): MessageEvent {
  if (session !== '') event.session = session;
  return event;
}

const URI_USER = /<?sips?:([^@>;:]+)@/;

/** The user part of a name-addr or URI (`"127"<sip:127@X.X.X.X>`, `<sip:1001@127.0.0.1>`). */
function uriUser(nameAddr: string): string | null {
  const m = URI_USER.exec(nameAddr);
  return m ? decodeURIComponentSafe(m[1] as string) : null;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const URI_HOST = /^sips?:(?:[^@]*@)?(\[[^\]]+\](?::\d+)?|[^;>?]+)/;

function uriAddress(uri: string): string | null {
  const m = URI_HOST.exec(uri);
  return m ? parseSource(m[1] as string) : null;
}
