/**
 * Asterisk's `$[...]` expressions as main/ast_expr2.fl tokenizes them and main/ast_expr2.y
 * evaluates them, for text whose `${}` are already substituted:
 * - tokens: operators (`|| && == =~ ~~ >= <= != ::` before `| & = > < + - * / % ? ! : ( ) ,`),
 *   `"quoted"` strings (the quotes are part of the value: `"" | 5` is `""`), numbers
 *   (`[0-9]+(\.[0-9]+)?`, numeric strings), and other words (strings);
 * - precedence, lowest first: `? ::`, `|`, `&`, comparisons, `+ -`, `* / %`, unary `! -`,
 *   then `:` `=~` (regular expression match) and `~~` (concatenation), parentheses;
 * - comparisons are numeric when neither side is a string, else by characters;
 * - `|` gives its left side unless that is zero or empty, `&` its left side when neither is,
 *   else 0; arithmetic on a non-number logs "non-numeric argument" and goes on as ast_expr2 does;
 * - `a : re` matches the POSIX extended regular expression `re` at the start of `a` (quotes
 *   stripped from both), `=~` anywhere: the text of the first group, else the length matched;
 * - a syntax error logs a WARNING and the result is `0`; an empty expression is empty.
 * Regular expressions run as JavaScript's: the same strings match, but where POSIX takes the
 * longest of several alternatives JavaScript takes the first, so `:` may report less.
 */

type Value = { kind: 'number'; n: number } | { kind: 'numeric' | 'string'; s: string };
type Token = { op: string } | { value: Value };

export type Warn = (line: string) => void;

class ExpressionSyntaxError extends Error {}

const OPERATORS = ['||', '&&', '==', '=~', '~~', '>=', '<=', '!=', '::', '|', '&', '=', '>', '<', '+', ',', '-', '*', '/', '%', '?', '!', ':', '(', ')'];
const WORD = /^(?:[a-zA-Z0-9.';\\_^#@\x80-\uffff]|\$[^{])+/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^[ \t\r\n]+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    const quoted = /^"[^"]*"/.exec(rest);
    const number = /^[0-9]+(\.[0-9]+)?/.exec(rest);
    const word = WORD.exec(rest);
    // flex takes the longest match, the earlier rule on a tie.
    const candidates: Array<[number, Token]> = [];
    if (op) candidates.push([op.length, { op }]);
    if (quoted) candidates.push([quoted[0].length, { value: { kind: 'string', s: quoted[0] } }]);
    if (number) candidates.push([number[0].length, { value: { kind: 'numeric', s: number[0] } }]);
    if (word) candidates.push([word[0].length, { value: { kind: 'string', s: word[0] } }]);
    const best = candidates.reduce<[number, Token] | undefined>((b, c) => (b === undefined || c[0] > b[0] ? c : b), undefined);
    if (!best) throw new ExpressionSyntaxError(`unexpected ${JSON.stringify(text[i])}`);
    tokens.push(best[1]);
    i += best[0];
  }
  return tokens;
}

/** to_number(): a number, a numeric string made one, or null for a string. */
function toNumber(v: Value): number | null {
  if (v.kind === 'number') return v.n;
  return v.kind === 'numeric' ? Number(v.s) : null;
}

/** FP___PRINTF, `%.16Lg`. */
function format(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 16) return n.toExponential(15).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2');
  return n.toPrecision(16).replace(/\.?0+$/, '');
}

function asText(v: Value): string {
  return v.kind === 'number' ? format(v.n) : v.s;
}

function isZeroOrNull(v: Value): boolean {
  if (v.kind === 'number') return v.n === 0;
  return v.s === '' || (v.kind === 'numeric' && Number(v.s) === 0);
}

const num = (n: number): Value => ({ kind: 'number', n });
const str = (s: string): Value => ({ kind: 'string', s });

