import { z } from 'zod';

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

const id = (max: number) => z.string().min(1).max(max);

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
  parameters: z.record(z.string(), z.unknown()).optional(),
  result: z.unknown().optional(),
  success: z.boolean(),
  error: z.string().max(10_000).optional(),
  startedAt: TimestampSchema,
  durationMs: z.number().nonnegative().finite(),
  intent: z.string().max(10_000).optional(),
  source: id(256).optional(),
  runId: id(256).optional(),
  stepId: id(256).optional(),
};

export const ToolCallEventSchema = z.object({
  ...commonFields,
  kind: z.literal('tool_call'),
  tool: z.string().min(1).max(MAX_TOOL_NAME_LENGTH),
});

export const SessionEndEventSchema = z.object({
  ...commonFields,
  kind: z.literal('session_end'),
  tool: z.string().min(1).max(MAX_TOOL_NAME_LENGTH).optional(),
});

/** Tool-call event, contract v1 (ARCHITECTURE.md). */
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
  TooLarge: 'too_large',
  StorageRejected: 'storage_rejected',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

const fillable = { specVersion: true, eventId: true, tenantId: true } as const;
/** An event as a producer may submit it: version, id and tenant are filled in on the way. */
export const ToolEventInputSchema = z.discriminatedUnion('kind', [
  ToolCallEventSchema.partial(fillable),
  SessionEndEventSchema.partial(fillable),
]);
