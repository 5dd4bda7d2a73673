import type { z } from 'zod';
import { RejectReason, SPEC_VERSION, ToolEventSchema, type ToolEvent } from './events';

/** One problem with an input, naming the offending field as a dotted path (`parameters.a[0]`). */
export interface FieldIssue {
  field: string;
  message: string;
}

export type EventValidation =
  | { ok: true; event: ToolEvent }
  | { ok: false; reason: RejectReason; issues: FieldIssue[] };

/** Formats a path such as ['steps', 0, 'id'] as `steps[0].id`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export function issuesFromZod(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ field: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates a decoded event. An unknown `specVersion` is reported as such (not as a generic
 * schema error) so that producers on a newer contract get a reason they can act on.
 */
export function validateToolEvent(input: unknown): EventValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, reason: RejectReason.InvalidEvent, issues: [{ field: '(root)', message: 'event must be a JSON object' }] };
  }
  const version = (input as Record<string, unknown>).specVersion;
  if (version !== undefined && version !== SPEC_VERSION) {
    return {
      ok: false,
      reason: RejectReason.UnsupportedSpecVersion,
      issues: [{ field: 'specVersion', message: `unsupported specVersion ${JSON.stringify(version)}; this server speaks "${SPEC_VERSION}"` }],
    };
  }
  const parsed = ToolEventSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: RejectReason.InvalidEvent, issues: issuesFromZod(parsed.error) };
  return { ok: true, event: parsed.data };
}

/** Milliseconds since the epoch of an event timestamp (ISO-8601 or epoch ms). */
export function timestampToMillis(value: string | number): number {
  return typeof value === 'number' ? value : Date.parse(value);
}
