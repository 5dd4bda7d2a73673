import { LogFormatError } from './column-mapping';
import type { LogItem, LogRecord } from './log-record';
import { createOutcomeInterpreter } from './outcome';
import { createTimestampParser } from './timestamp-parser';
import { readXesLog, type XesLogReaderOptions, type XesReaderCounters } from './xes-log-reader';

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function read(text: string, opts: Partial<XesLogReaderOptions> = {}, chunkSize = 65536) {
  const counters: XesReaderCounters = { ignoredTransitions: 0 };
  const items: LogItem[] = [];
  for await (const item of readXesLog(chunksOf(text, chunkSize), {
    mapping: {},
    parseTimestamp: createTimestampParser(),
    interpretOutcome: createOutcomeInterpreter(),
    counters,
    ...opts,
  })) {
    items.push(item);
  }
  const records = items.flatMap((i) => (i.type === 'record' ? [i.record] : []));
  const skips = items.flatMap((i) => (i.type === 'skip' ? [i.skip] : []));
  return { items, records, skips, counters };
}

const xes = (traces: string) => `<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="the log, not a case"/>
${traces}
</log>
`;

const event = (name: string, time: string, extra = '') =>
  `<event><string key="concept:name" value="${name}"/><date key="time:timestamp" value="${time}"/>${extra}</event>`;

const brief = (r: LogRecord) => [r.caseId, r.activity, new Date(r.startMs).toISOString(), r.durationMs];

