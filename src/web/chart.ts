import { h } from './dom.js';

/** Horizontal bars drawn with CSS: a labelled list, so a screen reader reads "reason: count". */
export function barChart(title: string, entries: Array<[string, number]>): HTMLElement {
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const id = `chart-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return h(
    'figure',
    { class: 'chart', 'aria-labelledby': id },
    h('figcaption', { id }, title),
    entries.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : h(
          'ul',
          {},
          ...entries.map(([label, n]) =>
            h('li', {}, h('span', { class: 'bar-label' }, label), widthOf(h('span', { class: 'bar', 'aria-hidden': 'true' }), n / max), h('span', { class: 'bar-value' }, n)),
          ),
        ),
  );
}

/**
 * Sets the `--w` the style sheet sizes bars with. Through CSSOM, because the page's
 * Content-Security-Policy refuses style attributes (src/http/static.ts).
 */
function widthOf(el: HTMLElement, ratio: number): HTMLElement {
  el.style.setProperty('--w', `${ratio * 100}%`);
  return el;
}

/** A value against its limit, as a meter. */
export function meter(label: string, value: number, limit: number, unit = ''): HTMLElement {
  const ratio = limit > 0 ? Math.min(1, value / limit) : 0;
  const level = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : 'ok';
  return h(
    'span',
    { class: `meter ${level}`, role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': limit, 'aria-valuenow': value },
    widthOf(h('span', { class: 'meter-fill' }), ratio),
    h('span', { class: 'meter-text' }, `${value}${unit} / ${limit}${unit}`),
  );
}

export function countBy<T>(items: T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}
