import { explain, get, post, query } from './api.js';
import { barChart, countBy } from './chart.js';
import { h, localTime, replace, status } from './dom.js';
import { decisionCells } from './checks.js';
import { followDecisions } from './stream.js';
import type { Alert, Breaker, Decision, Page } from './types.js';

const HOUR = 3600_000;
const SHOWN = 50;
/** Alerts and the breaker change with decisions: re-read them after a burst of decisions, at most this often. */
const REFRESH_MS = 2000;

function decisionRow(d: Decision): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-id': d.id },
    h('td', {}, localTime(d.at)),
    ...decisionCells(d),
    h('td', {}, d.sourceCountry ?? '–'),
  );
}

/** Live: decisions as they happen, the last hour's counts, 24 h of denials, alerts and the circuit breaker. */
export async function livePage(main: HTMLElement, signal: AbortSignal): Promise<void> {
  const connection = h('span', { class: 'connection', role: 'status' }, 'connecting…');
  const counters = h('div', { class: 'counters' });
  const charts = h('div', { class: 'charts' });
  const alertsBox = h('section', { 'aria-labelledby': 'alerts-h' });
  const breakerBox = h('section', { 'aria-labelledby': 'breaker-h' });
  const rows = h('tbody', { id: 'live-rows' });
  replace(
    main,
    h('h1', {}, 'Live ', connection),
    counters,
    h(
      'section',
      { 'aria-labelledby': 'decisions-h' },
      h('h2', { id: 'decisions-h' }, 'Decisions as they happen'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'live-table' },
          h('thead', {}, h('tr', {}, ...['Time', 'Result', 'Reason', 'Extension', 'Destination', 'Country', 'Source', 'Source country'].map((t) => h('th', { scope: 'col' }, t)))),
          rows,
        ),
      ),
    ),
    h('section', { 'aria-labelledby': 'denials-h' }, h('h2', { id: 'denials-h' }, 'Denials, last 24 hours'), charts),
    h('div', { class: 'two' }, alertsBox, breakerBox),
  );

  const since = (ms: number): string => new Date(Date.now() - ms).toISOString();
  const [recent, hour, denied] = await Promise.all([
    get<Page<Decision>>(`/decisions${query({ limit: String(SHOWN) })}`),
    get<Page<Decision>>(`/decisions${query({ from: since(HOUR), limit: '1000' })}`),
    get<Page<Decision>>(`/decisions${query({ result: 'DENY', from: since(24 * HOUR), limit: '1000' })}`),
  ]);
  const lastHour = hour.items;
  const denials = denied.items;
  const more = (page: Page<Decision>): string => (page.nextCursor ? '+' : '');
  // A page left open keeps counting: what has aged out of its window is left out at each redraw.
  const within = (items: Decision[], ms: number): Decision[] => items.filter((d) => Date.parse(d.at) >= Date.now() - ms);
  const drawCounts = (): void => {
    const recentHour = within(lastHour, HOUR);
    const allowed = recentHour.filter((d) => d.result === 'ALLOW').length;
    replace(
      counters,
      h('div', { class: 'counter allow', id: 'allowed-count' }, h('strong', {}, `${allowed}${more(hour)}`), ' allowed in the last hour'),
      h('div', { class: 'counter deny', id: 'denied-count' }, h('strong', {}, `${recentHour.length - allowed}${more(hour)}`), ' denied in the last hour'),
    );
  };
  const drawCharts = (): void => {
    const day = within(denials, 24 * HOUR);
    replace(charts, barChart('By reason', countBy(day, (d) => d.reason)), barChart('By destination country', countBy(day, (d) => d.country ?? 'unknown')));
  };
  for (const d of recent.items) rows.append(decisionRow(d));
  drawCounts();
  drawCharts();

  let refresh: ReturnType<typeof setTimeout> | null = null;
  const refreshSoon = (): void => {
    refresh ??= setTimeout(() => {
      refresh = null;
      if (!signal.aborted) void Promise.all([drawAlerts(alertsBox), drawBreaker(breakerBox)]).catch(() => undefined);
    }, REFRESH_MS);
  };
  followDecisions(
    (d) => {
      refreshSoon();
      rows.prepend(decisionRow(d));
      while (rows.children.length > SHOWN) rows.lastElementChild?.remove();
      lastHour.push(d);
      if (d.result === 'DENY') denials.push(d);
      drawCounts();
      drawCharts();
    },
    (connected) => replace(connection, connected ? 'connected' : 'reconnecting…'),
    signal,
  );
  await Promise.all([drawAlerts(alertsBox), drawBreaker(breakerBox)]);
}

async function drawAlerts(box: HTMLElement): Promise<void> {
  const message = status();
  const { items } = await get<Page<Alert>>(`/alerts${query({ acknowledged: 'false', limit: '20' })}`);
  const list = h(
    'ul',
    { class: 'alerts' },
    ...items.map((a) =>
      h(
        'li',
        { class: a.severity },
        h('span', {}, `${localTime(a.lastAt)} · ${a.kind}${a.ext ? ` · ${a.ext}` : ''}${a.occurrences > 1 ? ` ×${a.occurrences}` : ''}${a.shadow ? ' (shadow)' : ''}: ${a.message}`),
        h('button', {
          type: 'button',
          onclick: () =>
            post(`/alerts/${a.id}/ack`)
              .then(() => drawAlerts(box))
              .catch((err: unknown) => replace(message, explain(err))),
        }, 'Acknowledge'),
      ),
    ),
  );
  replace(box, h('h2', { id: 'alerts-h' }, `Open alerts (${items.length})`), items.length ? list : h('p', { class: 'muted' }, 'No open alerts.'), message);
}

async function drawBreaker(box: HTMLElement): Promise<void> {
  const message = status();
  const b = await get<Breaker>('/circuit-breaker');
  replace(
    box,
    h('h2', { id: 'breaker-h' }, 'Circuit breaker'),
    h('p', { id: 'breaker-state', class: `breaker ${b.state}` }, b.state === 'open' ? `OPEN: international calls stopped${b.openedAt ? ` since ${localTime(b.openedAt)}` : ''}${b.openedBy ? `, opened by a call from extension ${b.openedBy.ext}` : ''}` : 'closed: international calls allowed'),
    h(
      'p',
      {},
      `International spend in the last hour: ${b.internationalSpendLastHour.toFixed(2)} ${b.currency}, `,
      b.internationalSpendPerHour === null ? 'no site limit' : `limit ${b.internationalSpendPerHour.toFixed(2)} ${b.currency}`,
    ),
    b.state === 'open'
      ? h('button', {
          type: 'button',
          onclick: () =>
            post('/circuit-breaker/reset')
              .then(() => drawBreaker(box))
              .catch((err: unknown) => replace(message, explain(err))),
        }, 'Reset the circuit breaker')
      : null,
    message,
  );
}
