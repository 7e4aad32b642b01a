/**
 * Variable substitution as pbx_substitute_variables_helper() does it, before an application
 * sees its data: `${NAME}`, `${NAME:offset[:length]}`, `${FUNC(args)}` (the name is expanded
 * first, so `${OUT_${DIAL_TRUNK}}` works) and `$[expression]`, innermost first.
 */
import { evaluateExpression, ExpressionError } from './expression.js';

export interface SubstitutionScope {
  /** A variable's value, or undefined when it is not set (expands to ""). */
  variable(name: string): string | undefined;
  /** A dialplan function's value: `name` as written, `args` already expanded. */
  callFunction(name: string, args: string): string;
  /** Where Asterisk would log a WARNING (an expression it could not evaluate). */
  warn(message: string): void;
}

/** The index just past the `}` or `]` closing the `${` or `$[` opened at `start`. */
function closing(text: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === open) {
      depth++;
      i++;
    } else if (text[i] === close) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`unclosed $${open} in ${JSON.stringify(text)}`);
}

export function substitute(text: string, scope: SubstitutionScope): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at === -1 || at === text.length - 1) {
      out += text.slice(i);
      break;
    }
    const kind = text[at + 1];
    if (kind !== '{' && kind !== '[') {
      out += text.slice(i, at + 1);
      i = at + 1;
      continue;
    }
    out += text.slice(i, at);
    const end = closing(text, at, kind, kind === '{' ? '}' : ']');
    const inner = substitute(text.slice(at + 2, end - 1), scope);
    out += kind === '{' ? reference(inner, scope) : expression(inner, scope);
    i = end;
  }
  return out;
}

function expression(text: string, scope: SubstitutionScope): string {
  try {
    return evaluateExpression(text);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    scope.warn(`WARNING ast_expr2.y: ast_yyerror(): syntax error: ${err.message}; Input:\n${text}`);
    return '';
  }
}

function reference(name: string, scope: SubstitutionScope): string {
  const fn = /^([A-Za-z_][\w.]*)\((.*)\)$/s.exec(name);
  if (fn) return scope.callFunction(fn[1] as string, fn[2] as string);
  const range = /^([^:]+):(-?\d+)(?::(-?\d+))?$/.exec(name);
  if (range) return substring(scope.variable(range[1] as string) ?? '', Number(range[2]), range[3] === undefined ? undefined : Number(range[3]));
  return scope.variable(name) ?? '';
}

/** `${VAR:offset:length}`: a negative offset counts from the end, a negative length leaves that many off the end. */
function substring(value: string, offset: number, length?: number): string {
  const start = offset < 0 ? Math.max(0, value.length + offset) : Math.min(offset, value.length);
  if (length === undefined) return value.slice(start);
  return length < 0 ? value.slice(start, Math.max(start, value.length + length)) : value.slice(start, start + length);
}

/**
 * Splits application data at `delimiter` like ast_app_separate_args(): not inside `( )` or
 * `" "`, and `\` escapes the next character.
 */
export function separateArgs(data: string, delimiter = ','): string[] {
  const args: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < data.length; i++) {
    const ch = data[i] as string;
    if (ch === '\\' && i + 1 < data.length) {
      current += data[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (!quoted && ch === '(') {
      depth++;
      current += ch;
    } else if (!quoted && ch === ')' && depth > 0) {
      depth--;
      current += ch;
    } else if (!quoted && depth === 0 && ch === delimiter) {
      args.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  args.push(current);
  return args;
}
