/**
 * The state of one Asterisk channel as the dialplan sees it: where it is, its variables (a
 * stack per name, as Asterisk keeps them: LOCAL() and Gosub arguments push a value that
 * Return() pops), its Gosub frames and its hangup handlers.
 */

export interface ChannelOptions {
  /** `PJSIP/1001-00000001`; the technology is what comes before the `/`. */
  name: string;
  uniqueid?: string;
  /** PJSIP only: `${CHANNEL(endpoint)}`. */
  endpoint?: string;
  /** PJSIP only: `${CHANNEL(pjsip,remote_addr)}`. */
  remoteAddr?: string;
  callerId?: { num: string; name: string };
  /** Channel variables already set when the call reaches the dialplan under test. */
  variables?: Readonly<Record<string, string>>;
}

export interface Location {
  context: string;
  exten: string;
  priority: number;
}

export interface Frame {
  /** Where Return() goes: the priority after the Gosub. */
  returnTo: Location;
  /** Names pushed in this frame (LOCAL(), ARGn, ARGC), popped on Return(). */
  locals: Set<string>;
  /** A hangup handler's frame: its Return() ends the handler. */
  special: boolean;
  /** How many arguments it was called with: the next Gosub masks as many of them. */
  argc: number;
}

export class Channel {
  readonly name: string;
  readonly uniqueid: string;
  readonly type: string;
  readonly endpoint: string;
  readonly remoteAddr: string;
  callerId: { num: string; name: string };
  location: Location = { context: '', exten: '', priority: 1 };
  readonly frames: Frame[] = [];
  /** `Set(CHANNEL(hangup_handler_push)=…)`, most recent last. */
  readonly hangupHandlers: string[] = [];
  hungUp = false;
  hangupCause = 0;
  private readonly vars = new Map<string, string[]>();

  constructor(options: ChannelOptions) {
    this.name = options.name;
    this.uniqueid = options.uniqueid ?? '1795264997.1';
    this.type = options.name.slice(0, Math.max(0, options.name.indexOf('/')));
    this.endpoint = options.endpoint ?? '';
    this.remoteAddr = options.remoteAddr ?? '';
    this.callerId = { ...(options.callerId ?? { num: '', name: '' }) };
    for (const [name, value] of Object.entries(options.variables ?? {})) this.set(name, value);
  }

  get(name: string): string | undefined {
    return this.vars.get(name)?.at(-1);
  }

  /** pbx_builtin_setvar_helper(): replaces the visible value; a leading `_` or `__` (inheritance) is not part of the name. */
  set(name: string, value: string): void {
    const key = name.replace(/^_{1,2}/, '');
    const stack = this.vars.get(key);
    if (stack && stack.length > 0) stack[stack.length - 1] = value;
    else this.vars.set(key, [value]);
  }

  /** pbx_builtin_pushvar_helper(): shadows the current value until pop(). */
  push(name: string, value: string): void {
    const stack = this.vars.get(name) ?? [];
    stack.push(value);
    this.vars.set(name, stack);
  }

  /** pbx_builtin_setvar_helper(name, NULL): removes the visible value. */
  unset(name: string): void {
    this.pop(name);
  }

  pop(name: string): void {
    const stack = this.vars.get(name);
    stack?.pop();
    if (stack && stack.length === 0) this.vars.delete(name);
  }

  /** Every visible variable, as AGI's GET VARIABLE would read them. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, stack] of this.vars) if (stack.length > 0) out[name] = stack.at(-1) as string;
    return out;
  }
}
