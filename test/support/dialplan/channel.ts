/**
 * The state of one Asterisk channel as the dialplan sees it: what it is (technology, endpoint,
 * addresses), where it is, its variables (a stack per name, as Asterisk keeps them: LOCAL() and
 * Gosub arguments push a value that Return() pops), its Gosub frames and its hangup handlers.
 */

export type ChannelTech = 'PJSIP' | 'SIP' | 'Local';

export interface ChannelSpec {
  /** CHANNEL(channeltype). */
  tech: ChannelTech;
  /** PJSIP: CHANNEL(endpoint). chan_sip: CHANNEL(peername). */
  endpoint?: string;
  /** PJSIP: CHANNEL(pjsip,remote_addr), `192.168.1.20:5060`. */
  remoteAddr?: string;
  /** chan_sip: CHANNEL(recvip), a bare address. */
  recvip?: string;
  callerId: { num: string; name?: string };
  /** Default from the technology and caller: `PJSIP/1001-00000001`. */
  name?: string;
  uniqueid?: string;
  /** `Up` for a channel already answered (voicemail). Default `Ring`. */
  state?: 'Ring' | 'Up';
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
  /** app_stack's frame->arguments: how many ARGn it set, masked ones included. */
  argc: number;
}

export class Channel {
  readonly name: string;
  readonly uniqueid: string;
  readonly tech: ChannelTech;
  readonly endpoint: string;
  readonly remoteAddr: string;
  readonly recvip: string;
  readonly callerId: { num: string; name: string };
  state: 'Ring' | 'Up';
  location: Location;
  readonly frames: Frame[] = [];
  /** `Set(CHANNEL(hangup_handler_push)=…)`, most recent last. */
  readonly hangupHandlers: string[] = [];
  hungUp = false;
  hangupCause = 0;
  private readonly vars = new Map<string, string[]>();

  constructor(spec: ChannelSpec, start: { context: string; exten: string }) {
    this.tech = spec.tech;
    this.name = spec.name ?? (spec.tech === 'Local' ? `Local/${start.exten}@${start.context}-00000001;2` : `${spec.tech}/${spec.callerId.num}-00000001`);
    this.uniqueid = spec.uniqueid ?? '1796163213.7';
    this.endpoint = spec.endpoint ?? '';
    this.remoteAddr = spec.remoteAddr ?? '';
    this.recvip = spec.recvip ?? '';
    this.callerId = { num: spec.callerId.num, name: spec.callerId.name ?? '' };
    this.state = spec.state ?? 'Ring';
    this.location = { ...start, priority: 1 };
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

  /** Removes the visible value (pbx_builtin_setvar_helper(name, NULL), or a frame's local at Return()). */
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
