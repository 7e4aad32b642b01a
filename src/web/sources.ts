import { get } from './api.js';
import { barChart } from './chart.js';
import { h, localTime, replace } from './dom.js';
import type { AttackingSource, CountryFailures, NewPlace, SourceWindow, SuspiciousSource } from './types.js';

/** Accounts shown per source in the table; the API gives up to 50. */
const ACCOUNTS_SHOWN = 8;

const table = (id: string, headings: string[], rows: HTMLTableRowElement[], empty: string): HTMLElement =>
  rows.length === 0
    ? h('p', { class: 'muted', id }, empty)
    : h(
        'div',
        { class: 'table-wrap' },
        h('table', { id }, h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)),
      );

const accountsOf = (accounts: string[]): string =>
  accounts.length > ACCOUNTS_SHOWN ? `${accounts.slice(0, ACCOUNTS_SHOWN).join(', ')} … (${accounts.length})` : accounts.join(', ');

/**
 * Sources: who attacks the PBX, from Asterisk's security events (the AMI feed or the security
 * log): the top sources, their countries, the accounts that authenticated from somewhere new,
 * and the suspicious list a firewall can load.
 */
export async function sourcesPage(main: HTMLElement): Promise<void> {
  const [top, countries, places, suspicious] = await Promise.all([
    get<SourceWindow & { items: AttackingSource[] }>('/sources/top?limit=20'),
    get<SourceWindow & { items: CountryFailures[] }>('/sources/countries'),
    get<{ items: NewPlace[] }>('/sources/new-places?limit=20'),
    get<SourceWindow & { items: SuspiciousSource[] }>('/sources/suspicious'),
  ]);
  const window = `last ${top.windowHours} hours`;
  replace(
    main,
    h('h1', {}, 'Sources'),
    h(
      'p',
      { class: 'help' },
      `Failed and successful authentications Asterisk reported, ${window}. A source with ${top.failureThreshold} failures or more (or its /24 or /64) is suspicious; trusted networks never are.`,
    ),
    h(
      'section',
      { 'aria-labelledby': 'top-sources-h' },
      h('h2', { id: 'top-sources-h' }, 'Top attacking sources'),
      table(
        'sources-table',
        ['Address', 'Country', 'Failures', 'Successes', 'Accounts tried', 'First seen', 'Last seen'],
        top.items.map((s) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, s.address),
            h('td', {}, s.country ?? 'unknown'),
            h('td', {}, s.failures),
            h('td', {}, s.successes),
            h('td', {}, accountsOf(s.accounts)),
            h('td', {}, localTime(s.firstSeen)),
            h('td', {}, localTime(s.lastSeen)),
          ),
        ),
        'No failed authentication reported in the window.',
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'countries-h' },
      h('h2', { id: 'countries-h' }, 'Failures by country'),
      h('div', { class: 'charts' }, barChart('Failures by source country', countries.items.map((c) => [c.country ?? 'unknown', c.failures]))),
    ),
    h(
      'section',
      { 'aria-labelledby': 'new-places-h' },
      h('h2', { id: 'new-places-h' }, 'Recent successes from new places'),
      table(
        'new-places-table',
        ['Time', 'Account', 'Address', 'Country', 'What is new'],
        places.items.map((p) =>
          h(
            'tr',
            {},
            h('td', {}, localTime(p.at)),
            h('th', { scope: 'row' }, h('a', { href: `#extensions/${encodeURIComponent(p.account)}` }, p.account)),
            h('td', {}, p.address),
            h('td', {}, p.country ?? 'unknown'),
            h('td', {}, p.newCountry ? h('span', { class: 'badge deny' }, 'new country') : 'new address'),
          ),
        ),
        'No account authenticated from a new address or country.',
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'suspicious-h' },
      h('h2', { id: 'suspicious-h' }, 'Suspicious sources'),
      h('p', { class: 'help' }, 'For a firewall set: GET /api/v1/sources/suspicious?format=plain gives one address or range per line.'),
      table(
        'suspicious-table',
        ['Address or range', 'Failures', 'Country'],
        suspicious.items.map((s) => h('tr', {}, h('th', { scope: 'row' }, s.entry), h('td', {}, s.failures), h('td', {}, s.country ?? 'unknown'))),
        'No suspicious source.',
      ),
    ),
  );
}
