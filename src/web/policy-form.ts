import type { FieldProblem } from './api.js';
import { h } from './dom.js';
import type { Json, JsonObject } from './types.js';

/** A field of the form as GET /checks gives it: the registry's fields, each with the input its schema calls for. */
export interface FormField {
  path: string;
  label: string;
  input: 'list' | 'number' | 'text' | 'choice';
  options?: string[];
}

type Kind = 'list' | 'number' | 'text' | { options: string[] };

const kindOf = (field: FormField): Kind => (field.input === 'choice' ? { options: field.options ?? [] } : field.input);

const RAW = '/';

function at(doc: JsonObject, path: string): Json | undefined {
  let value: Json | undefined = doc;
  for (const key of path.split('/').slice(1)) value = value && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
  return value;
}

/** Sets (or with undefined, removes) a value, dropping objects left empty so that they inherit again. */
function put(doc: JsonObject, path: string, value: Json | undefined): void {
  const keys = path.split('/').slice(1);
  const last = keys.pop() as string;
  const parents: JsonObject[] = [doc];
  for (const key of keys) {
    const parent = parents.at(-1) as JsonObject;
    const next = parent[key];
    if (next && typeof next === 'object' && !Array.isArray(next)) parents.push(next);
    else if (value === undefined) return;
    else parents.push((parent[key] = {}));
  }
  const target = parents.at(-1) as JsonObject;
  if (value === undefined) delete target[last];
  else target[last] = value;
  for (let i = keys.length - 1; i >= 0; i--) {
    const child = parents[i + 1] as JsonObject;
    if (Object.keys(child).length === 0) delete (parents[i] as JsonObject)[keys[i] as string];
  }
}

function show(value: Json | undefined, kind: Kind): string {
  if (value === undefined || value === null) return '';
  if (kind === 'list' && Array.isArray(value)) return value.join(', ');
  return String(value);
}

function read(text: string, kind: Kind): Json | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (kind === 'list') return trimmed.split(/[\s,]+/).filter(Boolean);
  if (kind === 'number') return Number(trimmed);
  return trimmed;
}

export interface PolicyForm {
  element: HTMLElement;
  /** The overrides to save: the raw JSON with the form's fields on top. Throws on JSON that does not parse. */
  overrides(): JsonObject;
  showProblems(problems: FieldProblem[]): void;
}

/** A form for an extension's overrides: empty fields inherit (the placeholder shows the value in effect). */
export function policyForm(overrides: JsonObject, effective: JsonObject, form: FormField[]): PolicyForm {
  const fieldList = form.map((field) => ({ path: field.path, label: field.label, kind: kindOf(field) }));
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const errors = new Map<string, HTMLElement>();
  const idOf = (path: string): string => `policy${path.replace(/\//g, '-')}`;
  const errorSlot = (path: string): HTMLElement => {
    const slot = h('p', { class: 'field-error', id: `${idOf(path)}-error`, 'aria-live': 'polite' });
    errors.set(path, slot);
    return slot;
  };
  const raw = h('textarea', { id: idOf(RAW), rows: 12, spellcheck: 'false', 'aria-describedby': `${idOf(RAW)}-error ${idOf(RAW)}-help` }) as HTMLTextAreaElement;
  raw.value = JSON.stringify(overrides, null, 2);

  const fields = fieldList.map(({ path, label, kind }) => {
    const inherited = show(at(effective, path), kind);
    const current = show(at(overrides, path), kind);
    let input: HTMLInputElement | HTMLSelectElement;
    if (typeof kind === 'object') {
      input = h('select', {}, h('option', { value: '' }, `inherit (${inherited})`), ...kind.options.map((o) => h('option', { value: o, selected: o === current }, o)));
    } else {
      input = h('input', { type: kind === 'number' ? 'number' : 'text', step: kind === 'number' ? 'any' : undefined, placeholder: inherited ? `inherits: ${inherited}` : 'inherits' });
      input.value = current;
    }
    input.id = idOf(path);
    input.name = path;
    input.setAttribute('aria-describedby', `${idOf(path)}-error`);
    inputs.set(path, input);
    input.addEventListener('input', () => {
      try {
        raw.value = JSON.stringify(applied(), null, 2);
      } catch {
        // The raw JSON does not parse: saving says so next to it.
      }
    });
    return h('div', { class: 'field' }, h('label', { for: idOf(path) }, label), input, errorSlot(path));
  });
  raw.addEventListener('change', () => {
    try {
      const doc = JSON.parse(raw.value) as JsonObject;
      for (const { path, kind } of fieldList) (inputs.get(path) as HTMLInputElement).value = show(at(doc, path), kind);
    } catch {
      // Shown on save.
    }
  });

  const applied = (): JsonObject => {
    const doc = JSON.parse(raw.value || '{}') as JsonObject;
    for (const { path, kind } of fieldList) put(doc, path, read((inputs.get(path) as HTMLInputElement).value, kind));
    return doc;
  };

  const element = h(
    'div',
    { class: 'policy-form' },
    h('div', { class: 'fields' }, ...fields),
    h(
      'div',
      { class: 'field raw' },
      h('label', { for: idOf(RAW) }, 'Overrides as JSON (everything else)'),
      h('p', { class: 'help', id: `${idOf(RAW)}-help` }, 'The form above and this JSON are the same overrides: empty fields and missing keys inherit the defaults.'),
      raw,
      errorSlot(RAW),
    ),
  );

  return {
    element,
    overrides() {
      try {
        return applied();
      } catch (err) {
        throw new SyntaxError(`the JSON does not parse: ${(err as Error).message}`);
      }
    },
    showProblems(problems) {
      for (const [path, slot] of errors) {
        slot.textContent = '';
        (path === RAW ? raw : inputs.get(path))?.removeAttribute('aria-invalid');
      }
      for (const problem of problems) {
        // The field of the form that holds the value at fault, else the raw JSON.
        const path = fieldList.map((f) => f.path).find((p) => problem.field === p || problem.field.startsWith(`${p}/`)) ?? RAW;
        const slot = errors.get(path) as HTMLElement;
        slot.textContent = [slot.textContent, path === RAW ? `${problem.field}: ${problem.message}` : problem.message].filter(Boolean).join('; ');
        (path === RAW ? raw : inputs.get(path))?.setAttribute('aria-invalid', 'true');
      }
      const first = problems.length ? element.querySelector<HTMLElement>('[aria-invalid="true"]') : null;
      first?.focus();
    },
  };
}
