/**
 * Names that cross a process boundary.
 *
 * WARNING: renaming a subject, stream, consumer, queue or collection strands the messages and
 * rows already stored under the old name. Add a new name and migrate; never rename in place.
 */

/** Default subject prefix; tests use their own so runs never disturb each other. */
export const DEFAULT_SUBJECT_PREFIX = 'toolpath';
/** Default JetStream stream holding tool-call events. */
export const DEFAULT_EVENTS_STREAM = 'TOOL_EVENTS';
/** Durable consumer the recorders share (a work queue: each message goes to one recorder). */
export const RECORDER_CONSUMER = 'recorder';

/** `<prefix>.events.<tenantId>`: where a tenant's tool-call events are published. */
export function eventsSubject(prefix: string, tenantId: string): string {
  return `${prefix}.events.${tenantId}`;
}

/** Wildcard that matches every tenant's events under a prefix. */
export function eventsSubjectFilter(prefix: string): string {
  return `${prefix}.events.>`;
}

/** Extracts the tenant token from an events subject, or undefined when it is not one. */
export function tenantFromEventsSubject(prefix: string, subject: string): string | undefined {
  const head = `${prefix}.events.`;
  if (!subject.startsWith(head)) return undefined;
  const rest = subject.slice(head.length);
  return rest.length > 0 && !rest.includes('.') ? rest : undefined;
}

export type EventsSubjectCheck = { ok: true; tenantId: string } | { ok: false; tenantId: string | null; message: string };

/**
 * Whether a subject is exactly `<prefix>.events.<tenantId>`. When it is not, `tenantId` is the
 * token after `<prefix>.events.` (whose subjects were used: the refusal is filed under it, so
 * that tenant sees it), or null when there is none.
 */
export function checkEventsSubject(prefix: string, subject: string): EventsSubjectCheck {
  const head = `${prefix}.events.`;
  const tenantId = tenantFromEventsSubject(prefix, subject);
  if (tenantId !== undefined) return { ok: true, tenantId };
  const first = subject.startsWith(head) ? subject.slice(head.length).split('.')[0] : '';
  return {
    ok: false,
    tenantId: first.length > 0 ? first : null,
    message: `subject "${subject}" is not ${head}<tenantId>: events are published on exactly ${head}${first || '<tenantId>'}`,
  };
}

/** `<prefix>.tools.<toolName>`: the request/reply subject a tool provider serves. */
export function toolSubject(prefix: string, toolName: string): string {
  return `${prefix}.tools.${toolName}`;
}

/** De-duplication id for JetStream (`Nats-Msg-Id`) and the stored row's natural key. */
export function eventKey(tenantId: string, eventId: string): string {
  return `${tenantId}:${eventId}`;
}

export const Collections = {
  toolEvents: 'tool_events',
  rejectedEvents: 'rejected_events',
  /** Analyzer (single writer): mined patterns, `_id` `<tenantId>:<patternId>`; others read them through `@toolpath/pattern-store`. */
  patterns: 'patterns',
  /** Analyzer: per-tenant learning state (watermark, snapshot and journal pointers), `_id` = tenantId. */
  analyzerState: 'analyzer_state',
  /** Analyzer: parts of snapshot, journal and open-session blobs, `_id` `<key>#<part>`. */
  analyzerBlobs: 'analyzer_blobs',
  /** Analyzer: one row per run, `_id` = run id. */
  analyzerRuns: 'analyzer_runs',
  /** Gateway (single writer): the workflow catalog, `_id` `<tenantId>:<workflowId>`; others read it through `@toolpath/workflow-store`. */
  workflows: 'workflows',
  /** Gateway (single writer): every version of every workflow, `_id` `<tenantId>:<workflowId>:<version>`. */
  workflowVersions: 'workflow_versions',
  /** Gateway (single writer): where the builder placed each step of a workflow, `_id` `<tenantId>:<workflowId>`. */
  workflowCanvases: 'workflow_canvases',
} as const;

export const DefaultPorts = {
  gateway: 3000,
  recorder: 3001,
  analyzer: 3002,
  executor: 3003,
  generator: 3004,
} as const;
