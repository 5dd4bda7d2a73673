import { MAX_VALUE_DEPTH, findUnstorable, nestingWithin, SessionEndEventSchema, TENANT_ID_PATTERN, ToolCallEventSchema } from '@toolpath/contracts';

/*
 * Validation with zod is a third of the cost of encoding an event. This check accepts the common
 * shape of a valid event in a fraction of that time, and is deliberately STRICTER than the schema:
 * anything it does not vouch for goes through `validateToolEvent`, which decides and names the
 * offending fields. So it can only ever save time, provided it never accepts what the schema
 * rejects; `fast-event-check.spec.ts` checks that against the schema on many edge cases.
 */

const KNOWN_FIELDS = new Set([
  'specVersion', 'kind', 'eventId', 'tenantId', 'sessionId', 'userId', 'agentId', 'seq', 'tool', 'parameters',
  'result', 'success', 'error', 'startedAt', 'durationMs', 'intent', 'source', 'runId', 'stepId',
]);

/** Off when the contract gained a field this check does not know: then every event goes to zod. */
export const FAST_CHECK_ENABLED = [ToolCallEventSchema, SessionEndEventSchema].every((schema) =>
  Object.keys(schema.shape).every((field) => KNOWN_FIELDS.has(field)),
);

const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_EPOCH_MS = 8.64e15;

/** True only if `event` certainly satisfies contract v1; false means "ask the schema". */
export function isCertainlyValidEvent(event: Readonly<Record<string, unknown>>): boolean {
  if (!FAST_CHECK_ENABLED || event.specVersion !== '1') return false;
  if (event.kind === 'tool_call') {
    if (!text(event.tool, 1, 200)) return false;
  } else if (event.kind === 'session_end') {
    if (event.tool !== undefined && !text(event.tool, 1, 200)) return false;
  } else {
    return false;
  }
  return (
    text(event.eventId, 1, 128) &&
    typeof event.tenantId === 'string' &&
    TENANT_ID_PATTERN.test(event.tenantId) &&
    text(event.sessionId, 1, 256) &&
    optionalText(event.userId, 1, 256) &&
    optionalText(event.agentId, 1, 256) &&
    optionalText(event.source, 1, 256) &&
    optionalText(event.runId, 1, 256) &&
    optionalText(event.stepId, 1, 256) &&
    optionalText(event.error, 0, 10_000) &&
    optionalText(event.intent, 0, 10_000) &&
    (event.seq === undefined || (Number.isSafeInteger(event.seq) && (event.seq as number) >= 0)) &&
    // The depth walk (what the schema checks too) costs a fraction of serialising the value.
    (event.parameters === undefined || (isPlainObject(event.parameters) && nestingWithin(event.parameters, MAX_VALUE_DEPTH))) &&
    nestingWithin(event.result, MAX_VALUE_DEPTH) &&
    // What the databases cannot keep exactly (NUL, arrays in arrays, `$`/`.`/`__proto__` keys).
    findUnstorable(event.parameters) === undefined &&
    findUnstorable(event.result) === undefined &&
    typeof event.success === 'boolean' &&
    typeof event.durationMs === 'number' &&
    event.durationMs >= 0 &&
    event.durationMs !== Infinity &&
    timestamp(event.startedAt)
  );
}

function text(value: unknown, min: number, max: number): boolean {
  // No NUL character: no PostgreSQL-backed store keeps one (the schema refuses it too).
  return typeof value === 'string' && value.length >= min && value.length <= max && !value.includes('\u0000');
}

function optionalText(value: unknown, min: number, max: number): boolean {
  return value === undefined || text(value, min, max);
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Epoch ms, or exactly the form `Date.prototype.toISOString` writes, naming a real instant. */
function timestamp(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_EPOCH_MS;
  if (typeof value !== 'string' || value.length !== 24 || !ISO_UTC_MILLIS.test(value)) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}
