import { unstorableKeyReason, type ToolEventInput } from '@toolpath/contracts';
import type { CaseState } from './case-tracker';
import { activityEventId, caseIdSeed, sessionEndEventId } from './import-event-id';
import type { LogRecord } from './log-record';

/** Where a log's resource goes: the event's `userId`, or `parameters.resource`. */
export type ResourceTarget = 'user' | 'parameter';

export interface EventMapperOptions {
  /** Names the log in event ids: the same source, case and position always give the same id. */
  sourceId: string;
  resourceAs?: ResourceTarget;
  /** Intent of every case whose log gives none. */
  intent?: string;
}

/** The contract caps `userId` at 256 characters and `intent` and `error` at 10 000. */
const MAX_USER_ID = 256;
const MAX_TEXT = 10_000;

/**
 * Turns activities into v1 events: case → `sessionId`, activity → `tool`, time → `startedAt`,
 * position in the case → `seq` (file order, so equal timestamps keep the order the log gives).
 */
export class EventMapper {
  constructor(private readonly opts: EventMapperOptions) {}

  toolCall(record: LogRecord, seq: number, state: CaseState): ToolEventInput {
    state.idSeed ??= caseIdSeed(this.opts.sourceId, record.caseId);
    const event: ToolEventInput = {
      kind: 'tool_call',
      eventId: activityEventId(state.idSeed, seq, record.startMs),
      sessionId: record.caseId,
      seq,
      tool: record.activity,
      success: record.success ?? true,
      startedAt: timestamp(record.startMs),
      durationMs: record.durationMs,
    };
    if (record.error !== undefined && record.success === false) event.error = clip(record.error);
    let parameters = record.attributes;
    if (record.resource !== undefined) {
      if (this.opts.resourceAs === 'parameter' || record.resource.length > MAX_USER_ID) {
        parameters = { ...parameters, resource: record.resource };
      } else {
        event.userId = record.resource;
      }
    }
    if (parameters !== undefined) event.parameters = storableKeys(parameters);
    const intent = record.intent ?? state.intent ?? this.opts.intent;
    if (intent !== undefined) event.intent = clip(intent);
    return event;
  }

  /**
   * Closes a case: successful unless one of its activities failed; stamped with the case's end (its
   * last activity's end), so in time order too it comes after every activity of the case.
   */
  sessionEnd(caseId: string, state: CaseState): ToolEventInput {
    const event: ToolEventInput = {
      kind: 'session_end',
      eventId: sessionEndEventId(state.idSeed ?? caseIdSeed(this.opts.sourceId, caseId)),
      sessionId: caseId,
      seq: state.nextSeq,
      success: state.failed === 0,
      startedAt: timestamp(Number.isFinite(state.lastEndMs) ? state.lastEndMs : state.firstMs),
      durationMs: 0,
      result: { activities: state.calls, failed: state.failed, outcomesKnown: state.outcomesKnown },
    };
    const intent = state.intent ?? this.opts.intent;
    if (intent !== undefined) event.intent = clip(intent);
    return event;
  }
}

/** Epoch milliseconds (the cheapest form to validate and encode); ISO for times before 1970. */
function timestamp(ms: number): number | string {
  return ms >= 0 ? ms : new Date(ms).toISOString();
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

/**
 * Attribute names become parameter keys. A name the store cannot hold as a key (a `.`, a leading
 * `$`, a NUL, `__proto__`: common in CSV headers such as "amount.total") would make the contract
 * refuse every event of the log, so such a name is renamed instead: `.` and a leading `$` become
 * `_`, NUL is dropped, `__proto__` becomes `_proto_` (then `_` is appended while the name is taken).
 * Values are left as they are (a CSV cell or an XES value holds no such key).
 */
export function storableKeys(attributes: Record<string, unknown>): Record<string, unknown> {
  let renamed = false;
  for (const key of Object.keys(attributes)) if (unstorableKeyReason(key) !== undefined) renamed = true;
  if (!renamed) return attributes;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    let name = key;
    if (unstorableKeyReason(key) !== undefined) {
      name = key === '__proto__' ? '_proto_' : key.split(String.fromCharCode(0)).join('').replace(/\./g, '_').replace(/^\$/, '_');
      while (Object.prototype.hasOwnProperty.call(out, name) || (name !== key && Object.prototype.hasOwnProperty.call(attributes, name))) name += '_';
    }
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
