import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LogFormatError, LogTruncatedError } from './column-mapping';
import { readCsvLog } from './csv-log-reader';
import { CsvRecordSplitter } from './csv-record-splitter';
import type { LogItem } from './log-record';
import { openLogFile } from './log-source';
import { createOutcomeInterpreter } from './outcome';
import { ExitCode, runCli } from './run-cli';
import { createTimestampParser } from './timestamp-parser';
import { readXesLog, type XesReaderCounters } from './xes-log-reader';

/*
 * Damaged input (issue 11, "bad input"): a cut or malformed file gives a clear error or a counted
 * skip, never a silent loss, a stall, or a session_end for a case the damage may have shortened.
 */

async function* chunksOf(text: string, size: number, thenThrow?: Error): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  if (thenThrow) throw thenThrow;
}

async function collect(items: AsyncIterable<LogItem>): Promise<{ items: LogItem[]; error?: Error }> {
  const out: LogItem[] = [];
  try {
    for await (const item of items) out.push(item);
  } catch (err) {
    return { items: out, error: err as Error };
  }
  return { items: out };
}

const xesOptions = (counters: XesReaderCounters = { ignoredTransitions: 0 }) => ({
  mapping: {},
  parseTimestamp: createTimestampParser(),
  interpretOutcome: createOutcomeInterpreter(),
  counters,
});
const ev = (name: string, minute: number, extra = '') =>
  `    <event><string key="concept:name" value="${name}"/><date key="time:timestamp" value="2020-01-01T00:${String(minute).padStart(2, '0')}:00Z"/>${extra}</event>\n`;
