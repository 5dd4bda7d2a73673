import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { NatsConnection } from 'nats';
import { ExitCode, runCli } from '@toolpath/log-import';
import { connectTestNats, createTestEventsStream, deleteTestStream, isolatedEnv, testNames, type TestNames } from '@toolpath/testing';

/*
 * Damaged logs against a real stream: a cut file imports what precedes the cut and ends no case
 * the cut may have shortened, so importing the whole file afterwards (same name) completes every
 * case with exactly one event per activity and one right session_end, nothing published twice.
 */

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function importLog(names: TestNames, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--quiet', '--json', '--tenant', 'acme', ...args], isolatedEnv(names), {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

/** Every event in the stream, in stream order. */
async function streamEvents(nc: NatsConnection, names: TestNames): Promise<any[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(names.stream);
  const out: any[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    out.push((await jsm.streams.getMessage(names.stream, { seq })).json<any>());
  }
  return out;
}

const ev = (name: string, minute: number, extra = '') =>
  `<event><string key="concept:name" value="${name}"/><date key="time:timestamp" value="2020-01-01T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z"/>${extra}</event>\n`;
const xesLog = (traces: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n${traces}</log>\n`;

/** `cases` traces of 3..7 activities (enough text that gzip writes it in several blocks). */
function xesOf(cases: number): { text: string; activities: Map<string, number> } {
  const activities = new Map<string, number>();
  let traces = '';
  for (let c = 0; c < cases; c++) {
    const n = 3 + (c % 5);
    activities.set(`case-${c}`, n);
    let events = '';
    for (let i = 0; i < n; i++) events += ev(`step.${(c * 7 + i) % 23}`, i, `<string key="note" value="${'n'.repeat(40)}${c}-${i}"/>`);
    traces += `<trace><string key="concept:name" value="case-${c}"/>\n${events}</trace>\n`;
  }
  return { text: xesLog(traces), activities };
}

/** The stream holds each case's activities once, and one session_end per case counting them all. */
function expectWholeCases(events: any[], activities: Map<string, number>): void {
  const ids = events.map((e) => e.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  const calls = new Map<string, number>();
  const ends = new Map<string, any[]>();
  for (const e of events) {
    if (e.kind === 'tool_call') calls.set(e.sessionId, (calls.get(e.sessionId) ?? 0) + 1);
    else ends.set(e.sessionId, [...(ends.get(e.sessionId) ?? []), e]);
  }
  expect(Object.fromEntries(calls)).toEqual(Object.fromEntries(activities));
  for (const [caseId, n] of activities) {
    expect({ caseId, ends: ends.get(caseId)?.map((e) => e.result.activities) }).toEqual({ caseId, ends: [n] });
  }
}

describe('toolpath-import: damaged files against NATS', () => {
  let nc: NatsConnection;
  let names: TestNames;
  let dir: string;

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await nc.close();
  });
  beforeEach(async () => {
    names = testNames('logimport-bad');
    await createTestEventsStream(nc, names);
    dir = mkdtempSync(join(tmpdir(), 'toolpath-import-bad-'));
    mkdirSync(join(dir, 'cut'));
    mkdirSync(join(dir, 'whole'));
  });
  afterEach(async () => {
    await deleteTestStream(nc, names);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['a .xes.gz cut mid-gzip-stream', 'log.xes.gz', (text: string) => gzipSync(text).subarray(0, Math.floor(gzipSync(text).length * 0.55))],
    ['a .xes cut mid-element', 'log.xes', (text: string) => Buffer.from(text.slice(0, text.indexOf('value="case-300"') + 9))],
  ])('%s: imports what precedes the cut, exits 4, and the whole file imported after it completes every case once', async (_label, name, cut) => {
    const { text, activities } = xesOf(600);
    writeFileSync(join(dir, 'cut', name), cut(text));
    writeFileSync(join(dir, 'whole', name), name.endsWith('.gz') ? gzipSync(text) : text);

    const partial = await importLog(names, [join(dir, 'cut', name)]);
    expect(partial.code).toBe(ExitCode.Truncated);
    const first = JSON.parse(partial.stdout);
    expect(first.truncated).toMatch(/cut short/);
    expect(partial.stderr).toContain(`${name}: ${first.truncated}`);
    const afterCut = await streamEvents(nc, names);
    const endsAfterCut = afterCut.filter((e) => e.kind === 'session_end');
    expect(endsAfterCut.length).toBe(first.sessionEnds);
    expect(first.sessionEnds).toBeGreaterThan(100);
    // Each case ended so far is complete: the cut trace has no session_end.
    for (const e of endsAfterCut) expect(e.result.activities).toBe(activities.get(e.sessionId));

    const whole = await importLog(names, [join(dir, 'whole', name)]);
    expect(whole.code).toBe(ExitCode.Ok);
    const second = JSON.parse(whole.stdout);
    expect(second.duplicates).toBe(afterCut.length);
    expectWholeCases(await streamEvents(nc, names), activities);
  });

  it('a .csv.gz cut mid-stream: ends no case (any may be open), and the whole file completes them', async () => {
    const activities = new Map<string, number>();
    let csv = 'case,activity,timestamp,note\n';
    // Interleaved cases: at any cut, every case may still be open.
    for (let i = 0; i < 4000; i++) {
      const caseId = `c${i % 50}`;
      activities.set(caseId, (activities.get(caseId) ?? 0) + 1);
      csv += `${caseId},step.${(i * 7) % 13},2020-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${'x'.repeat(30)}${i}\n`;
    }
    const gz = gzipSync(csv);
    writeFileSync(join(dir, 'cut', 'log.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeFileSync(join(dir, 'whole', 'log.csv.gz'), gz);

    const partial = await importLog(names, [join(dir, 'cut', 'log.csv.gz')]);
    expect(partial.code).toBe(ExitCode.Truncated);
    const first = JSON.parse(partial.stdout);
    expect(first).toMatchObject({ sessionEnds: 0, casesLeftOpen: 50, skippedByReason: { truncated: 1 } });
    expect(first.toolCalls).toBeGreaterThan(500);
    expect(partial.stderr).toMatch(/log\.csv\.gz:\d+: truncated: the file is cut inside this row/);
    expect(partial.stderr).toMatch(/the 50 case\(s\) open there got no session_end/);

    const whole = await importLog(names, [join(dir, 'whole', 'log.csv.gz')]);
    expect(whole.code).toBe(ExitCode.Ok);
    expect(JSON.parse(whole.stdout).duplicates).toBe(first.toolCalls);
    expectWholeCases(await streamEvents(nc, names), activities);
  });

  it.each(['csv', 'xes'])('a --limit import (%s) followed by the whole file: every case ends once, with its full count', async (format) => {
    const { text, activities } = xesOf(300);
    let file = join(dir, 'whole', 'log.xes');
    if (format === 'csv') {
      file = join(dir, 'whole', 'log.csv');
      // The same cases as CSV rows, interleaved two by two.
      const rows: string[] = [];
      for (const [caseId, n] of activities) for (let i = 0; i < n; i++) rows.push(`${caseId},step.${i},2020-01-01T00:0${i}:00Z`);
      rows.sort((a, b) => a.split(',')[2].localeCompare(b.split(',')[2]));
      writeFileSync(file, `case,activity,timestamp\n${rows.join('\n')}\n`);
    } else {
      writeFileSync(file, text);
    }
    const limited = await importLog(names, ['--limit', '702', file]);
    expect(limited.code).toBe(ExitCode.Ok);
    const first = JSON.parse(limited.stdout);
    expect(first).toMatchObject({ limited: true, toolCalls: 702 });
    expect(first.casesLeftOpen).toBeGreaterThan(0);
    expect(limited.stderr).toMatch(/stopped at --limit: the \d+ case\(s\) still open got no session_end/);
    const whole = await importLog(names, [file]);
    expect(whole.code).toBe(ExitCode.Ok);
    expectWholeCases(await streamEvents(nc, names), activities);
  });

  it('an XES attribute nested 10,000 deep: that event is skipped as invalid, naming parameters; the rest is imported', async () => {
    const deep = `${'<container key="p">'.repeat(10_000)}<string key="leaf" value="v"/>${'</container>'.repeat(10_000)}`;
    const text = xesLog(`<trace><string key="concept:name" value="c1"/>\n${ev('a', 0)}${ev('deep', 1, deep)}${ev('c', 2)}</trace>\n`);
    writeFileSync(join(dir, 'deep.xes'), text);
    const r = await importLog(names, ['--max-reported', '5', join(dir, 'deep.xes')]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ toolCalls: 2, sessionEnds: 1, skippedByReason: { invalid_event: 1 } });
    expect(r.stderr).toMatch(/deep\.xes:5: invalid_event: parameters: nested deeper than 64 levels/);
    const events = await streamEvents(nc, names);
    expect(events.map((e) => e.tool ?? e.kind)).toEqual(['a', 'c', 'session_end']);
  });
});
