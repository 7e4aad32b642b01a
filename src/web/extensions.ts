import { ApiError, api, explain, get, post } from './api.js';
import { meter } from './chart.js';
import { h, localTime, replace, status } from './dom.js';
import { policyForm, type FormField } from './policy-form.js';
import type { Change, ExtensionDetail, ExtensionSummary, Page, Usage } from './types.js';

/** Extensions: every extension with an entry or a lock, its mode, lock, today's use against its budget. */
export async function extensionsPage(main: HTMLElement): Promise<void> {
  const { items } = await get<Page<ExtensionSummary>>('/extensions?limit=500');
  const details = await Promise.all(items.map((e) => Promise.all([get<ExtensionDetail>(`/extensions/${e.ext}`), get<Usage>(`/usage/${e.ext}`)])));
  const open = h('input', { id: 'open-ext', name: 'ext', required: true, pattern: '[A-Za-z0-9_.@+-]{1,64}', autocomplete: 'off' });
  replace(
    main,
    h('h1', {}, 'Extensions'),
    h(
      'form',
      { class: 'inline', onsubmit: (event: Event) => {
        event.preventDefault();
        location.hash = `#extensions/${encodeURIComponent(open.value.trim())}`;
      } },
      h('label', { for: 'open-ext' }, 'Open extension'),
      open,
      h('button', { type: 'submit' }, 'Open'),
    ),
    items.length === 0
      ? h('p', { class: 'muted' }, 'No extension has its own policy or a lock yet: every extension uses the defaults.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'extensions-table' },
            h('thead', {}, h('tr', {}, ...['Extension', 'Mode', 'Lock', 'Spend today', 'Minutes today', 'Active calls'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...details.map(([d, u]) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, h('a', { href: `#extensions/${encodeURIComponent(d.ext)}` }, d.ext)),
                  h('td', {}, String(d.effective.mode)),
                  h('td', {}, d.lock ? h('span', { class: 'badge deny' }, 'locked') : 'unlocked'),
                  h('td', {}, meter(`spend today of ${d.ext}`, u.today.spend, u.today.spendLimit, ` ${u.currency}`)),
                  h('td', {}, meter(`minutes today of ${d.ext}`, u.today.minutes, u.today.minutesLimit, ' min')),
                  h('td', {}, `${u.activeCalls.count} / ${u.activeCalls.limit}`),
                ),
              ),
            ),
          ),
        ),
  );
}

/** One extension: its policy form, lock and history. */
export async function extensionPage(main: HTMLElement, ext: string): Promise<void> {
  const { body: d } = await api<ExtensionDetail>(`/extensions/${encodeURIComponent(ext)}`);
  const [usage, history] = await Promise.all([get<Usage>(`/usage/${encodeURIComponent(ext)}`), get<Page<Change>>(`/extensions/${encodeURIComponent(ext)}/history?limit=50`)]);
  // The common fields of a policy, as the checks declare them; the rest is edited in the raw JSON.
  const form = policyForm(d.overrides, d.effective, (await get<{ form: FormField[] }>('/checks')).form);
  const saved = status();
  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    let overrides;
    try {
      overrides = form.overrides();
    } catch (err) {
      form.showProblems([{ field: '/', message: explain(err) }]);
      return;
    }
    const headers: Record<string, string> = d.version === null ? {} : { 'if-match': `"${d.version}"` };
    try {
      await api(`/extensions/${encodeURIComponent(ext)}`, { method: 'PUT', headers, body: JSON.stringify(overrides) });
      await extensionPage(main, ext);
      const again = main.querySelector('#save-status');
      if (again) again.textContent = 'Saved.';
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        form.showProblems(err.fields);
        replace(saved, 'Not saved: see the fields marked above.');
      } else {
        form.showProblems([]);
        replace(saved, `Not saved: ${explain(err)}`);
      }
      saved.className = 'status error';
    }
  };
  saved.id = 'save-status';

  const lockStatus = status();
  const reason = h('input', { id: 'lock-reason', name: 'reason', required: true, maxlength: 500 });
  const lockBox = d.lock
    ? h(
        'div',
        {},
        h('p', { id: 'lock-state' }, h('span', { class: 'badge deny' }, 'locked'), ` ${d.lock.reason}`),
        h('button', { type: 'button', onclick: () => post(`/extensions/${encodeURIComponent(ext)}/unlock`).then(() => extensionPage(main, ext)).catch((err: unknown) => replace(lockStatus, explain(err))) }, 'Unlock'),
      )
    : h(
        'form',
        { class: 'inline', onsubmit: (event: Event) => {
          event.preventDefault();
          post(`/extensions/${encodeURIComponent(ext)}/lock`, { reason: reason.value })
            .then(() => extensionPage(main, ext))
            .catch((err: unknown) => replace(lockStatus, explain(err)));
        } },
        h('p', { id: 'lock-state' }, 'unlocked'),
        h('label', { for: 'lock-reason' }, 'Reason to lock'),
        reason,
        h('button', { type: 'submit' }, 'Lock'),
      );

  replace(
    main,
    h('p', {}, h('a', { href: '#extensions' }, '← All extensions')),
    h('h1', {}, `Extension ${ext}`),
    h(
      'p',
      { class: 'usage' },
      meter('spend today', usage.today.spend, usage.today.spendLimit, ` ${usage.currency}`),
      meter('minutes today', usage.today.minutes, usage.today.minutesLimit, ' min'),
      ` active calls ${usage.activeCalls.count} / ${usage.activeCalls.limit}`,
    ),
    h('section', { 'aria-labelledby': 'lock-h' }, h('h2', { id: 'lock-h' }, 'Lock'), lockBox, lockStatus),
    h(
      'section',
      { 'aria-labelledby': 'policy-h' },
      h('h2', { id: 'policy-h' }, `Policy ${d.stored ? `(version ${d.version})` : '(defaults only)'}`),
      h('form', { id: 'policy-form', onsubmit: (event: Event) => void save(event), novalidate: true }, form.element, h('button', { type: 'submit' }, 'Save policy'), saved),
    ),
    h(
      'section',
      { 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, 'History'),
      history.items.length === 0
        ? h('p', { class: 'muted' }, 'No change yet.')
        : h(
            'ol',
            { class: 'history', id: 'history' },
            ...history.items.map((c) =>
              h(
                'li',
                {},
                h('details', {}, h('summary', {}, `${localTime(c.at)} · ${c.actor} · version ${c.version}`), h('pre', {}, `before: ${JSON.stringify(c.before)}\nafter:  ${JSON.stringify(c.after)}`)),
              ),
            ),
          ),
    ),
  );
}