const trace = (id: string, body: string) => `  <trace>\n    <string key="concept:name" value="${id}"/>\n${body}  </trace>\n`;
const log = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n${body}</log>\n`;

const activities = (items: LogItem[]) => items.flatMap((i) => (i.type === 'record' ? [`${i.record.caseId}:${i.record.activity}`] : []));
const caseEnds = (items: LogItem[]) => items.flatMap((i) => (i.type === 'case_end' ? [i.caseId] : []));
const skips = (items: LogItem[]) => items.flatMap((i) => (i.type === 'skip' ? [i.skip] : []));

describe('XES: damage', () => {
  const whole = log(trace('c1', ev('a', 0) + ev('b', 1)) + trace('c2', ev('a', 0) + ev('b', 1) + ev('c', 2)) + trace('c3', ev('x', 0)));

  it('a file cut inside an element: what was read is kept, the cut trace is not ended, and the error says where', async () => {
    const cutAt = whole.indexOf('value="c"') + 4;
    const { items, error } = await collect(readXesLog(chunksOf(whole.slice(0, cutAt), 50), xesOptions()));
    expect(activities(items)).toEqual(['c1:a', 'c1:b', 'c2:a', 'c2:b']);
    expect(caseEnds(items)).toEqual(['c1']);
    expect(skips(items)).toEqual([expect.objectContaining({ reason: 'truncated', line: 12, message: 'the file ends inside this <event>' })]);
    expect(error).toBeInstanceOf(LogTruncatedError);
    expect(error!.message).toBe('the file ends inside the trace "c2" that starts at line 8: it is cut short');
  });

  it('a file cut between traces (no </log>) is reported as cut, every trace read whole', async () => {
    const cutAt = whole.indexOf('  <trace>', whole.indexOf('c2'));
    const { items, error } = await collect(readXesLog(chunksOf(whole.slice(0, cutAt), 64), xesOptions()));
    expect(caseEnds(items)).toEqual(['c1', 'c2']);
    expect(error).toBeInstanceOf(LogTruncatedError);
    expect(error!.message).toMatch(/before <\/log>/);
  });

  it('a source that fails as cut (gzip data ending early) settles the open trace the same way', async () => {
    const cutAt = whole.indexOf('value="b"', whole.indexOf('c2'));
    const { items, error } = await collect(readXesLog(chunksOf(whole.slice(0, cutAt), 40, new LogTruncatedError('the gzip data ends early')), xesOptions()));
    expect(caseEnds(items)).toEqual(['c1']);
    expect(error!.message).toBe('the gzip data ends early, inside the trace "c2" that starts at line 8');
  });

  it.each([1, 7, 64, 65536])('an unescaped "&" skips its event only, and reading goes on (chunks of %i)', async (size) => {
    const text = log(trace('c1', ev('R&D review', 0) + ev('b', 1) + ev('c &amp; d', 2)) + trace('c2', ev('x', 0)));
    const { items, error } = await collect(readXesLog(chunksOf(text, size), xesOptions()));
    expect(error).toBeUndefined();
    expect(activities(items)).toEqual(['c1:b', 'c1:c & d', 'c2:x']);
    expect(skips(items)).toEqual([expect.objectContaining({ line: 5, reason: 'malformed_event', message: expect.stringContaining('unescaped "&"') })]);
    expect(caseEnds(items)).toEqual(['c1', 'c2']);
  });

  it('a close tag that matches nothing stops reading with its line and column, instead of misreading the rest', async () => {
    const text = log(trace('c1', ev('a', 0)) + trace('c2', ev('a', 0) + ev('b', 1).replace('</event>', '</evnt>') + ev('c', 2)) + trace('c3', ev('x', 0)));
    const { items, error } = await collect(readXesLog(chunksOf(text, 65536), xesOptions()));
    expect(activities(items)).toEqual(['c1:a', 'c2:a', 'c2:b']);
    expect(caseEnds(items)).toEqual(['c1']);
    expect(error).toBeInstanceOf(LogTruncatedError);
    expect(error!.message).toMatch(/^line 10, column \d+: a close tag does not match the element open there; reading stops there, inside the trace "c2"/);
  });

  it('counts a trace without events', async () => {
    const counters: XesReaderCounters = { ignoredTransitions: 0 };
    const { items, error } = await collect(readXesLog(chunksOf(log(trace('c1', ev('a', 0)) + trace('empty', '')), 100), xesOptions(counters)));
    expect(error).toBeUndefined();
    expect(activities(items)).toEqual(['c1:a']);
    expect(counters.emptyTraces).toBe(1);
  });

  it('reads attributes nested 10,000 deep without overflowing the stack', async () => {
    const deep = `${'<container key="p">'.repeat(10_000)}<string key="leaf" value="v"/>${'</container>'.repeat(10_000)}`;
    const { items, error } = await collect(readXesLog(chunksOf(log(trace('c1', ev('deep', 0, deep) + ev('b', 1))), 65536), xesOptions()));
    expect(error).toBeUndefined();
    expect(activities(items)).toEqual(['c1:deep', 'c1:b']);
  });
});

describe('CSV: damage', () => {
  const opts = { mapping: {}, parseTimestamp: createTimestampParser(), interpretOutcome: createOutcomeInterpreter() };

  it('a source cut mid-row: the complete rows are read, the partial one is skipped as truncated, then the cut is thrown', async () => {
    const text = 'case,activity,timestamp\nc1,a,2020-01-01T00:00:00Z\nc1,b,2020-01-01T00:01:00Z\nc2,regi';
    const { items, error } = await collect(readCsvLog(chunksOf(text, 10, new LogTruncatedError('the gzip data ends early')), opts));
    expect(activities(items)).toEqual(['c1:a', 'c1:b']);
    expect(skips(items)).toEqual([{ line: 4, reason: 'truncated', message: 'the file is cut inside this row' }]);
    expect(error).toBeInstanceOf(LogTruncatedError);
  });

  it('drops a line longer than any event can be without holding it, and reads on with the right line numbers', async () => {
    const text = `case,activity,timestamp\nc1,a,2020-01-01T00:00:00Z\nc1,${'x'.repeat(3_000_000)},2020-01-01T00:00:00Z\nc1,b,bad\nc1,c,2020-01-01T00:02:00Z\n`;
    const { items, error } = await collect(readCsvLog(chunksOf(text, 65536), opts));
    expect(error).toBeUndefined();
    expect(activities(items)).toEqual(['c1:a', 'c1:c']);
    expect(skips(items).map((s) => [s.line, s.reason])).toEqual([
      [3, 'too_large'],
      [4, 'bad_timestamp'],
    ]);
  });

  it('the splitter holds no more than its line limit of a line without an end', () => {
    const splitter = new CsvRecordSplitter(64 * 1024, 1000);
    splitter.push('case,activity\n');
    const out = [];
    for (let i = 0; i < 100; i++) out.push(splitter.push('y'.repeat(100)));
    expect(out.flatMap((o) => o.unclosed)).toEqual([{ line: 2, reason: 'too_large', message: expect.stringContaining('longer than 1000') }]);
    expect(out.every((o) => o.text === '')).toBe(true);
    expect(splitter.push('tail\nc,a\n').text).toBe('\nc,a\n');
  });
});

describe('gzip: damage', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bad-gz-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function drain(path: string): Promise<Error | undefined> {
    try {
      for await (const _ of openLogFile(path).chunks) void _;
    } catch (err) {
      return err as Error;
    }
    return undefined;
  }

  it('gzip data that ends early is a cut file, data that is not gzip is not a log', async () => {
    const gz = gzipSync('case,activity,timestamp\n' + 'c1,a,2020-01-01T00:00:00Z\n'.repeat(5000));
    writeFileSync(join(dir, 'cut.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeFileSync(join(dir, 'plain.csv.gz'), 'case,activity,timestamp\n');
    const cut = await drain(join(dir, 'cut.csv.gz'));
    expect(cut).toBeInstanceOf(LogTruncatedError);
    expect(cut!.message).toMatch(/^the gzip data ends early, \d+ bytes into the file/);
    const plain = await drain(join(dir, 'plain.csv.gz'));
    expect(plain).toBeInstanceOf(LogFormatError);
    expect(plain).not.toBeInstanceOf(LogTruncatedError);
    expect(plain!.message).toMatch(/^not gzip data/);
  });

  it('the command imports what precedes the cut, prints the summary, ends no case open at the cut, and exits 4', async () => {
    const traces = Array.from({ length: 3000 }, (_, i) => trace(`c${i}`, ev(`a${i % 97}`, 0) + ev(`b${i % 89}`, 1))).join('');
    const gz = gzipSync(log(traces));
    writeFileSync(join(dir, 'cut.xes.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--tenant', 'acme', '--dry-run', '--quiet', '--json', join(dir, 'cut.xes.gz')], {}, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    expect(code).toBe(ExitCode.Truncated);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ truncated: expect.stringMatching(/^the gzip data ends early, \d+ bytes into the file: the file is cut short, inside the trace /) });
    expect(summary.cases).toBeGreaterThan(1000);
    expect(summary.cases).toBeLessThan(3000);
    expect(summary.sessionEnds).toBe(summary.cases);
    expect(stderr).toMatch(/cut\.xes\.gz: the gzip data ends early/);
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('a file that is not gzip exits 1 with one line saying so', async () => {
    writeFileSync(join(dir, 'log.xes.gz'), '<log></log>');
    let stderr = '';
    const code = await runCli(['--tenant', 'acme', '--dry-run', '--quiet', join(dir, 'log.xes.gz')], {}, { stdout: () => undefined, stderr: (t) => (stderr += t) });
    expect(code).toBe(ExitCode.NothingRead);
    expect(stderr).toBe('toolpath-import: log.xes.gz: not gzip data (incorrect header check); a file that is not compressed must not end in .gz\n');
  });
});

describe('CSV: wrong delimiter', () => {
  it('says the delimiter is wrong when the header is one column that another delimiter splits', async () => {
    const opts = { mapping: {}, delimiter: ',', parseTimestamp: createTimestampParser(), interpretOutcome: createOutcomeInterpreter() };
    const { error } = await collect(readCsvLog(chunksOf('case;activity;timestamp\nc1;a;2020-01-01T00:00:00Z\n', 100), opts));
    expect(error).toBeInstanceOf(LogFormatError);
    expect(error!.message).toBe(
      'no case column found; name it with --case-column (the header has "case;activity;timestamp": one column only, so the delimiter is wrong; this header looks split by ";" (--delimiter))',
    );
  });
});
