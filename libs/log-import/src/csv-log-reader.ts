import { parse, type CsvError, type Parser } from 'csv-parse';
import { LogFormatError, LogTruncatedError, resolveCsvColumns, type ColumnMapping, type ResolvedColumns } from './column-mapping';
import { CsvRecordSplitter, detectDelimiter, type UnclosedRecord } from './csv-record-splitter';
import type { LogItem, LogRecord, SkippedItem } from './log-record';
import type { OutcomeInterpreter } from './outcome';
import type { TimestampParser } from './timestamp-parser';

export interface CsvLogReaderOptions {
  mapping: ColumnMapping;
  /** Field delimiter; detected from the header line when left out. */
  delimiter?: string;
  parseTimestamp: TimestampParser;
  interpretOutcome: OutcomeInterpreter;
  /** A quoted field still open after this many bytes is reported as unclosed. Default 64 KB. */
  maxRecordBytes?: number;
  /** Put the columns that are not mapped into each event's parameters. Default true. */
  otherColumnsAsParameters?: boolean;
}


/**
 * Reads a CSV event log (first line = header) as activities and skips, in file order, without
 * holding more than one chunk of the file. Throws `LogFormatError` when the header lacks a
 * required column; every problem with a single row is yielded as a skip naming its line.
 */
export async function* readCsvLog(chunks: AsyncIterable<string>, opts: CsvLogReaderOptions): AsyncGenerator<LogItem> {
  const rows = new CsvRowMapper(opts);
  const splitter = new CsvRecordSplitter(opts.maxRecordBytes);
  let parser: Parser | undefined;
  const parserSkips: SkippedItem[] = [];
  let fatal: Error | undefined;

  const open = (): Parser => {
    const p = parse({
      delimiter: opts.delimiter ?? detectDelimiter(splitter.firstLine ?? ''),
      bom: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_records_with_error: true,
    });
    p.on('skip', (err: CsvError & { lines?: number }) => {
      parserSkips.push({ line: err.lines ?? 0, reason: 'bad_csv_row', message: err.message });
    });
    p.on('error', (err: Error) => {
      fatal = err;
    });
    return p;
  };

  function* take(p: Parser): Generator<LogItem> {
    for (let row = p.read() as string[] | null; row !== null; row = p.read() as string[] | null) {
      while (parserSkips.length > 0) yield { type: 'skip', skip: parserSkips.shift()! };
      const item = rows.map(row);
      if (item) yield item;
    }
    while (parserSkips.length > 0) yield { type: 'skip', skip: parserSkips.shift()! };
    if (fatal) throw new LogFormatError(`CSV parser stopped: ${fatal.message}`);
  }

  let cut: LogTruncatedError | undefined;
  try {
    for await (const chunk of chunks) {
      const out = splitter.push(chunk);
      for (const u of out.unclosed) yield dropped(u);
      if (out.text.length === 0) continue;
      parser ??= open();
      // The parser transforms synchronously on write; reading right away keeps one chunk in memory.
      parser.write(out.text);
      yield* take(parser);
    }
  } catch (err) {
    if (!(err instanceof LogTruncatedError)) throw err;
    // The source is cut (gzip data ends early): the complete lines before the cut are read, the
    // partial row at the cut is skipped.
    cut = err;
    const line = splitter.cut();
    if (line !== undefined) yield { type: 'skip', skip: { line, reason: 'truncated', message: 'the file is cut inside this row' } };
  }
  const last = splitter.end();
  for (const u of last.unclosed) yield dropped(u);
  if (parser === undefined && last.text.length === 0) throw cut ?? new LogFormatError('the file is empty');
  parser ??= open();
  parser.end(last.text);
  try {
    for await (const row of parser as AsyncIterable<string[]>) {
      while (parserSkips.length > 0) yield { type: 'skip', skip: parserSkips.shift()! };
      const item = rows.map(row);
      if (item) yield item;
    }
  } catch (err) {
    fatal ??= err as Error;
  }
  while (parserSkips.length > 0) yield { type: 'skip', skip: parserSkips.shift()! };
  if (fatal) throw new LogFormatError(`CSV parser stopped: ${fatal.message}`);
  if (!rows.sawHeader) throw cut ?? new LogFormatError('the file has no header line');
  if (cut) throw cut;
}

