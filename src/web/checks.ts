import { h } from './dom.js';
import type { Check } from './types.js';

/** Every check of a decision, in the order the engine ran them. */
export function checksTable(checks: Check[]): HTMLElement {
  return h(
    'table',
    { class: 'checks' },
    h('thead', {}, h('tr', {}, ...['Check', 'Outcome', 'Reason', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...checks.map((c) => h('tr', { class: c.outcome }, h('td', {}, c.name), h('td', {}, c.outcome), h('td', {}, c.reason ?? ''), h('td', {}, c.detail)))),
  );
}
