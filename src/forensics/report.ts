import { compileNetworks, parseAddress, parseNetwork, type Network } from '../net/address.js';
import { fromMicros } from '../rates/rate-table.js';
import { peakPerMinute, type AccountFailures, type SourceFailures } from './attempts.js';
import type { CallsFound } from './calls.js';
import type { Takeover } from './takeovers.js';

/** The incident report, as `--json` prints it; the text form renders the same object. Times are epoch ms here, ISO in JSON. */
export interface ForensicsReport {
  since: number | null;
  until: number | null;
  files: FileReport[];
  audit: string;
  totals: { sources: number; attempts: number; accountsTried: number; takeovers: number };
  sources: AttackingSource[];
  /** /24 and /64 networks that several attacking addresses came from. */
  networks: AttackingNetwork[];
  takeovers: Takeover[];
  /** Null when no audit was read. */
  calls: CallsFound | null;
  actions: string[];
}

export interface FileReport {
  path: string;
  lines: number;
  /** Lines that reported an authentication or a security event. */
  events: number;
  /** Asterisk log lines with nothing to say about authentication. */
  ignored: number;
  /** Lines no Asterisk grammar fits. */
  unrecognised: number;
  /** Lines longer than the reader keeps (cut, counted as unrecognised too). */
  overlong: number;
  /** Lines of the `security` channel among the events. */
  securityEvents: number;
  /** Why the file could not be read (to its end). */
  error?: string;
}

export interface AttackingSource {
  address: string;
  country: string | null;
  network: string;
  attempts: number;
  services: string[];
  accountsTried: number;
  /** Every account named, up to 1000 (`accountsTruncated` beyond). */
  accounts: string[];
  accountsTruncated: boolean;
  firstSeen: number;
  lastSeen: number;
  /** Most attempts in one clock minute. */
  peakPerMinute: number;
  evidence: string[];
}

