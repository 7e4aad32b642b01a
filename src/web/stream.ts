import { token } from './api.js';
import type { Decision } from './types.js';

const RETRY_MS = 3000;

/**
 * Follows GET /api/v1/decisions/stream with fetch() rather than EventSource, so that the token
 * goes in the Authorization header and never in a URL. Reconnects until the signal aborts.
 */
export function followDecisions(onDecision: (d: Decision) => void, onState: (connected: boolean) => void, signal: AbortSignal): void {
  const connect = async (): Promise<void> => {
    try {
      const response = await fetch('/api/v1/decisions/stream', { headers: { authorization: `Bearer ${token.get() ?? ''}` }, signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      onState(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data) onDecision(JSON.parse(data) as Decision);
        }
      }
    } catch {
      // Reconnects below; an aborted signal ends the loop.
    }
    onState(false);
    if (!signal.aborted) setTimeout(() => void connect(), RETRY_MS);
  };
  void connect();
}
