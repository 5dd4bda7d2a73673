import { z } from 'zod';
import { findUnstorable } from './storable';

/** A tenant id is a NATS subject token, so it is restricted to a safe alphabet. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A tool served over NATS must be a valid (multi-token) subject suffix. */
export const NATS_TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** NATS' default max_payload: an encoded event larger than this is refused at the edge. */
export const MAX_EVENT_BYTES = 1024 * 1024;
export const MAX_TOOL_NAME_LENGTH = 200;
export const MAX_EVENT_ID_LENGTH = 128;
/** Largest batch accepted by `POST /api/v1/events`. */
export const MAX_EVENTS_PER_BATCH = 1000;
export const SPEC_VERSION = '1';
/**
 * Deepest nesting of objects and arrays in `parameters` or `result` (the outer object is level 1).
 * Real tool data nests a few levels; a value thousands deep overflows the stack of whatever
 * serialises or walks it next (JSON.stringify in Node fails near 5 000), so it is refused here.
 */
export const MAX_VALUE_DEPTH = 64;

/** Containers a depth check visits at most: more than a 1 MB event can hold (it then fails on size). */
const MAX_DEPTH_CHECK_NODES = 1_000_000;

/**
 * True when `value` nests objects and arrays at most `maxDepth` levels deep, as it would be
 * serialised: iterative (never overflows), and a reference back to an ancestor (which the SDK
 * writes as a marker) or a getter that throws (written as one) ends its branch.
 */
export function nestingWithin(value: unknown, maxDepth: number = MAX_VALUE_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return true;
  try {
    if (shallowerThan(value, maxDepth)) return true;
  } catch {
    // A getter threw: the careful walk below reads each property on its own.
  }
  return acyclicDepthWithin(value, maxDepth);
}

/**
 * The common case, fast: one array of (container, depth) pairs and `for...in`, so no garbage per
 * container (a fraction of the cost of serialising the value). False when some path is deeper
 * than `maxDepth`, a cycle included: `acyclicDepthWithin` then decides.
 */
function shallowerThan(value: object, maxDepth: number): boolean {
  const stack: unknown[] = [value, 1];
  let visited = 0;
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const v = stack.pop() as Record<string, unknown>;
    if (depth > maxDepth) return false;
    if (++visited > MAX_DEPTH_CHECK_NODES) return true;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'object' && item !== null) stack.push(item, depth + 1);
      }
    } else {
      for (const key in v) {
        const item = v[key];
        if (typeof item === 'object' && item !== null) stack.push(item, depth + 1);
      }
    }
  }
  return true;
}

/** Depth first with the path kept, skipping references back to an ancestor and unreadable properties. */
function acyclicDepthWithin(value: object, maxDepth: number): boolean {
  const EXIT = Symbol('exit');
  const path: object[] = [];
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === EXIT) {
      path.pop();
      continue;
    }
    const node = v as Record<string, unknown>;
    if (path.includes(node)) continue;
    if (path.length >= maxDepth) return false;
    if (++visited > MAX_DEPTH_CHECK_NODES) return true;
    path.push(node);
    stack.push(EXIT);
    const keys = Array.isArray(node) ? null : Object.keys(node);
    const n = keys ? keys.length : (node as unknown as unknown[]).length;
    for (let i = 0; i < n; i++) {
      let item: unknown;
      try {
        item = keys ? node[keys[i]] : (node as unknown as unknown[])[i];
      } catch {
        continue;
      }
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return true;
}

const depthMessage = `nested deeper than ${MAX_VALUE_DEPTH} levels of objects and arrays`;

/** PostgreSQL under FerretDB cannot store a NUL character in any string (see storable.ts). */
const NUL = String.fromCharCode(0);
const nulMessage = 'must not contain a NUL character (\\u0000)';
const text = () => z.string().refine((v) => !v.includes(NUL), nulMessage);

const id = (max: number) => text().min(1).max(max);

