/**
 * extensions.conf read as Asterisk reads it: `;` starts a comment, `[name]` opens a context,
 * `exten => NAME,PRIORITY,App(data)` and `same => PRIORITY,App(data)` add priorities, where
 * PRIORITY is a number, `n`, or either with a `(label)`; `[globals]` holds `NAME=value` lines.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './captures.js';

export interface Priority {
  exten: string;
  number: number;
  label?: string;
  app: string;
  /** Everything between the application's first `(` and its last `)`, not yet expanded. */
  data: string;
  /** The line as written, comment removed. */
  line: string;
}

export interface DialplanConf {
  /** Per context, its non-empty lines with comments cut off and trimmed, in order. */
  lines: Map<string, string[]>;
  /** Per context, per extension name as written (`_X.`, `s`, `T`), its priorities in order. */
  extensions: Map<string, Map<string, Priority[]>>;
  globals: Map<string, string>;
}

export type ShippedDialplan = 'extensions-dialguard.conf' | 'extensions-dialguard-ari.conf';

export function shippedDialplanText(file: ShippedDialplan): string {
  return readFileSync(resolve(repoRoot, 'dialplan', file), 'utf8');
}

export function readShippedDialplan(file: ShippedDialplan): DialplanConf {
  return parseDialplan(shippedDialplanText(file));
}

/** Parses one or more files' text (a site's own contexts may be appended to a shipped file). */
export function parseDialplan(text: string): DialplanConf {
  const conf: DialplanConf = { lines: new Map(), extensions: new Map(), globals: new Map() };
  let context = '';
  let last: Priority | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      context = header[1] as string;
      if (!conf.lines.has(context)) conf.lines.set(context, []);
      if (!conf.extensions.has(context)) conf.extensions.set(context, new Map());
      continue;
    }
    conf.lines.get(context)?.push(line);
    if (context === 'globals') {
      const eq = line.indexOf('=');
      if (eq > 0) conf.globals.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
      continue;
    }
    const priority = parsePriorityLine(line, last);
    if (!priority) throw new Error(`[${context}] not an extension line: ${line}`);
    const extensions = conf.extensions.get(context) as Map<string, Priority[]>;
    const list = extensions.get(priority.exten) ?? [];
    list.push(priority);
    extensions.set(priority.exten, list);
    last = priority;
  }
  return conf;
}

function parsePriorityLine(line: string, previous: Priority | undefined): Priority | undefined {
  const m = /^(exten|same)\s*=>\s*(.*)$/.exec(line);
  if (!m) return undefined;
  let rest = m[2] as string;
  let exten: string;
  if (m[1] === 'exten') {
    const comma = rest.indexOf(',');
    exten = rest.slice(0, comma).trim();
    rest = rest.slice(comma + 1);
  } else {
    if (!previous) return undefined;
    exten = previous.exten;
  }
  const comma = rest.indexOf(',');
  const spec = rest.slice(0, comma).trim();
  const application = rest.slice(comma + 1).trim();
  const p = /^(\d+|n)(?:\(([^)]+)\))?$/.exec(spec);
  if (!p) return undefined;
  const sameExten = previous?.exten === exten;
  const number = p[1] === 'n' ? (sameExten && previous ? previous.number + 1 : 1) : Number(p[1]);
  const open = application.indexOf('(');
  const app = open < 0 ? application : application.slice(0, open);
  const data = open < 0 ? '' : application.slice(open + 1, application.lastIndexOf(')'));
  return { exten, number, ...(p[2] ? { label: p[2] } : {}), app, data, line };
}
