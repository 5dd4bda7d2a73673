import type { ToolEventInput } from '@toolpath/contracts';
import { readCsvLog } from './csv-log-reader';
import { DryRunSink, type EventSink } from './event-sink';
import { importEventId } from './import-event-id';
import { runImport, type ImportRunOptions } from './log-importer';
import type { LogItem } from './log-record';
import { createOutcomeInterpreter } from './outcome';
import { createTimestampParser } from './timestamp-parser';

/** Validates like the publisher (through the dry-run sink) and keeps what it accepts. */
class CapturingSink implements EventSink {
  readonly events: ToolEventInput[] = [];
  private readonly check = new DryRunSink('t1');
  send(event: ToolEventInput): void {
    this.check.send(event);
    this.events.push(event);
  }
  async finish(): Promise<void> {}
  counts() {
    return { published: this.events.length, duplicates: 0, dropped: 0 };
  }
}

async function* chunksOf(text: string): AsyncGenerator<string> {
  yield text;
}

function csv(text: string): AsyncIterable<LogItem> {
  return readCsvLog(chunksOf(text), { mapping: {}, parseTimestamp: createTimestampParser(), interpretOutcome: createOutcomeInterpreter() });
}

async function importCsv(text: string, opts: Partial<ImportRunOptions> = {}) {
  const sink = new CapturingSink();
  const skips: unknown[] = [];
  const summary = await runImport({ items: csv(text), sink, sourceId: 'log.csv', onSkip: (s) => skips.push(s), ...opts });
  return { sink, summary, events: sink.events, skips };
}

const LOG = [
  'case,activity,timestamp,resource,outcome,intent',
  'A,open,2026-01-05 08:00:00,ann,ok,refund 7',
  'B,open,2026-01-05 08:00:00,bob,,',
  'A,check,2026-01-05 08:00:05,ann,,',
  'A,pay,2026-01-05 08:00:05,ann,declined,',
  'B,close,2026-01-05 08:01:00,bob,ok,',
].join('\n');

