/**
 * Asterisk's `$[...]` expressions (main/ast_expr2.y), the part dialplans use: `|`, `&`,
 * comparisons (`= == != < > <= >=`, numeric when both sides are numbers, else as strings),
 * `+ - * / %`, unary `-` and `!`, parentheses, `cond ? a :: b`, and `"quoted"` operands
 * (quotes removed). `|` gives its left side if that is true, else its right; `&` gives its left
 * side if both are true, else 0. A syntax error gives "" (and Asterisk logs a WARNING): the
 * caller records it.
 */

export class ExpressionError extends Error {}

type Token = { kind: 'op'; value: string } | { kind: 'value'; value: string };

const OPERATORS = ['::', '==', '!=', '<=', '>=', '=~', '|', '&', '=', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', '?', ':'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1) throw new ExpressionError(`unterminated string in ${JSON.stringify(text)}`);
      tokens.push({ kind: 'value', value: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', value: op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j] as string) && text[j] !== '"' && !OPERATORS.some((o) => text.startsWith(o, j))) j++;
    tokens.push({ kind: 'value', value: text.slice(i, j) });
    i = j;
  }
  return tokens;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
const isNumber = (v: string): boolean => NUMBER.test(v);

/** pbx_checkcondition(): empty is false, a leading digit is read as an integer, any other text is true. */
export function isTrue(value: string): boolean {
  if (value === '') return false;
  if (/^[0-9]/.test(value)) return Number.parseInt(value, 10) !== 0;
  return true;
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new ExpressionError(`not a finite number: ${n}`);
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): string {
    const value = this.ternary();
    if (this.pos < this.tokens.length) throw new ExpressionError(`unexpected ${JSON.stringify(this.tokens[this.pos]?.value)}`);
    return value;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    return t && t.kind === 'op' && ops.includes(t.value) ? t.value : undefined;
  }

  private ternary(): string {
    const cond = this.or();
    if (!this.peekOp('?')) return cond;
    this.pos++;
    const a = this.ternary();
    if (!this.peekOp('::')) throw new ExpressionError('"?" without "::"');
    this.pos++;
    const b = this.ternary();
    return isTrue(cond) ? a : b;
  }

  private or(): string {
    let left = this.and();
    while (this.peekOp('|')) {
      this.pos++;
      const right = this.and();
      left = isTrue(left) ? left : right;
    }
    return left;
  }

  private and(): string {
    let left = this.comparison();
    while (this.peekOp('&')) {
      this.pos++;
      const right = this.comparison();
      left = isTrue(left) && isTrue(right) ? left : '0';
    }
    return left;
  }

  private comparison(): string {
    let left = this.additive();
    for (let op = this.peekOp('=', '==', '!=', '<', '>', '<=', '>='); op; op = this.peekOp('=', '==', '!=', '<', '>', '<=', '>=')) {
      this.pos++;
      const right = this.additive();
      const order = isNumber(left) && isNumber(right) ? Number(left) - Number(right) : left < right ? -1 : left > right ? 1 : 0;
      const result = { '=': order === 0, '==': order === 0, '!=': order !== 0, '<': order < 0, '>': order > 0, '<=': order <= 0, '>=': order >= 0 }[op];
      left = result ? '1' : '0';
    }
    return left;
  }

  private additive(): string {
    let left = this.multiplicative();
    for (let op = this.peekOp('+', '-'); op; op = this.peekOp('+', '-')) {
      this.pos++;
      const right = this.multiplicative();
      left = formatNumber(op === '+' ? this.num(left) + this.num(right) : this.num(left) - this.num(right));
    }
    return left;
  }

  private multiplicative(): string {
    let left = this.unary();
    for (let op = this.peekOp('*', '/', '%'); op; op = this.peekOp('*', '/', '%')) {
      this.pos++;
      const right = this.unary();
      const [a, b] = [this.num(left), this.num(right)];
      if (op !== '*' && b === 0) throw new ExpressionError('division by zero');
      left = formatNumber(op === '*' ? a * b : op === '/' ? a / b : a % b);
    }
    return left;
  }

  private unary(): string {
    if (this.peekOp('!')) {
      this.pos++;
      return isTrue(this.unary()) ? '0' : '1';
    }
    if (this.peekOp('-')) {
      this.pos++;
      return formatNumber(-this.num(this.unary()));
    }
    return this.primary();
  }

  private primary(): string {
    const t = this.tokens[this.pos];
    if (!t) throw new ExpressionError('an operand is missing');
    if (t.kind === 'op' && t.value === '(') {
      this.pos++;
      const v = this.ternary();
      if (!this.peekOp(')')) throw new ExpressionError('")" is missing');
      this.pos++;
      return v;
    }
    if (t.kind === 'op') throw new ExpressionError(`unexpected ${JSON.stringify(t.value)}`);
    this.pos++;
    return t.value;
  }

  private num(v: string): number {
    if (!isNumber(v)) throw new ExpressionError(`not a number: ${JSON.stringify(v)}`);
    return Number(v);
  }
}

/** Evaluates an expression whose variables are already substituted; throws ExpressionError on a syntax error. */
export function evaluateExpression(text: string): string {
  return new Parser(tokenize(text)).parse();
}
