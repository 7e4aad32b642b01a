/**
 * How Asterisk turns a priority's data into what the application sees, and how applications
 * split it:
 * - substitute(): pbx_substitute_variables_helper_full() (main/pbx_variables.c): `${NAME}`,
 *   `${NAME:offset[:length]}`, `${FUNC(args)}` and `$[expression]`. The end of a `${` is found
 *   by counting every `{` and `}` in it (every `[` and `]` in a `$[`), its inside is
 *   substituted first when it holds another `${` or `$[`, so `${OUT_${DIAL_TRUNK}}` works.
 * - separateArgs(): __ast_app_separate_args() (main/app.c).
 */
import { evaluateExpression } from './expression.js';

export interface SubstitutionScope {
  /** A variable's value, or undefined when it is not set (expands to ""). */
  variable(name: string): string | undefined;
  /** A dialplan function's value, `null` when the function fails (nothing is substituted). */
  callFunction(name: string, args: string): string | null;
  /** Where Asterisk would log a WARNING. */
  warn(line: string): void;
}

export function substitute(text: string, scope: SubstitutionScope): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    const kind = at === -1 ? undefined : text[at + 1];
    if (at === -1 || (kind !== '{' && kind !== '[')) {
      out += at === -1 ? text.slice(i) : text.slice(i, at + 1);
      if (at === -1) break;
      i = at + 1;
      continue;
    }
    out += text.slice(i, at);
    const [open, close, other] = kind === '{' ? ['{', '}', '['] : ['[', ']', '{'];
    let depth = 1;
    let needsub = false;
    let j = at + 2;
    while (depth > 0 && j < text.length) {
      if (text[j] === '$' && text[j + 1] === open) {
        needsub = true;
        depth++;
        j++;
      } else if (text[j] === open) {
        depth++;
      } else if (text[j] === close) {
        depth--;
      } else if (text[j] === '$' && text[j + 1] === other) {
        needsub = true;
        j++;
      }
      j++;
    }
    let inner = text.slice(at + 2, depth > 0 ? j : j - 1);
    if (depth > 0) scope.warn(`WARNING pbx_variables.c: Error in extension logic (missing '${close}')`);
    if (needsub) inner = substitute(inner, scope);
    out += kind === '{' ? reference(inner, scope) : evaluateExpression(inner, scope.warn);
    i = j;
  }
  return out;
}

/** parse_variable_name(), then the function or variable, then its substring. */
function reference(text: string, scope: SubstitutionScope): string {
  let parens = 0;
  let isFunction = false;
  let name = text;
  let offset = 0;
  let length: number | undefined;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (ch === '(') {
      isFunction = true;
      parens++;
    } else if (ch === ')') {
      parens--;
    } else if (ch === ':' && parens === 0) {
      name = text.slice(0, k);
      const range = /^(-?\d+)(?::(-?\d+))?/.exec(text.slice(k + 1));
      offset = range ? Number(range[1]) : 0;
      length = range?.[2] === undefined ? undefined : Number(range[2]);
      break;
    }
  }
  let value: string | null | undefined;
  if (isFunction) {
    const paren = name.indexOf('(');
    const close = name.lastIndexOf(')');
    if (close < paren) scope.warn(`WARNING pbx_functions.c: Can't find trailing parenthesis for function '${name}'?`);
    value = scope.callFunction(name.slice(0, paren), name.slice(paren + 1, close < paren ? undefined : close));
  } else {
    value = scope.variable(name);
  }
  return value == null ? '' : substring(value, offset, length);
}

/** ast_str_substring(): a negative offset counts from the end, a negative length leaves that many off the end. */
function substring(value: string, offset: number, length?: number): string {
  const start = offset < 0 ? Math.max(0, value.length + offset) : offset;
  if (start >= value.length) return '';
  if (length === undefined) return value.slice(start);
  return length < 0 ? value.slice(start, Math.max(start, value.length + length)) : value.slice(start, start + length);
}

export interface SeparateOptions {
  /** The separator: `,` for AST_STANDARD_*, another for AST_NONSTANDARD_*. */
  delimiter?: string;
  /** AST_*_APP_ARGS remove `"` and `\` (the character after `\` is taken as it is); AST_*_RAW_ARGS keep them. */
  removeChars?: boolean;
  /** How many arguments the application declares: the last one takes the rest of the data, as written. */
  max?: number;
}

/**
 * __ast_app_separate_args(): splits at the delimiter outside `( )`, `[ ]` and `" "` (a `"` is
 * no quote when it is the delimiter); `\` protects the next character.
 */
export function separateArgs(data: string, { delimiter = ',', removeChars = true, max = Number.POSITIVE_INFINITY }: SeparateOptions = {}): string[] {
  const args: string[] = [];
  let scan = 0;
  let paren = 0;
  let bracket = 0;
  let quote = false;
  let endedOnDelimiter = false;
  while (scan < data.length && args.length < max - 1) {
    let current = '';
    endedOnDelimiter = false;
    for (; scan < data.length; scan++) {
      const ch = data[scan] as string;
      if (ch === '(') paren++;
      else if (ch === ')') paren = Math.max(0, paren - 1);
      else if (ch === '[') bracket++;
      else if (ch === ']') bracket = Math.max(0, bracket - 1);
      else if (ch === '"' && delimiter !== '"') {
        quote = !quote;
        if (removeChars) continue;
      } else if (ch === '\\') {
        if (!removeChars) current += ch;
        scan++;
        current += data[scan] ?? '';
        continue;
      } else if (ch === delimiter && paren === 0 && !quote && bracket === 0) {
        scan++;
        endedOnDelimiter = true;
        break;
      }
      current += ch;
    }
    args.push(current);
  }
  if (scan < data.length || endedOnDelimiter) args.push(data.slice(scan));
  return args;
}
