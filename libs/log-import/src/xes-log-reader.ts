import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { LogFormatError, XES_DEFAULT_MAPPING, type ColumnMapping } from './column-mapping';
import { LifecyclePairing } from './lifecycle-pairing';
import type { LogItem, LogRecord, SkipReason } from './log-record';
import type { OutcomeInterpreter } from './outcome';
import type { TimestampParser } from './timestamp-parser';

export interface XesLogReaderOptions {
  /** Attribute keys: case (of the trace), activity, timestamp, resource, outcome, intent (of the event, or the trace). */
  mapping: ColumnMapping;
  parseTimestamp: TimestampParser;
  interpretOutcome: OutcomeInterpreter;
  /** Counts what is read but is no activity (lifecycle schedule/suspend/skip...). */
  counters?: XesReaderCounters;
  /** Events of one trace held while an earlier one waits for its `complete`. Default 10 000. */
  maxPendingPerTrace?: number;
}

export interface XesReaderCounters {
  ignoredTransitions: number;
}

const LIFECYCLE_KEY = 'lifecycle:transition';
/** The XES attribute elements (IEEE 1849); `values` is the wrapper of a list's items. */
const ATTRIBUTE_TYPES = new Set(['string', 'date', 'int', 'float', 'boolean', 'id', 'list', 'container']);

type Attributes = Record<string, unknown>;

interface AttributeFrame {
  kind: 'attribute';
  type: string;
  key: string;
  value: unknown;
  /** Nested attributes (meta-attributes, or a container's members). */
  children?: Attributes;
  /** A list's items, in order. */
  items?: unknown[];
}

type Frame =
  | { kind: 'log' | 'global' | 'other' | 'values' }
  | { kind: 'trace'; attributes: Attributes; line: number }
  | { kind: 'event'; attributes: Attributes; line: number; problem?: string }
  | AttributeFrame;

interface TraceState {
  line: number;
  caseId?: string;
  intent?: string;
  /** Activities read before the trace named its case (XES puts attributes first, but need not). */
  waiting: { record: LogRecord; transition: string | undefined }[];
  pairing: LifecyclePairing;
  /** Set when the whole trace is skipped; its events are counted and reported once, at its end. */
  skipped?: { reason: SkipReason; message: string; count: number };
}

/**
 * Reads an XES event log (IEEE 1849 XML) as activities and skips, one trace at a time: memory is
 * bounded by the events of one trace that wait for an earlier `start` to complete, never by the
 * file. Each trace is a case (its `concept:name`); `start`/`complete` pairs become one activity
 * with a duration. Malformed XML or events are yielded as skips with their line, and reading goes on.
 */
export async function* readXesLog(chunks: AsyncIterable<string>, opts: XesLogReaderOptions): AsyncGenerator<LogItem> {
  const reader = new XesEventCollector(opts);
  for await (const chunk of chunks) {
    reader.write(chunk);
    yield* reader.take();
  }
  reader.close();
  yield* reader.take();
  if (!reader.sawLog) throw new LogFormatError('no <log> element: this is not an XES file');
}

class XesEventCollector {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly stack: Frame[] = [];
  private readonly out: LogItem[] = [];
  private trace?: TraceState;
  private readonly seenCases = new Set<string>();
  private readonly mapping: Required<Pick<ColumnMapping, 'case' | 'activity' | 'timestamp' | 'resource'>> & ColumnMapping;
  sawLog = false;

  constructor(private readonly opts: XesLogReaderOptions) {
    this.mapping = { ...XES_DEFAULT_MAPPING, ...definedOnly(opts.mapping) };
    this.parser.on('opentag', (tag) => this.onOpen(tag));
    this.parser.on('closetag', () => this.onClose());
    this.parser.on('error', (err) => this.onError(err));
  }

  write(chunk: string): void {
    this.parser.write(chunk);
  }

  close(): void {
    this.parser.close();
    // An unterminated file: settle what was read of the last trace.
    if (this.trace) this.endTrace();
  }

