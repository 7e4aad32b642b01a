import { explain, post } from './api.js';
import { checksTable } from './checks.js';
import { badge, h, replace, status } from './dom.js';
import type { Check } from './types.js';

interface Simulated {
  result: string;
  reason: string;
  message: string;
  e164: string | null;
  country: string | null;
  checks: Check[];
}

/** "Would this call pass?": the engine's answer for a call that is not placed (POST /simulate). */
export function simulatePage(main: HTMLElement): void {
  const answer = h('section', { id: 'simulate-result', 'aria-live': 'polite' });
  const field = (name: string, label: string, attrs: Record<string, string | boolean> = {}): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: `s-${name}` }, label), h('input', { id: `s-${name}`, name, autocomplete: 'off', ...attrs }));
  const form = h(
    'form',
    { class: 'filters', id: 'simulate-form' },
    field('ext', 'Extension', { required: true }),
    field('number', 'Number as dialled', { required: true }),
    field('source', 'Source address (optional)', { placeholder: '203.0.113.9:5060' }),
    field('origin', 'Origin (optional)', { placeholder: 'phone' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Would this call pass?')),
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: Record<string, string> = {};
    for (const [key, value] of new FormData(form)) if (String(value).trim()) body[key] = String(value).trim();
    post<Simulated>('/simulate', body)
      .then((s) => replace(answer, h('h2', {}, badge(s.result), ` ${s.reason}`), h('p', {}, s.message), checksTable(s.checks)))
      .catch((err: unknown) => replace(answer, status(explain(err), 'error')));
  });
  replace(main, h('h1', {}, 'Would this call pass?'), h('p', {}, 'Nothing is placed: the policy in effect now answers.'), form, answer);
}