/** strip_quotes(): a value starting and ending with `"` loses every `"`. */
function stripQuotes(s: string): string {
  return s.length > 0 && s.startsWith('"') && s.endsWith('"') ? s.replace(/"/g, '') : s;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly warn: Warn,
  ) {}

  parse(): Value {
    if (this.tokens.length === 0) return str('');
    const value = this.conditional();
    if (this.pos < this.tokens.length) throw new ExpressionSyntaxError(`unexpected ${JSON.stringify(this.describe(this.tokens[this.pos]))}`);
    return value;
  }

  private describe(t: Token | undefined): string {
    return t === undefined ? 'end' : 'op' in t ? t.op : asText(t.value);
  }

  private take(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    if (t && 'op' in t && ops.includes(t.op)) {
      this.pos++;
      return t.op;
    }
    return undefined;
  }

  private conditional(): Value {
    let value = this.or();
    while (this.take('?')) {
      const a = this.or();
      if (!this.take('::')) throw new ExpressionSyntaxError('"?" without "::"');
      const b = this.or();
      const truth = value.kind === 'string' ? value.s !== '' && value.s !== '""' && value.s !== '0' : toNumber(value) !== 0;
      value = truth ? a : b;
    }
    return value;
  }

  private or(): Value {
    let left = this.and();
    while (this.take('|', '||')) {
      const right = this.and();
      left = isZeroOrNull(left) ? right : left;
    }
    return left;
  }

  private and(): Value {
    let left = this.comparison();
    while (this.take('&', '&&')) {
      const right = this.comparison();
      left = isZeroOrNull(left) || isZeroOrNull(right) ? num(0) : left;
    }
    return left;
  }

  private comparison(): Value {
    let left = this.additive();
    for (let op = this.take('=', '==', '!=', '<', '>', '<=', '>='); op; op = this.take('=', '==', '!=', '<', '>', '<=', '>=')) {
      const right = this.additive();
      let order: number;
      if (left.kind === 'string' || right.kind === 'string') {
        const [a, b] = [asText(left), asText(right)];
        order = a < b ? -1 : a > b ? 1 : 0;
      } else {
        order = Math.sign((toNumber(left) as number) - (toNumber(right) as number));
      }
      const result = { '=': order === 0, '==': order === 0, '!=': order !== 0, '<': order < 0, '>': order > 0, '<=': order <= 0, '>=': order >= 0 }[op];
      left = num(result ? 1 : 0);
    }
    return left;
  }

  private additive(): Value {
    let left = this.multiplicative();
    for (let op = this.take('+', '-'); op; op = this.take('+', '-')) {
      const right = this.multiplicative();
      const [a, b] = [toNumber(left), toNumber(right)];
      if (a === null || b === null) {
        this.warn('WARNING ast_expr2.y: non-numeric argument');
        left = a === null && b === null ? num(0) : a === null ? (op === '+' ? right : num(-(b as number))) : left;
      } else {
        left = num(op === '+' ? a + b : a - b);
      }
    }
    return left;
  }

  private multiplicative(): Value {
    let left = this.unary();
    for (let op = this.take('*', '/', '%'); op; op = this.take('*', '/', '%')) {
      const right = this.unary();
      const [a, b] = [toNumber(left), toNumber(right)];
      if (a === null || b === null) {
        this.warn('WARNING ast_expr2.y: non-numeric argument');
        left = num(op === '/' && a !== null ? 2147483647 : 0);
      } else if (op !== '*' && b === 0) {
        this.warn(op === '/' ? 'WARNING ast_expr2.y: division by zero' : 'WARNING ast_expr2.y: div by zero');
        left = op === '/' ? num(2147483647) : right;
      } else {
        left = num(op === '*' ? a * b : op === '/' ? a / b : a % b);
      }
    }
    return left;
  }

  private unary(): Value {
    if (this.take('!')) {
      const v = this.unary();
      // op_compl(): a string is read with atoi(), so `!abc` is 1.
      const truth = v.kind === 'number' ? v.n !== 0 : (Number.parseInt(v.s, 10) || 0) !== 0;
      return num(truth ? 0 : 1);
    }
    if (this.take('-')) {
      const n = toNumber(this.unary());
      if (n === null) this.warn('WARNING ast_expr2.y: non-numeric argument');
      return num(n === null ? 0 : -n);
    }
    return this.match();
  }

  private match(): Value {
    let left = this.primary();
    for (let op = this.take(':', '=~', '~~'); op; op = this.take(':', '=~', '~~')) {
      const right = this.primary();
      const [a, b] = [stripQuotes(asText(left)), stripQuotes(asText(right))];
      left = op === '~~' ? str(a + b) : this.regex(a, b, op === ':');
    }
    return left;
  }

  /** op_colon() (anchored at the start) and op_eqtilde(). */
  private regex(subject: string, pattern: string, anchored: boolean): Value {
    let re: RegExp;
    try {
      re = posixExtended(pattern);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      this.warn(`WARNING ast_expr2.y: regcomp() error : ${err.message}`);
      return str('');
    }
    const groups = new RegExp(`${re.source}|`).exec('')?.length ?? 1;
    const m = re.exec(subject);
    if (m && (!anchored || m.index === 0)) return m[1] !== undefined ? str(m[1]) : num(m[0].length);
    return groups > 1 ? str('') : num(0);
  }

  private primary(): Value {
    const t = this.tokens[this.pos];
    if (!t) throw new ExpressionSyntaxError('an operand is missing');
    this.pos++;
    if ('value' in t) {
      const next = this.tokens[this.pos];
      if (next && 'op' in next && next.op === '(') throw new Error(`$[${asText(t.value)}(...)]: functions inside expressions are not modelled`);
      return t.value;
    }
    if (t.op === '(') {
      const v = this.conditional();
      if (!this.take(')')) throw new ExpressionSyntaxError('")" is missing');
      return v;
    }
    throw new ExpressionSyntaxError(`unexpected ${JSON.stringify(t.op)}`);
  }
}

/** A POSIX extended regular expression (regcomp(REG_EXTENDED)) as a JavaScript RegExp; a malformed one throws SyntaxError. */
export function posixExtended(pattern: string): RegExp {
  if (/\[\[[:.=]/.test(pattern) || /\\[1-9]/.test(pattern)) throw new Error(`the dialplan double does not model ${JSON.stringify(pattern)}`);
  return new RegExp(pattern);
}

/** Evaluates an expression whose variables are already substituted, as ast_expr() does. */
export function evaluateExpression(source: string, warn: Warn = () => {}): string {
  try {
    return asText(new Parser(tokenize(source), warn).parse());
  } catch (err) {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    warn(`WARNING ast_expr2.y: ast_yyerror(): syntax error: ${err.message}; Input:\n${source}\n^ error ^`);
    return '0';
  }
}

/** pbx_checkcondition(): empty is false, a leading integer is its value, any other text is true. */
export function isTrue(condition: string): boolean {
  if (condition === '') return false;
  const n = /^\s*[-+]?\d+/.exec(condition);
  return n ? Number.parseInt(n[0], 10) !== 0 : true;
}
