/**
 * The dialplan functions the shipped dialplans and FreePBX's generated trunk dialplan use, read
 * (`${FUNC(args)}`) and written (`Set(FUNC(args)=value)`), with Asterisk's meaning. A read that
 * fails in Asterisk (the function returns -1) gives `null`: nothing is substituted. An unknown
 * function, or a CHANNEL() item the double does not model, is an error here, so that a
 * construct the double does not know cannot pass a test by accident.
 */
import type { Channel } from './channel.js';
import { separateArgs } from './expand.js';
import { isTrue, posixExtended } from './expression.js';

export interface FunctionHost {
  channel: Channel;
  globals: Map<string, string>;
  /** The Asterisk database (`DB(family/key)`). */
  astdb: Map<string, string>;
  variable(name: string): string | undefined;
  /** Sets a LOCAL variable of the current Gosub frame. */
  setLocal(name: string, value: string): void;
  /** `${TIMEOUT(absolute)}`. */
  absoluteTimeoutLeft(): string;
  /** `Set(TIMEOUT(absolute)=…)`. */
  setAbsoluteTimeout(value: string): void;
  log(line: string): void;
  warn(line: string): void;
}

interface DialplanFunction {
  read?(host: FunctionHost, args: string): string | null;
  write?(host: FunctionHost, args: string, value: string): void;
}

/** func_logic.c acf_if(): `IF(expr?[true][:false])`, split like AST_NONSTANDARD_APP_ARGS, each part stripped. */
function ifFunction(args: string): string | null {
  const [expr, remainder] = separateArgs(args, { delimiter: '?', max: 2 });
  const branches = remainder === undefined ? [] : separateArgs(remainder, { delimiter: ':', max: 2 });
  if (!expr?.trim() || branches.length === 0) return null;
  const [whenTrue = '', whenFalse = ''] = branches;
  return isTrue(expr.trim()) ? whenTrue.trim() : whenFalse.trim();
}

/** func_strings.c regex(): `REGEX("re" string)`, split at `"`; 1 on a match, 0 otherwise. */
function regex(host: FunctionHost, args: string): string | null {
  const parts = separateArgs(args, { delimiter: '"', max: 3 });
  if (parts.length !== 3) {
    host.warn(`ERROR func_strings.c: Unexpected arguments: should have been in the form '"<regex>" <string>'`);
    return null;
  }
  const [, pattern = '', subject = ''] = parts;
  let re: RegExp;
  try {
    re = posixExtended(pattern);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    host.warn(`WARNING func_strings.c: Malformed input REGEX(${args}): ${err.message}`);
    return null;
  }
  return re.test(/^[ \t]/.test(subject) ? subject.slice(1) : subject) ? '1' : '0';
}

/** `CUT(varname,delimiter,fields)`: fields `2`, `2-3`, `2-`, `-2`. */
function cut(host: FunctionHost, args: string): string {
  const [name = '', delimiter = '-', spec = '1'] = separateArgs(args);
  const parts = (host.variable(name) ?? '').split(delimiter.charAt(0) || '-');
  const range = /^(\d*)(-?)(\d*)$/.exec(spec);
  if (!range) return '';
  const from = range[1] ? Number(range[1]) : 1;
  const to = range[2] ? (range[3] ? Number(range[3]) : parts.length) : from;
  return parts.slice(from - 1, to).join(delimiter.charAt(0) || '-');
}

/** CHANNEL(item) for the channel technologies of the captures; an item of another technology is func_channel.c's WARNING. */
function channelItem(host: FunctionHost, item: string): string {
  const ch = host.channel;
  const only = (tech: string, value: string): string => {
    if (ch.tech === tech) return value;
    host.warn(`WARNING func_channel.c: Unknown or unavailable item requested: '${item}'`);
    return '';
  };
  switch (item) {
    case 'channeltype':
      return ch.tech;
    case 'name':
      return ch.name;
    case 'uniqueid':
      return ch.uniqueid;
    case 'state':
      return ch.state;
    case 'endpoint':
      return only('PJSIP', ch.endpoint);
    case 'pjsip,remote_addr':
      return only('PJSIP', ch.remoteAddr);
    case 'recvip':
      return only('SIP', ch.recvip);
    case 'peername':
      return only('SIP', ch.endpoint);
    default:
      throw new Error(`CHANNEL(${item}) is not modelled by the dialplan double`);
  }
}

