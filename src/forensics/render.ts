import type { CallSummary } from './calls.js';
import type { ForensicsReport } from './report.js';

/** The report as text for a terminal, times in the PBX's zone. */
export function renderReport(report: ForensicsReport, timezone: string): string {
  const time = timeFormatter(timezone);
  const out: string[] = [];
  const window = report.since !== null || report.until !== null ? ` from ${report.since === null ? 'the start' : time(report.since)} to ${report.until === null ? 'the end' : time(report.until)}` : '';
  out.push(`dialguard forensics: how were we broken into?${window} (times ${timezone})`, '');
  out.push('Files');
  for (const f of report.files) {
    const counts = `${f.lines} lines: ${f.events} authentication events, ${f.ignored} other Asterisk lines, ${f.unrecognised} unrecognised${f.overlong > 0 ? ` (${f.overlong} overlong)` : ''}`;
    out.push(`  ${f.path}: ${f.error === undefined ? counts : `NOT READ to the end (${f.error}); ${counts}`}`);
  }
  out.push(`  audit: ${report.audit}`, '');

  out.push(`Attacking sources: ${report.totals.sources} address(es), ${report.totals.attempts} failed attempt(s), ${report.totals.accountsTried} account name(s) tried`);
  if (report.sources.length === 0) out.push('  none: no failed authentication in these logs');
  for (const s of report.sources.slice(0, 50)) {
    const accounts = `${s.accountsTried}${s.accountsTruncated ? '+' : ''} account(s): ${s.accounts.slice(0, 20).join(', ')}${s.accounts.length > 20 ? ', …' : ''}`;
    out.push(`  ${s.address} (${s.country ?? 'no country'}, ${s.services.join('/')}): ${s.attempts} failed attempt(s), ${accounts}`);
    out.push(`    first ${time(s.firstSeen)}, last ${time(s.lastSeen)}, peak ${s.peakPerMinute}/min`);
  }
  if (report.sources.length > 50) out.push(`  … and ${report.sources.length - 50} more (--json lists them all)`);
  for (const n of report.networks) out.push(`  network ${n.network}: ${n.addresses.length} addresses, ${n.attempts} attempt(s), ${time(n.firstSeen)} – ${time(n.lastSeen)}`);
  out.push('');

  out.push(`Accounts taken over (suspected): ${report.takeovers.length}`);
  if (report.takeovers.length === 0) out.push('  none: no success from an address that had failed, nor from a new country');
  for (const t of report.takeovers) {
    out.push(`  ${t.account} (${t.service}) from ${time(t.at)}`);
    for (const s of t.sources) {
      out.push(`    from ${s.address ?? 'an address the log does not give'} (${s.country ?? 'no country'}): ${s.reasons.map(reasonText).join('; ')}, ${s.successes} success(es), first ${time(s.at)}`);
      const failed = s.address === null ? undefined : report.sources.find((x) => x.address === s.address);
      for (const line of failed?.evidence ?? []) out.push(`      ${line}`);
      out.push(`      ${s.line.text}`);
    }
  }
  out.push('');

  out.push('What they did next');
  if (report.calls === null) out.push(`  not known: ${report.audit}`);
  else {
    out.push(`  calls from the attacking addresses: ${summaryText(report.calls.fromSources)}`);
    for (const line of sampleText(report.calls.fromSources, time)) out.push(line);
    for (const a of report.calls.byAccount) {
      out.push(`  calls of ${a.account} since ${time(a.since)}: ${summaryText(a.summary)}`);
      for (const line of sampleText(a.summary, time)) out.push(line);
    }
  }
  out.push('');

  out.push('What to do');
  if (report.actions.length === 0) out.push('  nothing: these logs show no attack');
  report.actions.forEach((a, i) => out.push(`  ${i + 1}. ${a}`));
  return out.join('\n');
}

function reasonText(reason: string): string {
  switch (reason) {
    case 'failed_before':
      return 'it had failed to authenticate before';
    case 'network_failed_before':
      return 'its /24 or /64 had failed to authenticate before';
    case 'new_country':
      return 'a country this account had not authenticated from before';
    default:
      return 'registered after failed attempts on this account';
  }
}

function summaryText(s: CallSummary): string {
  if (s.calls === 0) return 'none';
  const dest = Object.entries(s.destinations)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  const denied = Object.entries(s.deniedBy)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return `${s.calls} (${s.allowed} allowed, ${s.denied} denied${denied ? `: ${denied}` : ''}); destinations ${dest}; cost reserved ${(s.reservedMicros / 1e6).toFixed(2)}, settled ${(s.settledMicros / 1e6).toFixed(2)}`;
}

function sampleText(s: CallSummary, time: (ms: number) => string): string[] {
  return s.sample.map((c) => `    ${time(c.at)} ${c.extension} → ${c.e164 ?? c.dialled} (${c.country ?? '-'}) from ${c.source ?? '-'}: ${c.result} ${c.reason} [${c.callId}]`);
}

function timeFormatter(timezone: string): (ms: number) => string {
  // sv-SE prints `2026-12-01 22:10:07`.
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 });
  return (ms) => f.format(new Date(ms)).replace(',', '.');
}
