/**
 * extensions.conf read the way Asterisk's config parser and pbx_config read it, across
 * `#include`d files:
 * - `;` starts a comment, `\;` is a literal semicolon;
 * - `[name]` opens a context; a context named twice (in two files) is one context;
 * - every `[globals]` section is read (pbx_config.c: "ast_variable_browse does not merge
 *   multiple [globals] sections", so it walks them all), a later value winning;
 * - `exten => NAME,PRIORITY,App(data)` and `same => PRIORITY,App(data)`, where PRIORITY is a
 *   number, `n` (the previous line's priority plus one; reset at each `[section]`), or either
 *   with a `(label)`; `include => context`;
 * - the data is what lies between the application's first `(` and its LAST `)`; with no `)`
 *   pbx_config keeps the rest and warns "No closing parenthesis found?";
 * - a priority that is already registered is refused and the first one kept, with Asterisk's
 *   two WARNING lines (pbx.c add_priority(), pbx_config.c): this is how a hook in
 *   extensions_custom.conf wins over FreePBX's empty one later in extensions.conf.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { repoRoot } from '../captures.js';

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
  /** Its `exten =>`, `same =>` and `include =>` lines as read, comments removed, in order. */
  lines: string[];
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
  return load(entry, (name) => readFileSync(pathOf(files, name), 'utf8'));
}

/** Reads a dialplan given as the text of extensions.conf, its `#include`s from `files`. */
export function parseDialplan(text: string, files: ConfigFiles = {}): Dialplan {
  return load('extensions.conf', (name) => (name === 'extensions.conf' ? text : readFileSync(pathOf(files, name), 'utf8')));
}

function pathOf(files: ConfigFiles, name: string): string {
  const path = files[name];
  if (path === undefined) throw new Error(`#include ${name}: not among the files given`);
  return path;
}

export type ShippedDialplan = 'extensions-dialguard.conf' | 'extensions-dialguard-ari.conf';

export function shippedDialplanText(file: ShippedDialplan): string {
  return readFileSync(resolve(repoRoot, 'dialplan', file), 'utf8');
}

export function readShippedDialplan(file: ShippedDialplan): Dialplan {
  return parseDialplan(shippedDialplanText(file));
}

/**
 * The application lines whose parentheses do not balance. Asterisk takes a `;` for the start
 * of a comment anywhere in a line, so one in an application's data cuts the line short, and
 * pbx_config only notices when no `)` is left at all.
 */
export function unbalancedLines(dialplan: Dialplan): string[] {
  const depth = (line: string): number => [...line].reduce((d, c) => d + (c === '(' ? 1 : c === ')' ? -1 : 0), 0);
  return [...dialplan.contexts.values()].flatMap((c) => c.lines.filter((l) => /^(exten|same)\s*=>/.test(l) && depth(l) !== 0));
}

function load(entry: string, read: (name: string) => string): Dialplan {
  const dialplan: Dialplan = { contexts: new Map(), globals: new Map(), warnings: [] };
  new Loader(dialplan, read).file(entry);
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
  /** pbx_config's continuation state: `same` repeats the previous extension, `n` is the previous priority plus one. */
  private lastExten = '';
  private lastPriority = -2;

  constructor(
    private readonly dialplan: Dialplan,
    private readonly read: (name: string) => string,
  ) {}

  file(name: string): void {
    this.read(name)
      .split('\n')
      .forEach((raw, index) => this.line(raw, basename(name), index + 1));
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
      this.lastPriority = -2;
      if (this.context !== 'globals' && !this.dialplan.contexts.has(this.context)) {
        this.dialplan.contexts.set(this.context, { name: this.context, extensions: new Map(), includes: [], lines: [] });
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
    context.lines.push(line);
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
    this.lastExten = exten;
    const comma = rest.indexOf(',');
    const priorityText = rest.slice(0, comma).trim();
    const application = rest.slice(comma + 1).trim();
    if (priorityText === 'hint') return;
    const labelled = /^(\d+|n)(?:\(([^)]+)\))?$/.exec(priorityText);
    if (!labelled) throw new Error(`${file}:${lineNo}: unsupported priority ${JSON.stringify(priorityText)}`);
    if (labelled[1] === 'n' && this.lastPriority < 0) throw new Error(`${file}:${lineNo}: Can't use 'next' priority on the first entry`);
    const number = labelled[1] === 'n' ? this.lastPriority + 1 : Number(labelled[1]);
    this.lastPriority = number;
    const paren = application.indexOf('(');
    const close = application.lastIndexOf(')');
    const app = (paren === -1 ? application : application.slice(0, paren)).trim();
    if (paren !== -1 && close < paren) {
      this.dialplan.warnings.push(`WARNING pbx_config.c: No closing parenthesis found? '${application}' at line ${lineNo} of ${file}`);
    }
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