const FUNCTIONS: Record<string, DialplanFunction> = {
  IF: { read: (_h, args) => ifFunction(args) },
  REGEX: { read: regex },
  LEN: { read: (_h, args) => String(args.length) },
  ISNULL: { read: (_h, args) => (args === '' ? '1' : '0') },
  CUT: { read: cut },
  STRREPLACE: {
    read(host, args) {
      const [name = '', find = '', replace = ''] = separateArgs(args);
      return (host.variable(name) ?? '').split(find).join(replace);
    },
  },
  DB: {
    read: (host, key) => host.astdb.get(key) ?? '',
    write: (host, key, value) => void host.astdb.set(key, value),
  },
  DB_EXISTS: {
    read(host, key) {
      const value = host.astdb.get(key);
      host.channel.set('DB_RESULT', value ?? '');
      return value === undefined ? '0' : '1';
    },
  },
  // Counts channels in a group across the system; the double places one call at a time.
  GROUP_COUNT: { read: () => '0' },
  CALLERID: {
    read(host, item) {
      const id = host.channel.callerId;
      if (item === 'num' || item === 'number') return id.num;
      if (item === 'name') return id.name;
      if (item === 'all') return `"${id.name}" <${id.num}>`;
      throw new Error(`CALLERID(${item}) is not modelled by the dialplan double`);
    },
    write(host, item, value) {
      if (item === 'num' || item === 'number') host.channel.callerId.num = value;
      else if (item === 'name') host.channel.callerId.name = value;
      else throw new Error(`Set(CALLERID(${item})) is not modelled by the dialplan double`);
    },
  },
  CHANNEL: {
    read: channelItem,
    write(host, item, value) {
      if (item === 'hangup_handler_push') host.channel.hangupHandlers.push(value);
      else throw new Error(`Set(CHANNEL(${item})) is not modelled by the dialplan double`);
    },
  },
  // Stored as app_func_hash does, in a variable named ~HASH~name~key~.
  HASH: {
    read(host, args) {
      const [name = '', key = ''] = separateArgs(args);
      return host.variable(`~HASH~${name.replace(/^_{1,2}/, '')}~${key}~`) ?? '';
    },
    write(host, args, value) {
      const [name = '', key = ''] = separateArgs(args);
      host.channel.set(`~HASH~${name.replace(/^_{1,2}/, '')}~${key}~`, value);
    },
  },
  CONNECTEDLINE: {
    read: (host, args) => host.variable(`CONNECTEDLINE(${args})`) ?? '',
    write: (host, args, value) => host.channel.set(`CONNECTEDLINE(${args})`, value),
  },
  TIMEOUT: {
    read(host, kind) {
      if (kind !== 'absolute') throw new Error(`TIMEOUT(${kind}) is not modelled by the dialplan double`);
      return host.absoluteTimeoutLeft();
    },
    write(host, kind, value) {
      if (kind !== 'absolute') throw new Error(`Set(TIMEOUT(${kind})) is not modelled by the dialplan double`);
      host.setAbsoluteTimeout(value);
    },
  },
  LOCAL: {
    read: (host, name) => host.variable(name) ?? '',
    write: (host, name, value) => host.setLocal(name, value),
  },
  GLOBAL: {
    read: (host, name) => host.globals.get(name) ?? '',
    write: (host, name, value) => void host.globals.set(name, value),
  },
};

function lookup(name: string): DialplanFunction {
  const fn = FUNCTIONS[name.toUpperCase()];
  if (!fn) throw new Error(`dialplan function ${name}() is not modelled by the dialplan double`);
  return fn;
}

export function readFunction(host: FunctionHost, name: string, args: string): string | null {
  const fn = lookup(name);
  if (!fn.read) throw new Error(`${name}() cannot be read`);
  return fn.read(host, args);
}

export function writeFunction(host: FunctionHost, name: string, args: string, value: string): void {
  const fn = lookup(name);
  if (!fn.write) throw new Error(`${name}() cannot be written`);
  fn.write(host, args, value);
}
