/**
 * When an event reached Toolpath, in epoch ms: the JetStream timestamp of its message
 * (`JsMsg.info.timestampNanos`), cut to whole milliseconds. The recorder stores it as `receivedAt`
 * and the analyzer reads it from the stream, so both see the same arrival for the same event (the
 * analyzer closes sessions on this clock). Undefined when the message carries no timestamp.
 */
export function arrivalMillis(timestampNanos: number | undefined): number | undefined {
  return typeof timestampNanos === 'number' && Number.isFinite(timestampNanos) && timestampNanos > 0 ? Math.floor(timestampNanos / 1e6) : undefined;
}