export interface AttackingNetwork {
  network: string;
  addresses: string[];
  attempts: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ReportInput {
  files: FileReport[];
  sources: SourceFailures[];
  accounts: ReadonlyMap<string, AccountFailures>;
  takeovers: Takeover[];
  calls: CallsFound | null;
  countryOf(address: string): string | null;
  since: number | undefined;
  until: number | undefined;
  auditNote: string;
}

export function buildReport(input: ReportInput): ForensicsReport {
  const sources: AttackingSource[] = input.sources
    .map((s) => ({
      address: s.address,
      country: input.countryOf(s.address),
      network: s.network,
      attempts: s.attempts,
      services: [...s.services].sort(),
      accountsTried: s.accounts.size,
      accounts: [...s.accounts].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      accountsTruncated: s.accountsTruncated,
      firstSeen: s.firstAt,
      lastSeen: s.lastAt,
      peakPerMinute: peakPerMinute(s),
      evidence: [...new Set([...s.firstLines, ...s.lastLines].sort((a, b) => a.at - b.at).map((l) => l.text))],
    }))
    .sort((a, b) => b.attempts - a.attempts || a.firstSeen - b.firstSeen);
  const byNetwork = new Map<string, AttackingNetwork>();
  for (const s of sources) {
    const n = byNetwork.get(s.network) ?? { network: s.network, addresses: [], attempts: 0, firstSeen: s.firstSeen, lastSeen: s.lastSeen };
    n.addresses.push(s.address);
    n.attempts += s.attempts;
    n.firstSeen = Math.min(n.firstSeen, s.firstSeen);
    n.lastSeen = Math.max(n.lastSeen, s.lastSeen);
    byNetwork.set(s.network, n);
  }
  const networks = [...byNetwork.values()].filter((n) => n.addresses.length > 1).sort((a, b) => b.attempts - a.attempts);
  const report: ForensicsReport = {
    since: input.since ?? null,
    until: input.until ?? null,
    files: input.files,
    audit: input.auditNote,
    totals: {
      sources: sources.length,
      attempts: sources.reduce((n, s) => n + s.attempts, 0),
      accountsTried: input.accounts.size,
      takeovers: input.takeovers.length,
    },
    sources,
    networks,
    takeovers: input.takeovers,
    calls: input.calls,
    actions: [],
  };
  report.actions = whatToDo(report);
  return report;
}

const money = (micros: number): string => fromMicros(micros).toFixed(2);
const BLOCK_LIST_LIMIT = 50;

/** Steps for what was found, each naming what it is about; nothing when nothing was found. */
export function whatToDo(report: ForensicsReport): string[] {
  const actions: string[] = [];
  for (const t of report.takeovers) {
    const from = t.sources.map((s) => s.address ?? 'an address the log does not give').join(', ');
    if (t.service === 'AMI') {
      actions.push(`Change the secret of AMI user "${t.account}" (manager.conf) and narrow its permit= to the hosts that need it: it logged in from ${from} after failed attempts.`);
      continue;
    }
    actions.push(`Change the secret of account ${t.account} now, to a long random one: it was authenticated from ${from} after failed attempts, first at ${new Date(t.at).toISOString()}. Then re-provision the real phone.`);
    const summary = report.calls?.byAccount.find((a) => a.account === t.account)?.summary;
    actions.push(
      `Lock ${t.account} in dialguard until its secret is changed: POST /api/v1/extensions/${t.account}/lock with an admin token${summary && summary.allowed > 0 ? ` (it made ${summary.allowed} allowed call(s) after the takeover)` : ''}.`,
    );
    const foreign = [...new Set(t.sources.map((s) => s.country).filter((c): c is string => c !== null))];
    if (foreign.length > 0) actions.push(`Geofence ${t.account} (policy extensions.${t.account}.geofence.allowCountries or allowCidrs) so that it cannot be used from ${foreign.join(', ')} again.`);
  }
  const all = report.calls?.all;
  if (all && all.allowed > 0) {
    actions.push(
      `Review the ${all.allowed} call(s) dialguard allowed to the attacker (settled cost ${money(all.settledMicros)}, destinations ${destinationsText(all.allowedDestinations)}) with your carrier, and dispute them if they were fraud; each is in the audit (GET /api/v1/decisions).`,
    );
  }
  // A private or loopback source is a host of the site's own: found, not firewalled.
  const blockable = report.sources.filter((s) => !isLocal(s.address) && !report.networks.some((n) => n.network === s.network));
  const entries = [...report.networks.filter((n) => !n.addresses.some(isLocal)).map((n) => n.network), ...blockable.map((s) => s.address)];
  if (entries.length > 0) {
    const shown = entries.slice(0, BLOCK_LIST_LIMIT).join(' ');
    const more = entries.length > BLOCK_LIST_LIMIT ? ` (and ${entries.length - BLOCK_LIST_LIMIT} more, in the list above)` : '';
    actions.push(`Block at the firewall (ipset/nftables set) the sources that failed to authenticate: ${shown}${more}.`);
  }
  const local = report.sources.filter((s) => isLocal(s.address)).map((s) => s.address);
  if (local.length > 0) actions.push(`Find the device behind ${local.slice(0, 10).join(', ')}: a private or loopback address failed to authenticate, so a host inside your network is compromised or misconfigured.`);
  const ami = report.sources.filter((s) => s.services.includes('AMI'));
  if (ami.length > 0 && !report.takeovers.some((t) => t.service === 'AMI')) {
    actions.push(
      `AMI logins failed (${ami.map((s) => `${s.address} as ${s.accounts.join(', ') || 'unknown users'}`).join('; ')}): find the program that tried them, give each AMI client its own manager.conf user with a strong secret and a permit= for its address only.`,
    );
  }
  const read = report.files.filter((f) => f.error === undefined);
  if (report.totals.attempts > 0 && read.length > 0 && read.every((f) => f.securityEvents === 0)) {
    actions.push('Add the security log channel (logger.conf: `security => security`) and give it to dialguard forensics too: the messages log does not say from where an account registered at every verbose level, the security log always does.');
  }
  const unreadable = report.files.filter((f) => f.error !== undefined);
  if (unreadable.length > 0) actions.push(`Read again with access to ${unreadable.map((f) => f.path).join(', ')}: they could not be read, so this report may miss events.`);
  return actions;
}

function destinationsText(destinations: Record<string, number>): string {
  return Object.entries(destinations)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
}

const LOCAL = compileNetworks(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10', '::1'].map(
    (text) => [parseNetwork(text) as Network, true] as const,
  ),
);

function isLocal(address: string): boolean {
  const parsed = parseAddress(address);
  return parsed !== null && LOCAL.match(parsed) === true;
}
