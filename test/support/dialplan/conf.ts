/**
 * extensions.conf read the way Asterisk's pbx_config reads it, across `#include`d files:
 * - `;` starts a comment, `\;` is a literal semicolon;
 * - `[name]` opens a context; a context named twice (in two files) is one context;
 * - every `[globals]` section is read (Asterisk merges them since 2018, pbx_config.c
 *   "ast_variable_browse does not merge multiple [globals] sections");
 * - `exten => NAME,PRIORITY,App(data)` and `same => PRIORITY,App(data)`, where PRIORITY is a
 *   number, `n` (the previous priority of the same extension plus one), or either with a
 *   `(label)`; `include => context`;
 * - a priority that is already registered is refused and the first one kept, with Asterisk's
 *   two WARNING lines (pbx.c add_priority(), pbx_config.c): this is how a hook in
 *   extensions_custom.conf wins over FreePBX's empty one later in extensions.conf.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface Priority {
  context: string;
  /** The extension as written: `s`, `_X.`, `h`. */
  exten: string;
  priority: number;
  label?: string;
  /** The application as written (`return`, `Set`); looked up without regard to case. */
  app: string;
  /** Between the application's first `(` and its last `)`, not yet expanded. */
  data: string;
  file: string;
  line: number;
}

export interface Context {
  name: string;
  /** Per extension as written, its priorities by number. */
  extensions: Map<string, Map<number, Priority>>;
  includes: string[];
}

export interface Dialplan {
  contexts: Map<string, Context>;
  globals: Map<string, string>;
  /** What Asterisk would have logged while loading, as `WARNING file.c: text`. */
  warnings: string[];
}

/** Files by the name `#include` uses, the way /etc/asterisk holds them: name → path on disk. */
export type ConfigFiles = Readonly<Record<string, string>>;

/** Loads `entry` (a name in `files`) and everything it includes, in Asterisk's order. */
export function loadDialplan(entry: string, files: ConfigFiles): Dialplan {
  const dialplan: Dialplan = { contexts: new Map(), globals: new Map(), warnings: [] };
  new Loader(dialplan, files).file(entry);
  return dialplan;
}

/** The part of a line before its comment, with `\;` turned into `;`. */
function stripComment(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\\' && raw[i + 1] === ';') {
      out += ';';
      i++;
    } else if (ch === ';') {
      break;
    } else {
      out += ch;
    }
  }
  return out.trim();
}

class Loader {
  private context = '';
  /** pbx_config's continuation state: `n` and `same` refer to the previous extension line. */
  private lastExten = '';
  private lastPriority = 0;

  constructor(
    private readonly dialplan: Dialplan,
    private readonly files: ConfigFiles,
  ) {}

  file(name: string): void {
    const path = this.files[name];
    if (path === undefined) throw new Error(`#include ${name}: not among the files given to loadDialplan()`);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((raw, index) => this.line(raw, basename(name), index + 1));
  }

  private line(raw: string, file: string, lineNo: number): void {
    const include = /^\s*#include\s+"?([^"\s]+)"?/.exec(raw);
    if (include) return this.file(include[1] as string);
    const line = stripComment(raw);
    if (!line) return;
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      this.context = header[1] as string;
      this.lastExten = '';
      if (this.context !== 'globals' && !this.dialplan.contexts.has(this.context)) {
        this.dialplan.contexts.set(this.context, { name: this.context, extensions: new Map(), includes: [] });
      }
      return;
    }
    if (this.context === 'globals') {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new Error(`${file}:${lineNo}: not a NAME=value line in [globals]: ${line}`);
      this.dialplan.globals.set(line.slice(0, eq).trim(), line.slice(eq + 1).replace(/^>/, '').trim());
      return;
    }
    const statement = /^(exten|same|include)\s*=>\s*(.*)$/.exec(line);
    if (!statement) throw new Error(`${file}:${lineNo}: not an exten/same/include line: ${line}`);
    const context = this.dialplan.contexts.get(this.context);
    if (!context) throw new Error(`${file}:${lineNo}: a line outside any context`);
    const [, kind, rest] = statement as unknown as [string, string, string];
    if (kind === 'include') {
      context.includes.push(rest.trim());
      return;
    }
    this.priority(context, kind === 'same' ? null : rest, kind === 'same' ? rest : null, file, lineNo);
  }

  private priority(context: Context, extenLine: string | null, sameLine: string | null, file: string, lineNo: number): void {
    let exten: string;
    let rest: string;
    if (extenLine !== null) {
      const comma = extenLine.indexOf(',');
      exten = extenLine.slice(0, comma).trim();
      rest = extenLine.slice(comma + 1);
    } else {
      if (!this.lastExten) throw new Error(`${file}:${lineNo}: "same =>" with no extension before it`);
      exten = this.lastExten;
      rest = sameLine as string;
    }
    const comma = rest.indexOf(',');
    const priorityText = rest.slice(0, comma).trim();
    const application = rest.slice(comma + 1).trim();
    if (priorityText === 'hint') return;
    const labelled = /^(\d+|n)(?:\((\w+)\))?$/.exec(priorityText);
    if (!labelled) throw new Error(`${file}:${lineNo}: unsupported priority ${JSON.stringify(priorityText)}`);
    const number = labelled[1] === 'n' ? (exten === this.lastExten ? this.lastPriority + 1 : 1) : Number(labelled[1]);
    this.lastExten = exten;
    this.lastPriority = number;
    const paren = application.indexOf('(');
    const close = application.lastIndexOf(')');
    const app = (paren === -1 ? application : application.slice(0, paren)).trim();
    const data = paren === -1 ? '' : application.slice(paren + 1, close > paren ? close : undefined);
    const priorities = context.extensions.get(exten) ?? new Map<number, Priority>();
    context.extensions.set(exten, priorities);
    if (priorities.has(number)) {
      this.dialplan.warnings.push(
        `WARNING pbx.c: Unable to register extension '${exten}' priority ${number} in '${context.name}', already in use`,
        `WARNING pbx_config.c: Unable to register extension at line ${lineNo} of ${file}`,
      );
      return;
    }
    priorities.set(number, { context: context.name, exten, priority: number, label: labelled[2], app, data, file, line: lineNo });
  }
}