  take(): LogItem[] {
    return this.out.splice(0, this.out.length);
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private onOpen(tag: SaxesTagPlain): void {
    const parent = this.top();
    const name = tag.name;
    if (parent?.kind === 'global' || (parent?.kind === 'other' && this.stack.length > 0 && name !== 'log')) {
      this.stack.push({ kind: parent.kind });
      return;
    }
    if (name === 'log' && parent === undefined) {
      this.sawLog = true;
      this.stack.push({ kind: 'log' });
    } else if (name === 'global') {
      this.stack.push({ kind: 'global' });
    } else if (name === 'trace' && parent?.kind === 'log') {
      if (this.trace) this.endTrace();
      const line = this.parser.line;
      this.trace = { line, waiting: [], pairing: new LifecyclePairing(this.opts.maxPendingPerTrace) };
      this.stack.push({ kind: 'trace', attributes: {}, line });
    } else if (name === 'event' && parent?.kind === 'trace') {
      this.stack.push({ kind: 'event', attributes: {}, line: this.parser.line });
    } else if (name === 'values' && parent?.kind === 'attribute' && parent.type === 'list') {
      this.stack.push({ kind: 'values' });
    } else if (ATTRIBUTE_TYPES.has(name) && parent !== undefined && parent.kind !== 'other') {
      const key = tag.attributes.key;
      if (typeof key !== 'string' || key === '') {
        const problem = `<${name}> without a key`;
        if (!this.markEvent(problem)) this.skip(this.parser.line, 'malformed_xml', problem);
        this.stack.push({ kind: 'other' });
        return;
      }
      this.stack.push({ kind: 'attribute', type: name, key, value: typedValue(name, tag.attributes.value) });
    } else {
      // extension, classifier, or anything unknown: read past it.
      this.stack.push({ kind: 'other' });
    }
  }

  private onClose(): void {
    const frame = this.stack.pop();
    if (frame === undefined) return;
    if (frame.kind === 'attribute') {
      this.attach(frame);
    } else if (frame.kind === 'event') {
      this.endEvent(frame);
    } else if (frame.kind === 'trace') {
      this.endTrace();
    }
  }

  private onError(err: Error): void {
    const line = this.parser.line;
    const message = err.message.replace(/^[^:]*:\d+:\d+: /, '');
    if (this.markEvent(message)) return;
    this.out.push({ type: 'skip', skip: { line, reason: 'malformed_xml', message } });
  }

  /** Marks the event being read as malformed; false when no event is open. */
  private markEvent(problem: string): boolean {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const frame = this.stack[i];
      if (frame.kind === 'event') {
        frame.problem ??= problem;
        return true;
      }
    }
    return false;
  }

  private attach(frame: AttributeFrame): void {
    let value: unknown = frame.value;
    if (frame.type === 'list') value = frame.items ?? [];
    else if (frame.type === 'container') value = frame.children ?? {};
    else if (frame.children) value = { value: frame.value, ...frame.children };

    const parent = this.top();
    if (parent === undefined) return;
    if (parent.kind === 'values') {
      const list = this.stack[this.stack.length - 2];
      if (list?.kind === 'attribute') (list.items ??= []).push(value);
    } else if (parent.kind === 'attribute') {
      if (parent.type === 'list') (parent.items ??= []).push(value);
      else (parent.children ??= {})[frame.key] = value;
    } else if (parent.kind === 'event') {
      parent.attributes[frame.key] = value;
    } else if (parent.kind === 'trace' && this.trace) {
      parent.attributes[frame.key] = value;
      if (frame.key === this.mapping.case) this.setCase(text(value));
      if (this.mapping.intent !== undefined && frame.key === this.mapping.intent) this.trace.intent = text(value);
    }
  }

  private setCase(caseId: string | undefined): void {
    const trace = this.trace!;
    if (trace.caseId !== undefined || trace.skipped) return;
    if (caseId === undefined || caseId.trim() === '') return;
    if (this.seenCases.has(caseId)) {
      trace.skipped = {
        reason: 'duplicate_case',
        message: `a trace named ${JSON.stringify(caseId)} was already read; this one is skipped`,
        count: trace.waiting.length,
      };
      trace.waiting = [];
      return;
    }
    this.seenCases.add(caseId);
    trace.caseId = caseId;
    const waiting = trace.waiting;
    trace.waiting = [];
    for (const w of waiting) this.pair(w.record, w.transition);
  }