/** Refuses, naming the path, what the databases would refuse or alter (see storable.ts). */
function storable(value: unknown, ctx: z.RefinementCtx): void {
  const found = findUnstorable(value);
  if (found) ctx.addIssue({ code: 'custom', message: found.message, path: found.path });
}

/**
 * `parameters` is checked as it arrived, before the record is parsed: zod copies a record by
 * assignment, which would drop an own `__proto__` key silently.
 */
const parametersSchema = z
  .unknown()
  .superRefine(storable)
  .pipe(z.record(z.string(), z.unknown()).refine((v) => nestingWithin(v), depthMessage));

/** ISO-8601 with an offset, or epoch milliseconds. */
export const TimestampSchema = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative().max(8.64e15)], {
  error: 'must be an ISO-8601 date-time with offset (2026-11-21T10:00:00Z) or epoch milliseconds',
});

const commonFields = {
  specVersion: z.literal(SPEC_VERSION),
  eventId: id(MAX_EVENT_ID_LENGTH),
  tenantId: z.string().regex(TENANT_ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,64}$'),
  sessionId: id(256),
  userId: id(256).optional(),
  agentId: id(256).optional(),
  seq: z.number().int().nonnegative().optional(),
  parameters: parametersSchema.optional(),
  result: z.unknown().refine((v) => nestingWithin(v), depthMessage).superRefine(storable).optional(),
  success: z.boolean(),
  error: text().max(10_000).optional(),
  startedAt: TimestampSchema,
  durationMs: z.number().nonnegative().finite(),
  intent: text().max(10_000).optional(),
  source: id(256).optional(),
  runId: id(256).optional(),
  stepId: id(256).optional(),
};

export const ToolCallEventSchema = z.object({
  ...commonFields,
  kind: z.literal('tool_call'),
  tool: text().min(1).max(MAX_TOOL_NAME_LENGTH),
});

export const SessionEndEventSchema = z.object({
  ...commonFields,
  kind: z.literal('session_end'),
  tool: text().min(1).max(MAX_TOOL_NAME_LENGTH).optional(),
});

/** Tool-call event, contract v1 (docs/ARCHITECTURE.md#tool-call-events-v1). */
export const ToolEventSchema = z.discriminatedUnion('kind', [ToolCallEventSchema, SessionEndEventSchema]);

export type ToolCallEvent = z.infer<typeof ToolCallEventSchema>;
export type SessionEndEvent = z.infer<typeof SessionEndEventSchema>;
export type ToolEvent = z.infer<typeof ToolEventSchema>;
export type EventKind = ToolEvent['kind'];

/** What a producer hands to an SDK: ids and version may be left for the SDK to fill in. */
export type ToolEventInput = Omit<ToolEvent, 'specVersion' | 'eventId' | 'tenantId'> & {
  specVersion?: typeof SPEC_VERSION;
  eventId?: string;
  tenantId?: string;
};

/** JSON Schema of an event, for docs and for clients in other languages. */
export function toolEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ToolEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Why the recorder refused an event. Stored with the raw bytes in `rejected_events`. */
export const RejectReason = {
  MalformedJson: 'malformed_json',
  InvalidEvent: 'invalid_event',
  UnsupportedSpecVersion: 'unsupported_spec_version',
  TenantMismatch: 'tenant_mismatch',
  /** The subject is not exactly `<prefix>.events.<tenantId>` (e.g. a token more). */
  InvalidSubject: 'invalid_subject',
  TooLarge: 'too_large',
  StorageRejected: 'storage_rejected',
  /**
   * The event passed every check but processing it failed (an exception, or a write the database
   * kept refusing for this document while it answered) `attempts` times in a row, with the
   * database reachable: dead-lettered and skipped so it cannot stall the consumer.
   */
  ProcessingFailed: 'processing_failed',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

const fillable = { specVersion: true, eventId: true, tenantId: true } as const;
/** An event as a producer may submit it: version, id and tenant are filled in on the way. */
export const ToolEventInputSchema = z.discriminatedUnion('kind', [
  ToolCallEventSchema.partial(fillable),
  SessionEndEventSchema.partial(fillable),
]);