function dropped(u: UnclosedRecord): LogItem {
  return { type: 'skip', skip: { line: u.line, reason: u.reason ?? 'unclosed_quote', message: u.message } };
}

/** Turns one parsed row into an activity or a skip; remembers the header. */
class CsvRowMapper {
  private columns?: ResolvedColumns;
  private fieldCount = 0;
  /**
   * Line where the previous record ended: the next record starts on the line after it. Counted
   * here (a record spans one line more per line break inside its quoted fields) because asking
   * csv-parse for `info` on every record cost a third of its parsing time. The splitter hands
   * it only whole lines and blanks dropped ones, so every line of the file is one record or part
   * of one, and empty lines come through as records of one empty field.
   */
  private lastLine = 0;

  constructor(private readonly opts: CsvLogReaderOptions) {}

  get sawHeader(): boolean {
    return this.columns !== undefined;
  }

  map(fields: string[]): LogItem | undefined {
    const line = this.lastLine + 1;
    let endLine = line;
    for (let i = 0; i < fields.length; i++) {
      for (let at = fields[i].indexOf('\n'); at !== -1; at = fields[i].indexOf('\n', at + 1)) endLine++;
    }
    this.lastLine = endLine;
    if (fields.length === 1 && fields[0].trim() === '') return undefined;
    const columns = this.columns;
    if (columns === undefined) {
      this.columns = resolveCsvColumns(fields, this.opts.mapping);
      this.fieldCount = fields.length;
      return undefined;
    }
    if (fields.length !== this.fieldCount) {
      return skip(line, 'wrong_column_count', `expected ${this.fieldCount} fields as in the header, got ${fields.length}`);
    }
    const caseId = fields[columns.case!].trim();
    if (caseId === '') return skip(line, 'missing_case', `empty case column ${JSON.stringify(columns.names[columns.case!])}`);
    const activity = fields[columns.activity!].trim();
    // A line break in a case or activity is a stray quote that joined rows, not a real name.
    if (caseId.includes('\n')) return skip(line, 'bad_csv_row', 'the case spans lines: a quote opened here is closed on a later line');
    if (activity === '') return skip(line, 'missing_activity', `empty activity column ${JSON.stringify(columns.names[columns.activity!])}`, caseId);
    if (activity.includes('\n')) {
      return skip(line, 'bad_csv_row', 'the activity spans lines: a quote opened here is closed on a later line', caseId);
    }
    const rawTime = fields[columns.timestamp!];
    const timestampColumn = JSON.stringify(columns.names[columns.timestamp!]);
    if (rawTime.trim() === '') return skip(line, 'missing_timestamp', `empty timestamp column ${timestampColumn}`, caseId);
    const startMs = this.opts.parseTimestamp(rawTime);
    if (startMs === undefined) {
      return skip(line, 'bad_timestamp', `cannot read ${JSON.stringify(clip(rawTime))} in column ${timestampColumn} as a timestamp`, caseId);
    }

    const record: LogRecord = { line, caseId, activity, startMs, durationMs: 0 };
    const resource = optionalField(fields, columns.resource);
    if (resource !== undefined) record.resource = resource;
    if (columns.outcome !== undefined) {
      const outcome = this.opts.interpretOutcome(fields[columns.outcome]);
      if (outcome.success !== undefined) record.success = outcome.success;
      if (outcome.error !== undefined) record.error = outcome.error;
    }
    const intent = optionalField(fields, columns.intent);
    if (intent !== undefined) record.intent = intent;
    if (this.opts.otherColumnsAsParameters !== false) {
      let attributes: Record<string, unknown> | undefined;
      for (let i = 0; i < fields.length; i++) {
        if (fields[i] === '' || i === columns.case || i === columns.activity || i === columns.timestamp) continue;
        if (i === columns.resource || i === columns.outcome || i === columns.intent) continue;
        attributes ??= {};
        attributes[columns.names[i]] = fields[i];
      }
      if (attributes) record.attributes = attributes;
    }
    return { type: 'record', record };
  }
}

function optionalField(fields: string[], index: number | undefined): string | undefined {
  if (index === undefined) return undefined;
  const value = fields[index].trim();
  return value === '' ? undefined : value;
}

function skip(line: number, reason: SkippedItem['reason'], message: string, caseId?: string): LogItem {
  return { type: 'skip', skip: caseId === undefined ? { line, reason, message } : { line, reason, message, caseId } };
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