  private endEvent(frame: Extract<Frame, { kind: 'event' }>): void {
    const trace = this.trace;
    if (!trace) return;
    const line = frame.line;
    if (frame.problem) return this.skip(line, 'malformed_event', frame.problem);
    const attrs = frame.attributes;
    const activity = text(attrs[this.mapping.activity])?.trim();
    if (!activity) return this.skip(line, 'missing_activity', `event has no ${JSON.stringify(this.mapping.activity)} attribute`);
    const rawTime = text(attrs[this.mapping.timestamp]);
    if (rawTime === undefined || rawTime.trim() === '') {
      return this.skip(line, 'missing_timestamp', `event has no ${JSON.stringify(this.mapping.timestamp)} attribute`);
    }
    const startMs = this.opts.parseTimestamp(rawTime);
    if (startMs === undefined) return this.skip(line, 'bad_timestamp', `cannot read ${JSON.stringify(rawTime)} as a timestamp`);

    const record: LogRecord = { line, caseId: '', activity, startMs, durationMs: 0 };
    const resource = text(attrs[this.mapping.resource])?.trim();
    if (resource) record.resource = resource;
    if (this.mapping.outcome !== undefined && attrs[this.mapping.outcome] !== undefined) {
      const outcome = this.opts.interpretOutcome(text(attrs[this.mapping.outcome]));
      if (outcome.success !== undefined) record.success = outcome.success;
      if (outcome.error !== undefined) record.error = outcome.error;
    }
    const intent = this.mapping.intent === undefined ? undefined : text(attrs[this.mapping.intent])?.trim();
    if (intent) record.intent = intent;
    const mapped = new Set([this.mapping.activity, this.mapping.timestamp, this.mapping.resource, this.mapping.outcome, this.mapping.intent, LIFECYCLE_KEY]);
    let attributes: Attributes | undefined;
    for (const key of Object.keys(attrs)) {
      if (mapped.has(key)) continue;
      attributes ??= {};
      attributes[key] = attrs[key];
    }
    if (attributes) record.attributes = attributes;
    const transition = text(attrs[LIFECYCLE_KEY]);
    if (trace.skipped) {
      trace.skipped.count++;
    } else if (trace.caseId === undefined) {
      trace.waiting.push({ record, transition });
      if (trace.waiting.length > (this.opts.maxPendingPerTrace ?? 10_000)) {
        trace.skipped = { reason: 'missing_case', message: this.missingCaseMessage(), count: trace.waiting.length };
        trace.waiting = [];
      }
    } else {
      this.pair(record, transition);
    }
  }

  private pair(record: LogRecord, transition: string | undefined): void {
    const trace = this.trace!;
    record.caseId = trace.caseId!;
    if (trace.intent !== undefined && record.intent === undefined) record.intent = trace.intent;
    const ready: LogRecord[] = [];
    const result = trace.pairing.add(record, transition === '' ? undefined : transition, ready);
    if (result === 'ignored' && this.opts.counters) this.opts.counters.ignoredTransitions++;
    for (const r of ready) this.out.push({ type: 'record', record: r });
  }

  private endTrace(): void {
    const trace = this.trace;
    if (!trace) return;
    this.trace = undefined;
    if (trace.caseId === undefined || trace.skipped) {
      const skipped = trace.skipped ?? { reason: 'missing_case', message: this.missingCaseMessage(), count: trace.waiting.length };
      if (skipped.count > 0) {
        this.out.push({ type: 'skip', skip: { line: trace.line, reason: skipped.reason, message: skipped.message, count: skipped.count } });
      }
      return;
    }
    const ready: LogRecord[] = [];
    trace.pairing.finish(ready);
    for (const r of ready) this.out.push({ type: 'record', record: r });
    this.out.push({ type: 'case_end', caseId: trace.caseId });
  }

  private missingCaseMessage(): string {
    return `trace has no ${JSON.stringify(this.mapping.case)} attribute; its events are skipped`;
  }

  /** Skips one event; inside a named trace it keeps its position in the case (see `SkippedItem.caseId`). */
  private skip(line: number, reason: SkipReason, message: string): void {
    const caseId = this.trace?.skipped ? undefined : this.trace?.caseId;
    this.out.push({ type: 'skip', skip: caseId === undefined ? { line, reason, message } : { line, reason, message, caseId } });
  }
}

function typedValue(type: string, raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  switch (type) {
    case 'int': {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : raw;
    }
    case 'float': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : raw;
    }
    case 'boolean':
      return raw.trim().toLowerCase() === 'true' ? true : raw.trim().toLowerCase() === 'false' ? false : raw;
    default:
      return raw;
  }
}

/** The text of a simple attribute, or of the `value` of one with nested attributes. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && !Array.isArray(value) && 'value' in value) return text((value as { value: unknown }).value);
  if (typeof value === 'object') return undefined;
  return String(value);
}

function definedOnly(mapping: ColumnMapping): ColumnMapping {
  const out: ColumnMapping = {};
  for (const [k, v] of Object.entries(mapping) as [keyof ColumnMapping, string | undefined][]) if (v !== undefined) out[k] = v;
  return out;
}
