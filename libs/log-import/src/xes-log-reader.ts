import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { LogFormatError, LogTruncatedError, XES_DEFAULT_MAPPING, type ColumnMapping } from './column-mapping';
import { LifecyclePairing, type NotCompleted } from './lifecycle-pairing';
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
  /** Traces that hold no event at all (they make no session). */
  emptyTraces?: number;
}

const LIFECYCLE_KEY = 'lifecycle:transition';
/** An entity or character reference, from its `&` (XML 1.0 §4.1). */
const REFERENCE = /&(?:[A-Za-z_:][-\w.:]*|#[0-9]+|#x[0-9A-Fa-f]+);/y;
/** The start of a reference that the end of a chunk may have cut. */
const REFERENCE_PREFIX = /&(?:[A-Za-z_:][-\w.:]*|#[0-9]*|#x[0-9A-Fa-f]*)?$/;
const LONGEST_REFERENCE = 64;
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
  /** `<event>`s seen in the trace, imported or not. */
  events: number;
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
 * with a duration. Malformed XML or events are yielded as skips with their line, and reading goes on;
 * a file that stops inside an element, or whose elements stop nesting (a close tag matching none),
 * ends with `LogTruncatedError` after what precedes that point, the trace open there not ended.
 */
export async function* readXesLog(chunks: AsyncIterable<string>, opts: XesLogReaderOptions): AsyncGenerator<LogItem> {
  const reader = new XesEventCollector(opts);
  try {
    for await (const chunk of chunks) {
      reader.write(chunk);
      yield* reader.take();
      if (reader.broken) {
        const where = reader.cut();
        yield* reader.take();
        throw new LogTruncatedError(`${reader.broken}; reading stops there${where ? `, ${where}` : ''}`);
      }
    }
  } catch (err) {
    if (!(err instanceof LogTruncatedError) || reader.broken) throw err;
    // The source itself is cut (gzip data ends early): settle what was open where it stops.
    const where = reader.cut();
    yield* reader.take();
    throw new LogTruncatedError(where ? `${err.message}, ${where}` : err.message);
  }
  const where = reader.close();
  yield* reader.take();
  if (!reader.sawLog) throw new LogFormatError('no <log> element: this is not an XES file');
  if (where !== undefined) throw new LogTruncatedError(`the file ends ${where}: it is cut short`);
}

class XesEventCollector {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly stack: Frame[] = [];
  private readonly out: LogItem[] = [];
  private trace?: TraceState;
  private readonly seenCases = new Set<string>();
  /** The tail of the last chunk when it may end inside an entity reference. */
  private carry = '';
  /** Set once the input has ended: what the parser reports then is said by `cut()` instead. */
  private ended = false;
  /**
   * Where and how the element structure broke: a close tag that does not match the open element
   * makes the parser close every element up to the root, and all that follows is misread.
   */
  broken?: string;
  private readonly mapping: Required<Pick<ColumnMapping, 'case' | 'activity' | 'timestamp' | 'resource'>> & ColumnMapping;
  sawLog = false;

  constructor(private readonly opts: XesLogReaderOptions) {
    this.mapping = { ...XES_DEFAULT_MAPPING, ...definedOnly(opts.mapping) };
    this.parser.on('opentag', (tag) => this.onOpen(tag));
    this.parser.on('closetag', () => this.onClose());
    this.parser.on('error', (err) => this.onError(err));
  }

  /**
   * Feeds the parser. A bare `&` (not starting an entity or character reference) would make the
   * parser read everything up to the next `;`, possibly the rest of the file, as one entity name;
   * it is written as `&amp;` instead and its element reported (the event skipped as malformed).
   * The check does not know comments and CDATA sections, where a bare `&` is allowed: a rare
   * case, and then only that event is skipped.
   */
  write(chunk: string): void {
    const text = this.carry + chunk;
    this.carry = '';
    let from = 0;
    for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) {
      REFERENCE.lastIndex = at;
      if (REFERENCE.test(text)) continue;
      if (text.length - at <= LONGEST_REFERENCE && REFERENCE_PREFIX.test(text.slice(at))) {
        this.carry = text.slice(at);
        this.parser.write(text.slice(from, at));
        return;
      }
      this.parser.write(text.slice(from, at));
      this.bareAmpersand();
      this.parser.write('&amp;');
      from = at + 1;
    }
    this.parser.write(from === 0 ? text : text.slice(from));
  }

  /**
   * Ends the input. Returns where the file stops inside an element ("inside the trace ..."),
   * after settling what was open there; undefined for a whole file.
   */
  close(): string | undefined {
    if (this.carry !== '') {
      const rest = this.carry;
      this.carry = '';
      this.parser.write(rest.replace(/&/g, () => (this.bareAmpersand(), '&amp;')));
    }
    const open = this.cut();
    this.parser.close();
    return open;
  }

  /**
   * Settles what is open where the input stops: an `<event>` cut there is skipped, and a trace
   * cut there is not ended (no `case_end`: its last activities may be missing), its activities
   * still held for pairing skipped. Returns where it stops, for the message; undefined if nothing is open.
   */
  cut(): string | undefined {
    this.ended = true;
    if (this.stack.length === 0) return undefined;
    const event = this.stack.find((f): f is Extract<Frame, { kind: 'event' }> => f.kind === 'event');
    if (event) this.skip(event.line, 'truncated', this.broken ? 'the XML breaks inside this <event>' : 'the file ends inside this <event>');
    const trace = this.trace;
    this.trace = undefined;
    this.stack.length = 0;
    if (!trace) return 'before </log> (every trace in it was read whole)';
    const held: LogRecord[] = [];
    const heldNotCompleted: NotCompleted[] = [];
    if (!trace.skipped) trace.pairing.finish(held, heldNotCompleted);
    const lost = held.length + heldNotCompleted.length + trace.waiting.length;
    if (lost > 0) {
      const message = 'the trace is cut: its activities waiting for their lifecycle "complete" are not imported';
      this.out.push({ type: 'skip', skip: { line: trace.line, reason: 'truncated', message, count: lost } });
    }
    const name = trace.caseId === undefined ? '' : ` ${JSON.stringify(trace.caseId)}`;
    return `inside the trace${name} that starts at line ${trace.line}`;
  }

  private bareAmpersand(): void {
    const problem = 'an unescaped "&" (write it as &amp;)';
    if (!this.markEvent(problem)) this.skip(this.parser.line, 'malformed_xml', problem);
  }

  take(): LogItem[] {
    return this.out.splice(0, this.out.length);
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private onOpen(tag: SaxesTagPlain): void {
    if (this.broken) return;
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
      this.trace = { line, events: 0, waiting: [], pairing: new LifecyclePairing(this.opts.maxPendingPerTrace) };
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
    if (this.broken) return;
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
    // Unclosed elements at the end of the input: `cut()` has said what the end cut.
    if (this.ended || this.broken) return;
    const line = this.parser.line;
    const message = err.message.replace(/^[^:]*:\d+:\d+: /, '');
    if (/unexpected close tag|unmatched closing tag/.test(message)) {
      const at = /^(\d+):(\d+): /.exec(message);
      const where = at ? `line ${at[1]}, column ${at[2]}` : `line ${line}`;
      this.broken = `${where}: a close tag does not match the element open there`;
      return;
    }
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
    trace.events++;
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
    const notCompleted: NotCompleted[] = [];
    const result = trace.pairing.add(record, transition === '' ? undefined : transition, ready, notCompleted);
    if (result === 'ignored' && this.opts.counters) this.opts.counters.ignoredTransitions++;
    this.settled(ready, notCompleted);
  }

  /** Paired calls as records; starts that never completed as skips that keep their place in the case. */
  private settled(ready: LogRecord[], notCompleted: NotCompleted[]): void {
    for (const r of ready) this.out.push({ type: 'record', record: r });
    for (const { record, reason } of notCompleted) {
      const message = `${JSON.stringify(record.activity)} ${reason}: only completed activities are calls (the interval view)`;
      this.out.push({ type: 'skip', skip: { line: record.line, reason: 'not_completed', message, caseId: record.caseId } });
    }
  }

  private endTrace(): void {
    const trace = this.trace;
    if (!trace) return;
    this.trace = undefined;
    if (trace.events === 0 && this.opts.counters) this.opts.counters.emptyTraces = (this.opts.counters.emptyTraces ?? 0) + 1;
    if (trace.caseId === undefined || trace.skipped) {
      const skipped = trace.skipped ?? { reason: 'missing_case', message: this.missingCaseMessage(), count: trace.waiting.length };
      if (skipped.count > 0) {
        this.out.push({ type: 'skip', skip: { line: trace.line, reason: skipped.reason, message: skipped.message, count: skipped.count } });
      }
      return;
    }
    const ready: LogRecord[] = [];
    const notCompleted: NotCompleted[] = [];
    trace.pairing.finish(ready, notCompleted);
    this.settled(ready, notCompleted);
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