describe('readXesLog', () => {
  it.each([1, 13, 65536])('reads traces as cases and events as activities, closing each case at its end (chunks of %i)', async (size) => {
    const text = xes(`
  <trace>
    <string key="concept:name" value="case-1"/>
    ${event('register', '2026-01-05T08:00:00.000+01:00', '<string key="org:resource" value="Pete"/>')}
    ${event('decide', '2026-01-05T08:10:00.000+01:00')}
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    ${event('register', '2026-01-05T09:00:00Z')}
  </trace>`);
    const { items, records, skips } = await read(text, {}, size);
    expect(skips).toEqual([]);
    expect(records.map(brief)).toEqual([
      ['case-1', 'register', '2026-01-05T07:00:00.000Z', 0],
      ['case-1', 'decide', '2026-01-05T07:10:00.000Z', 0],
      ['case-2', 'register', '2026-01-05T09:00:00.000Z', 0],
    ]);
    expect(records[0].resource).toBe('Pete');
    expect(items.map((i) => i.type)).toEqual(['record', 'record', 'case_end', 'record', 'case_end']);
  });

  it('pairs start and complete into one activity with its duration, in start order (the interval view)', async () => {
    const lc = (t: string) => `<string key="lifecycle:transition" value="${t}"/>`;
    const text = xes(`
  <trace>
    <string key="concept:name" value="c"/>
    ${event('A', '2026-01-05T08:00:00Z', lc('start'))}
    ${event('B', '2026-01-05T08:00:10Z', lc('complete'))}
    ${event('A', '2026-01-05T08:01:00Z', lc('complete'))}
    ${event('C', '2026-01-05T08:02:00Z', lc('schedule'))}
    ${event('C', '2026-01-05T08:03:00Z', lc('start'))}
    ${event('C', '2026-01-05T08:03:30Z', lc('ate_abort'))}
    ${event('D', '2026-01-05T08:04:00Z', lc('start'))}
  </trace>`);
    const { records, counters, items } = await read(text);
    expect(records.map((r) => [r.activity, r.durationMs, r.success, r.error])).toEqual([
      ['A', 60_000, undefined, undefined],
      ['B', 0, undefined, undefined],
    ]);
    // As pm4py's interval view: an aborted start and a start never completed are no activity; counted, in place.
    const skips = items.flatMap((i) => (i.type === 'skip' ? [i.skip] : []));
    expect(skips.map((k) => [k.reason, k.caseId, k.message])).toEqual([
      ['not_completed', 'c', expect.stringContaining('aborted (ate_abort)')],
      ['not_completed', 'c', expect.stringContaining('started but never completed')],
    ]);
    expect(items.map((i) => i.type)).toEqual(['record', 'record', 'skip', 'skip', 'case_end']);
    expect(counters.ignoredTransitions).toBe(1);
  });

  it('orders calls that started together by their end, and pairs by concept:instance when given', async () => {
    const lc = (t: string, instance?: string) =>
      `<string key="lifecycle:transition" value="${t}"/>${instance ? `<string key="concept:instance" value="${instance}"/>` : ''}`;
    const text = xes(`
  <trace>
    <string key="concept:name" value="c"/>
    ${event('long', '2026-01-05T08:00:00Z', lc('start'))}
    ${event('short', '2026-01-05T08:00:00Z', lc('start'))}
    ${event('short', '2026-01-05T08:00:05Z', lc('complete'))}
    ${event('long', '2026-01-05T08:01:00Z', lc('complete'))}
    ${event('X', '2026-01-05T09:00:00Z', lc('start', '1'))}
    ${event('X', '2026-01-05T09:00:01Z', lc('start', '2'))}
    ${event('X', '2026-01-05T09:00:02Z', lc('complete', '2'))}
    ${event('X', '2026-01-05T09:00:09Z', lc('complete', '1'))}
  </trace>`);
    const { records } = await read(text);
    expect(records.map((r) => [r.activity, new Date(r.startMs).toISOString().slice(11, 19), r.durationMs])).toEqual([
      ['short', '08:00:00', 5_000],
      ['long', '08:00:00', 60_000],
      ['X', '09:00:00', 9_000],
      ['X', '09:00:01', 1_000],
    ]);
  });

  it('keeps nested attributes: meta-attributes, containers and lists', async () => {
    const text = xes(`
  <trace>
    <string key="concept:name" value="c"/>
    <event>
      <string key="concept:name" value="send"/>
      <date key="time:timestamp" value="2026-01-05T08:00:00Z"/>
      <string key="channel" value="email"><boolean key="templated" value="true"/></string>
      <container key="query"><string key="text" value="how to"/><int key="hits" value="3"/></container>
      <list key="tags"><values><string key="tag" value="a"/><float key="w" value="0.5"/></values></list>
      <int key="big" value="123456789012345678901"/>
    </event>
  </trace>`);
    const { records } = await read(text);
    expect(records[0].attributes).toEqual({
      channel: { value: 'email', templated: true },
      query: { text: 'how to', hits: 3 },
      tags: ['a', 0.5],
      big: '123456789012345678901',
    });
  });

  it('reports malformed events with their line and reads the rest', async () => {
    const text = xes(`
  <trace>
    <string key="concept:name" value="c"/>
    ${event('ok-1', '2026-01-05T08:00:00Z')}
    <event><string key="concept:name" value="no time"/></event>
    <event><date key="time:timestamp" value="2026-01-05T08:00:00Z"/></event>
    ${event('bad time', 'last tuesday')}
    <event><string key="concept:name" value="broken" <date key="time:timestamp" value="2026-01-05T08:00:00Z"/></event>
    <event><string value="keyless"/><string key="concept:name" value="x"/><date key="time:timestamp" value="2026-01-05T08:00:00Z"/></event>
    ${event('ok-2', '2026-01-05T08:00:01Z')}
  </trace>
  <trace>
    ${event('orphan', '2026-01-05T08:00:00Z')}
    ${event('orphan', '2026-01-05T08:00:01Z')}
  </trace>
  <trace>
    <string key="concept:name" value="c"/>
    ${event('again', '2026-01-05T08:00:00Z')}
  </trace>`);
    const { records, skips } = await read(text);
    expect(records.map((r) => r.activity)).toEqual(['ok-1', 'ok-2']);
    const firstLine = text.split('\n').findIndex((l) => l.includes('ok-1')) + 1;
    expect(skips.map((s) => [s.line - firstLine, s.reason, s.count ?? 1])).toEqual([
      [1, 'missing_timestamp', 1],
      [2, 'missing_activity', 1],
      [3, 'bad_timestamp', 1],
      [4, 'malformed_event', 1],
      [5, 'malformed_event', 1],
      [8, 'missing_case', 2],
      [12, 'duplicate_case', 1],
    ]);
  });

  it('keeps unicode activity names and case ids', async () => {
    const text = xes(`<trace><string key="concept:name" value="заказ-7"/>${event('顧客への連絡 ✉', '2026-01-05T08:00:00Z')}</trace>`);
    const { records } = await read(text, {}, 3);
    expect(records.map((r) => [r.caseId, r.activity])).toEqual([['заказ-7', '顧客への連絡 ✉']]);
  });

  it('reads outcome and intent from the attributes it is told', async () => {
    const text = xes(`<trace><string key="concept:name" value="c"/><string key="goal" value="refund"/>
      ${event('pay', '2026-01-05T08:00:00Z', '<string key="result" value="declined"/>')}</trace>`);
    const { records } = await read(text, { mapping: { outcome: 'result', intent: 'goal' } });
    expect(records[0]).toMatchObject({ success: false, error: 'declined', intent: 'refund' });
    expect(records[0].attributes).toBeUndefined();
  });

  it('refuses a file without a <log>', async () => {
    await expect(read('<html><body/></html>')).rejects.toThrow(LogFormatError);
  });
});
