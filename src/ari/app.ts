/**
 * dialguard as a Stasis application: connects to ARI, serves every StasisStart of its app with
 * the Stasis handlers, and keeps track of the channels in flight so that a StasisEnd or hangup
 * stops any further request to them.
 */
import type { AriConfig } from '../config/config.js';
import { startAriClient, type AriState } from './client.js';
import type { AriEvent } from './events.js';
import { createStasisDispatcher, type StasisHandlerDeps } from './handlers.js';
import { StasisChannel } from './stasis-channel.js';

/** The handlers' timings have defaults here: deliveryGraceMs 500, continueTimeoutMs 1000, settleGraceMs 50. */
type HandlerTimings = 'deliveryGraceMs' | 'continueTimeoutMs' | 'settleGraceMs';

export interface AriAppOptions extends Omit<StasisHandlerDeps, HandlerTimings>, Partial<Pick<StasisHandlerDeps, HandlerTimings>> {
  ari: AriConfig;
  /** Full reconnects: first wait, doubled up to maxRetryDelayMs. Defaults 1000 and 30000. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  connectTimeoutMs?: number;
  /** On close(), how long channels in flight may take to be answered. Default 3000. */
  shutdownGraceMs?: number;
}

export interface AriApp {
  /** The events websocket is open: what readyz reports. */
  readonly connected: boolean;
  readonly state: AriState;
  /** Resolves when every StasisStart received so far has been served. */
  idle(): Promise<void>;
  /** No more events; the channels in flight are still answered, up to the shutdown grace. */
  close(): Promise<void>;
}

export function startAriApp(options: AriAppOptions): AriApp {
  const { logger } = options;
  const shutdownGraceMs = options.shutdownGraceMs ?? 3000;
  const channels = new Map<string, StasisChannel>();
  const running = new Set<Promise<void>>();
  const dispatch = createStasisDispatcher({
    guard: options.guard,
    decisions: options.decisions,
    logger,
    observer: options.observer,
    now: options.now,
    answerDeadlineMs: options.answerDeadlineMs,
    deliveryGraceMs: options.deliveryGraceMs ?? 500,
    continueTimeoutMs: options.continueTimeoutMs ?? 1000,
    settleGraceMs: options.settleGraceMs ?? 50,
  });

  const client = startAriClient({
    ...options.ari,
    logger,
    onEvent,
    retryDelayMs: options.retryDelayMs,
    maxRetryDelayMs: options.maxRetryDelayMs,
    connectTimeoutMs: options.connectTimeoutMs,
  });

  function onEvent(event: AriEvent): void {
    if (event.type !== 'StasisStart') {
      channels.get(event.channelId)?.markGone();
      return;
    }
    const { id, name } = event.channel;
    // A channel enters Stasis again only after it left: whatever still served it is done.
    channels.get(id)?.markGone();
    const channel = new StasisChannel(event.channel, client, logger.child({ channel: name, uniqueid: id }));
    channels.set(id, channel);
    const task: Promise<void> = dispatch(channel, event.args).finally(() => {
      running.delete(task);
      if (channels.get(id) === channel) channels.delete(id);
    });
    running.add(task);
  }

  const idle = async (): Promise<void> => {
    await Promise.allSettled([...running]);
  };

  let closing: Promise<void> | undefined;
  return {
    get connected() {
      return client.connected;
    },
    get state() {
      return client.state;
    },
    idle,
    close() {
      closing ??= (async () => {
        await client.close();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownGraceMs)));
        await Promise.race([idle(), grace]);
        clearTimeout(timer);
        if (running.size > 0) logger.warn({ channels: running.size }, 'ARI closed with channels still being answered');
      })();
      return closing;
    },
  };
}
