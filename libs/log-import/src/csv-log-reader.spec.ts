import { LogFormatError } from './column-mapping';
import { readCsvLog, type CsvLogReaderOptions } from './csv-log-reader';
import type { LogItem, LogRecord, SkippedItem } from './log-record';
import { createOutcomeInterpreter } from './outcome';
import { createTimestampParser } from './timestamp-parser';

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function read(text: string, opts: Partial<CsvLogReaderOptions> = {}, chunkSize = 64 * 1024) {
  const items: LogItem[] = [];
  for await (const item of readCsvLog(chunksOf(text, chunkSize), {
    mapping: {},
    parseTimestamp: createTimestampParser(),
    interpretOutcome: createOutcomeInterpreter(),
    ...opts,
  })) {
    items.push(item);
  }
  const records = items.flatMap((i) => (i.type === 'record' ? [i.record] : []));
  const skips = items.flatMap((i) => (i.type === 'skip' ? [i.skip] : []));
  return { items, records, skips };
}

const brief = (r: LogRecord) => [r.line, r.caseId, r.activity, new Date(r.startMs).toISOString()];
const where = (s: SkippedItem) => [s.line, s.reason];

describe('readCsvLog', () => {
  const log = [
    'Case ID,Activity,Complete Timestamp,Resource,outcome,amount',
    'c1,Register request,2026-01-05 08:00:00,Pete,success,10',
    'c2,Register request,2026-01-05 08:00:01,Sue,,20',
    'c1,Check ticket,2026-01-05 08:05:00,Mike,failed: timeout,',
    '',
    'c2,Decide,1767600000000,Sara,OK,20',
  ].join('\n');

  it.each([1, 7, 65536])('reads activities with their line, mapped by header names (chunks of %i)', async (size) => {
    const { records, skips } = await read(log, {}, size);
    expect(skips).toEqual([]);
    expect(records.map(brief)).toEqual([
      [2, 'c1', 'Register request', '2026-01-05T08:00:00.000Z'],
      [3, 'c2', 'Register request', '2026-01-05T08:00:01.000Z'],
      [4, 'c1', 'Check ticket', '2026-01-05T08:05:00.000Z'],
      [6, 'c2', 'Decide', '2026-01-05T08:00:00.000Z'],
    ]);
    expect(records[0]).toMatchObject({ resource: 'Pete', success: true, attributes: { amount: '10' }, durationMs: 0 });
    expect(records[1].success).toBeUndefined();
    expect(records[2]).toMatchObject({ success: false, error: 'failed: timeout' });
    expect(records[2].attributes).toBeUndefined();
  });

  it('reports each malformed row with its line and reason, and reads the rest', async () => {
    const text = [
      'case,activity,timestamp',
      'c1,a,2026-01-05 08:00:00',
      'c1,b,not a time',
      ',c,2026-01-05 08:00:02',
      'c1,,2026-01-05 08:00:03',
      'c1,d',
      'c1,e,',
      'c1,"f,2026-01-05 08:00:04',
      'c1,g,2026-01-05 08:00:05',
      'c1,h,2026-01-05 08:00:07,extra',
      'c1,i,2026-01-05 08:00:08',
    ].join('\n');
    const { records, skips } = await read(text, { maxRecordBytes: 1024 });
    expect(skips.map(where).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [3, 'bad_timestamp'],
      [4, 'missing_case'],
      [5, 'missing_activity'],
      [6, 'wrong_column_count'],
      [7, 'missing_timestamp'],
      [8, 'unclosed_quote'],
      [10, 'wrong_column_count'],
    ]);
    expect(skips.find((s) => s.line === 3)?.message).toContain('"not a time"');
    expect(records.map((r) => [r.line, r.activity])).toEqual([
      [2, 'a'],
      [9, 'g'],
      [11, 'i'],
    ]);
  });

  it('numbers the rows after a quoted field that spans lines by the file', async () => {
    const text = 'case,activity,timestamp,note\nc1,a,2026-01-05,"two\nlines"\nc1,next,bad,\n';
    const { records, skips } = await read(text, {}, 4);
    expect(records.map((r) => [r.line, r.activity, r.attributes])).toEqual([[2, 'a', { note: 'two\nlines' }]]);
    expect(skips.map(where)).toEqual([[4, 'bad_timestamp']]);
  });

  it('a stray quote joins the lines up to the next odd quote into one bad row', async () => {
    const text = 'case,activity,timestamp\nc1,"a,2026-01-05\nc1,b,2026-01-05\nc1,"c,2026-01-05\nc1,d,2026-01-05\n';
    const { records, skips } = await read(text);
    expect(skips.map(where)).toEqual([[2, 'bad_csv_row']]);
    expect(records.map((r) => [r.line, r.activity])).toEqual([[5, 'd']]);
  });

  it('keeps unicode activities, a BOM, CRLF line ends and other delimiters', async () => {
    const text = '\uFEFFcase;activity;time\r\nфайл-1;Prüfung der Rechnung 🧾;2026-01-05T08:00:00Z\r\nфайл-1;顧客への連絡;2026-01-05T08:00:00Z\r\n';
    const { records, skips } = await read(text, {}, 5);
    expect(skips).toEqual([]);
    expect(records.map((r) => [r.caseId, r.activity])).toEqual([
      ['файл-1', 'Prüfung der Rechnung 🧾'],
      ['файл-1', '顧客への連絡'],
    ]);
  });

  it('uses the columns it is told, and a given delimiter', async () => {
    const text = 'ticket\tstep\twhen\twho\nT1\topen\t1767600000\tann\n';
    const { records } = await read(text, { mapping: { case: 'ticket', activity: 'step', timestamp: 'when', resource: 'who' }, delimiter: '\t' });
    expect(records).toEqual([{ line: 2, caseId: 'T1', activity: 'open', startMs: 1767600000000, durationMs: 0, resource: 'ann' }]);
  });

  it('leaves other columns out of the attributes when told', async () => {
    const { records } = await read('case,activity,timestamp,x\nc,a,2026-01-05,1\n', { otherColumnsAsParameters: false });
    expect(records[0].attributes).toBeUndefined();
  });

  it('refuses a header without a required column, naming the flag', async () => {
    await expect(read('case,when\nc,2026-01-05\n')).rejects.toThrow(/no activity column found; name it with --activity-column/);
    await expect(read('case,activity,timestamp\n', { mapping: { resource: 'owner' } })).rejects.toThrow(
      /--resource-column "owner": no such column/,
    );
    await expect(read('')).rejects.toThrow(LogFormatError);
  });
});
