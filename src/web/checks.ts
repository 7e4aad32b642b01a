import { badge, h } from './dom.js';
import type { Check, Decision } from './types.js';

/** Every check of a decision, in the order the engine ran them. */
export function checksTable(checks: Check[]): HTMLElement {
  return h(
    'table',
    { class: 'checks' },
    h('thead', {}, h('tr', {}, ...['Check', 'Outcome', 'Reason', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...checks.map((c) => h('tr', { class: c.outcome }, h('td', {}, c.name), h('td', {}, c.outcome), h('td', {}, c.reason ?? ''), h('td', {}, c.detail)))),
  );
}

/** The cells every decision table shows, after its time column: result, reason, extension, destination, country, source. */
export function decisionCells(d: Decision): HTMLTableCellElement[] {
  return [
    h('td', {}, badge(d.result)),
    h('td', {}, d.reason),
    h('td', {}, d.ext),
    h('td', {}, d.e164 ?? d.dialled),
    h('td', {}, d.country ?? '–'),
    h('td', {}, d.sourceIp ?? (d.source || '–')),
  ];
}
