/**
 * Following a run live: the gateway's server-sent events at `/api/v1/executions/<id>/stream`
 * (same origin, so the session cookie authorises it). Events: `state` (the run), `update` (an
 * ExecutionUpdate) for each change, `end` (the final run), then the server closes the stream.
 *
 * The source is made by `openEventSource`, which tests replace (`setEventSourceFactory`): jsdom
 * has no EventSource.
 */
import type { Run, RunUpdate } from './runState';

/** The part of EventSource used here. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (e: MessageEvent<string>) => void): void;
  onerror: ((e: Event) => void) | null;
  close(): void;
}

let openEventSource: (url: string) => EventSourceLike = (url) => new EventSource(url) as unknown as EventSourceLike;

/** Replaces how sources are made (tests); answers the previous factory, to put back. */
export function setEventSourceFactory(factory: (url: string) => EventSourceLike): (url: string) => EventSourceLike {
  const previous = openEventSource;
  openEventSource = factory;
  return previous;
}

export interface RunStreamHandlers {
  onState(run: Run): void;
  onUpdate(update: RunUpdate): void;
  /** The final run; `undefined` when the server could not read it (then read it again). */
  onEnd(run: Run | undefined): void;
  /** The stream broke (or could not open): it is closed, follow the run some other way. */
  onError(): void;
}

/** Opens the stream of run `id`; the answer closes it (call it on unmount). */
export function followRun(id: string, handlers: RunStreamHandlers): () => void {
  const source = openEventSource(`/api/v1/executions/${encodeURIComponent(id)}/stream`);
  let open = true;
  const close = () => {
    open = false;
    source.close();
  };
  const parse = (e: MessageEvent<string>): unknown => {
    try {
      return JSON.parse(e.data);
    } catch {
      return undefined;
    }
  };
  source.addEventListener('state', (e) => {
    const run = parse(e) as Run | undefined;
    if (open && run) handlers.onState(run);
  });
  source.addEventListener('update', (e) => {
    const u = parse(e) as RunUpdate | undefined;
    if (open && u) handlers.onUpdate(u);
  });
  source.addEventListener('end', (e) => {
    if (!open) return;
    // Closed before the server does: an EventSource would otherwise reconnect and replay.
    close();
    const run = parse(e) as Run | undefined;
    handlers.onEnd(run?.status ? run : undefined);
  });
  source.onerror = () => {
    if (!open) return;
    close();
    handlers.onError();
  };
  return close;
}
