import { explain, get, query, request } from './api.js';
import { checksTable, decisionCells } from './checks.js';
import { badge, h, localTime, replace, status } from './dom.js';
import type { Check, Decision, Page } from './types.js';

const FILTERS: Array<{ name: string; label: string; type?: string; options?: string[] }> = [
  { name: 'ext', label: 'Extension' },
  { name: 'result', label: 'Result', options: ['', 'ALLOW', 'DENY'] },
  { name: 'reason', label: 'Reason code' },
  { name: 'country', label: 'Destination country' },
  { name: 'number', label: 'Number starts with' },
  { name: 'from', label: 'From', type: 'datetime-local' },
  { name: 'to', label: 'Until', type: 'datetime-local' },
];

/** The filters as the API takes them: datetime-local is the browser's local time, sent as ISO 8601 UTC. */
function filters(form: HTMLFormElement): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  for (const [key, value] of new FormData(form)) {
    const text = String(value).trim();
    if (!text) continue;
    params[key] = key === 'from' || key === 'to' ? new Date(text).toISOString() : key === 'country' ? text.toUpperCase() : text;
  }
  return params;
}

/** Audit: search the decisions, page through them, open one, export them as CSV. */
export async function auditPage(main: HTMLElement): Promise<void> {
  const message = status();
  const rows = h('tbody', {});
  const detail = h('section', { id: 'decision-detail', 'aria-live': 'polite' });
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const form = h(
    'form',
    { class: 'filters', id: 'audit-filters' },
    ...FILTERS.map((f) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: `f-${f.name}` }, f.label),
        f.options
          ? h('select', { id: `f-${f.name}`, name: f.name }, ...f.options.map((o) => h('option', { value: o }, o || 'any')))
          : h('input', { id: `f-${f.name}`, name: f.name, type: f.type ?? 'text', autocomplete: 'off' }),
      ),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), h('button', { type: 'button', id: 'export-csv', onclick: () => void exportCsv() }, 'Export CSV')),
  ) as HTMLFormElement;

  let cursor: string | null = null;
  const search = async (more: boolean): Promise<void> => {
    try {
      const page = await get<Page<Decision>>(`/decisions${query({ ...filters(form), limit: '25', cursor: more ? (cursor ?? undefined) : undefined })}`);
      if (!more) rows.replaceChildren();
      for (const d of page.items) rows.append(row(d));
      cursor = page.nextCursor;
      next.disabled = cursor === null;
      replace(message, `${rows.children.length} decision${rows.children.length === 1 ? '' : 's'} shown${cursor ? ', more on the next page' : ''}.`);
    } catch (err) {
      replace(message, explain(err));
    }
  };
  const row = (d: Decision): HTMLTableRowElement =>
    h(
      'tr',
      {},
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void open(d.id) }, localTime(d.at))),
      ...decisionCells(d),
    );
  const open = async (id: string): Promise<void> => {
    const { decision: d } = await get<{ decision: Decision & { checks: Check[] } }>(`/decisions/${id}`);
    replace(
      detail,
      h('h2', { id: 'detail-h', tabindex: -1 }, `Decision ${d.id}`),
      h('p', {}, badge(d.result), ` ${d.reason}: ${d.message}`),
      h('p', {}, `${localTime(d.at)} · extension ${d.ext} · dialled ${d.dialled} · ${d.e164 ?? '?'} (${d.country ?? '?'}, ${d.numberType ?? '?'}) · source ${d.source || '–'} (${d.sourceCountry ?? '?'}) · ${d.transport} · ${d.mode}`),
      checksTable(d.checks),
    );
    detail.querySelector<HTMLElement>('#detail-h')?.focus();
  };
  const exportCsv = async (): Promise<void> => {
    try {
      // A plain link cannot carry the token: fetch the export and hand the browser the file.
      const response = await request(`/decisions/export${query({ ...filters(form), format: 'csv' })}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'dialguard-decisions.csv';
      const link = h('a', { href: URL.createObjectURL(await response.blob()), download: name });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (err) {
      replace(message, explain(err));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    detail.replaceChildren();
    void search(false);
  });
  next.addEventListener('click', () => void search(true));

  replace(
    main,
    h('h1', {}, 'Audit'),
    form,
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', { id: 'audit-table' }, h('thead', {}, h('tr', {}, ...['Time', 'Result', 'Reason', 'Extension', 'Destination', 'Country', 'Source'].map((t) => h('th', { scope: 'col' }, t)))), rows),
    ),
    next,
    detail,
  );
  await search(false);
}