/**
 * Asterisk's extension patterns: `_` then X (0-9), Z (1-9), N (2-9), `[...]` (with ranges),
 * `.` (one or more of anything), `!` (zero or more), anything else literally.
 */
function patternMatches(pattern: string, exten: string): boolean {
  if (!pattern.startsWith('_')) return pattern === exten;
  return matchFrom(pattern.slice(1), 0, exten, 0);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  if (pi === p.length) return si === s.length;
  const ch = p[pi] as string;
  if (ch === '.') return si < s.length;
  if (ch === '!') return true;
  if (si === s.length) return false;
  const c = s[si] as string;
  if (ch === '[') {
    const close = p.indexOf(']', pi);
    if (close === -1) throw new Error(`unclosed [ in pattern _${p}`);
    return inClass(p.slice(pi + 1, close), c) && matchFrom(p, close + 1, s, si + 1);
  }
  const ok = ch === 'X' ? /[0-9]/.test(c) : ch === 'Z' ? /[1-9]/.test(c) : ch === 'N' ? /[2-9]/.test(c) : ch === c;
  return ok && matchFrom(p, pi + 1, s, si + 1);
}

function inClass(set: string, c: string): boolean {
  for (let i = 0; i < set.length; i++) {
    const from = set[i] as string;
    if (set[i + 1] === '-' && i + 2 < set.length) {
      const to = set[i + 2] as string;
      if (c >= from && c <= to) return true;
      i += 2;
    } else if (c === from) {
      return true;
    }
  }
  return false;
}

/** How many characters a pattern position accepts: Asterisk prefers the narrower pattern. */
function specificity(pattern: string): number[] {
  const out: number[] = [];
  const p = pattern.slice(1);
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] as string;
    if (ch === '[') {
      const close = p.indexOf(']', i);
      out.push(close - i - 1);
      i = close;
    } else {
      out.push(ch === 'X' ? 10 : ch === 'Z' ? 9 : ch === 'N' ? 8 : ch === '.' || ch === '!' ? 1000 : 1);
    }
  }
  return out;
}

function narrower(a: string, b: string): number {
  const sa = specificity(a);
  const sb = specificity(b);
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (sa[i] !== sb[i]) return (sa[i] as number) - (sb[i] as number);
  }
  return sb.length - sa.length;
}

/** The extension of `context` (or of a context it includes) that `exten` runs: exact first, then the narrowest pattern. */
export function findExtension(dialplan: Dialplan, contextName: string, exten: string, seen = new Set<string>()): Map<number, Priority> | undefined {
  const context = dialplan.contexts.get(contextName);
  if (!context || seen.has(contextName)) return undefined;
  seen.add(contextName);
  const exact = context.extensions.get(exten);
  if (exact) return exact;
  const patterns = [...context.extensions.keys()].filter((p) => p.startsWith('_') && patternMatches(p, exten)).sort(narrower);
  if (patterns.length > 0) return context.extensions.get(patterns[0] as string);
  for (const included of context.includes) {
    const found = findExtension(dialplan, included, exten, seen);
    if (found) return found;
  }
  return undefined;
}