describe('runImport', () => {
  it('maps cases to sessions, activities to tool calls in file order, and ends each case', async () => {
    const { events, summary } = await importCsv(LOG);
    const calls = events.filter((e) => e.kind === 'tool_call');
    expect(calls.map((e) => [e.sessionId, e.seq, e.tool, e.userId, e.success, e.error, e.intent])).toEqual([
      ['A', 0, 'open', 'ann', true, undefined, 'refund 7'],
      ['B', 0, 'open', 'bob', true, undefined, undefined],
      ['A', 1, 'check', 'ann', true, undefined, 'refund 7'],
      // Equal timestamps: the file order decides (seq), never a re-sort.
      ['A', 2, 'pay', 'ann', false, 'declined', 'refund 7'],
      ['B', 1, 'close', 'bob', true, undefined, undefined],
    ]);
    expect(calls[0]).toMatchObject({ startedAt: Date.UTC(2026, 0, 5, 8), durationMs: 0 });
    const ends = events.filter((e) => e.kind === 'session_end');
    // Stamped with the case's end (its last activity's end), never its start: in time order too it comes last.
    expect(ends).toEqual([
      expect.objectContaining({ sessionId: 'A', seq: 3, success: false, startedAt: Date.UTC(2026, 0, 5, 8, 0, 5), durationMs: 0, intent: 'refund 7', result: { activities: 3, failed: 1, outcomesKnown: 2 } }),
      expect.objectContaining({ sessionId: 'B', seq: 2, success: true, startedAt: Date.UTC(2026, 0, 5, 8, 1), durationMs: 0, result: { activities: 2, failed: 0, outcomesKnown: 1 } }),
    ]);
    expect(summary).toMatchObject({ eventsRead: 5, toolCalls: 5, sessionEnds: 2, cases: 2, skipped: 0, limited: false });
  });

  it('gives the same event ids on every import of the same file, and other ids for another source', async () => {
    const first = await importCsv(LOG);
    const again = await importCsv(LOG);
    const ids = first.events.map((e) => e.eventId);
    expect(again.events.map((e) => e.eventId)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(importEventId('log.csv', 'A', 0, Date.UTC(2026, 0, 5, 8)));
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const other = await importCsv(LOG, { sourceId: 'other.csv' });
    expect(other.events.map((e) => e.eventId).filter((id) => ids.includes(id!))).toEqual([]);
  });

  it('keeps the ids of the other rows when a bad row is fixed and the file imported again', async () => {
    const broken = await importCsv('case,activity,timestamp\nA,a,2026-01-05\nA,b,whenever\nA,c,2026-01-06\n');
    const fixed = await importCsv('case,activity,timestamp\nA,a,2026-01-05\nA,b,2026-01-05\nA,c,2026-01-06\n');
    const ids = (events: ToolEventInput[]) => new Map(events.map((e) => [e.tool ?? 'end', e.eventId]));
    expect(broken.events.map((e) => e.seq)).toEqual([0, 2, 3]);
    expect(fixed.events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    for (const [tool, id] of ids(broken.events)) expect(ids(fixed.events).get(tool)).toBe(id);
  });

  it('puts the resource in the parameters when told, and applies the default intent', async () => {
    const { events } = await importCsv(LOG, { resourceAs: 'parameter', intent: 'fallback' });
    expect(events[1]).toMatchObject({ parameters: { resource: 'bob' }, intent: 'fallback' });
    expect(events[1].userId).toBeUndefined();
  });

  it('stops at the limit and ends no case the rest of the file may continue (the whole import ends them)', async () => {
    const { events, summary } = await importCsv(LOG, { limit: 2 });
    expect(events.map((e) => [e.kind, e.sessionId])).toEqual([
      ['tool_call', 'A'],
      ['tool_call', 'B'],
    ]);
    expect(summary).toMatchObject({ eventsRead: 2, limited: true, sessionEnds: 0, casesLeftOpen: 2 });
  });

  it('skips an activity the contract refuses, naming the field and the line, and imports the rest', async () => {
    const long = 'x'.repeat(201);
    const { events, skips, summary } = await importCsv(`case,activity,timestamp\nA,${long},2026-01-05\nA,ok,2026-01-05\n`);
    expect(skips).toEqual([{ line: 2, reason: 'invalid_event', message: expect.stringContaining('tool') }]);
    expect(events.map((e) => [e.kind, e.tool, e.seq])).toEqual([
      ['tool_call', 'ok', 1],
      ['session_end', undefined, 2],
    ]);
    expect(summary.skippedByReason).toEqual({ invalid_event: 1 });
  });

  it('counts a case whose every activity was skipped, but sends no session_end for it', async () => {
    const { events, summary } = await importCsv('case,activity,timestamp\nA,a,never\nB,b,2026-01-05\n');
    expect(events.map((e) => [e.kind, e.sessionId])).toEqual([
      ['tool_call', 'B'],
      ['session_end', 'B'],
    ]);
    expect(summary).toMatchObject({ skipped: 1, skippedByReason: { bad_timestamp: 1 }, toolCalls: 1, cases: 1 });
  });

  it('reports progress while it runs', async () => {
    const rows = ['case,activity,timestamp'];
    for (let i = 0; i < 2000; i++) rows.push(`c${i % 10},a${i % 3},2026-01-05 08:00:00`);
    const seen: number[] = [];
    const slowSink = new CapturingSink();
    const send = slowSink.send.bind(slowSink);
    let n = 0;
    slowSink.send = (e) => {
      send(e);
      // Every 500th event waits a little, so the progress timer gets a turn.
      if (++n % 500 === 0) return new Promise<void>((r) => setTimeout(r, 30)) as never;
    };
    await runImport({ items: csv(rows.join('\n')), sink: slowSink, sourceId: 's', onProgress: (p) => seen.push(p.eventsRead), progressIntervalMs: 20 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
  });
});
