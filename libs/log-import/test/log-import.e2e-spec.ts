import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { ExitCode, runCli } from '@toolpath/log-import';
import {
  connectTestNats,
  createTestEventsStream,
  deleteTestStream,
  isolatedEnv,
  repoRoot,
  testNames,
  type TestNames,
} from '@toolpath/testing';

const SAMPLES = join(repoRoot, 'libs/log-import/samples');
const BIN = join(repoRoot, 'libs/log-import/bin/toolpath-import.js');
const BUILT_CLI = join(repoRoot, 'libs/log-import/dist/cli.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command in this process, against the test's own stream. */
async function importLog(names: TestNames, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--quiet', ...args], isolatedEnv(names), {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

/** The built command as its own process (what `npx toolpath-import` runs). */
function spawnCli(args: string[], env: Record<string, string>, nodeArgs: string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function streamMessages(nc: NatsConnection, names: TestNames): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(names.stream)).state.messages;
}

/** Every event in the stream, in stream order. */
async function streamEvents(nc: NatsConnection, names: TestNames): Promise<any[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(names.stream);
  const out: any[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(names.stream, { seq });
    out.push({ ...msg.json<any>(), _subject: msg.subject, _msgId: msg.header.get('Nats-Msg-Id') });
  }
  return out;
}

describe('toolpath-import against NATS', () => {
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
    names = testNames('logimport');
    await createTestEventsStream(nc, names);
    dir = mkdtempSync(join(tmpdir(), 'toolpath-import-'));
  });
  afterEach(async () => {
    await deleteTestStream(nc, names);
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports the sample CSV: one tool call per row, one session_end per case, in the tenant subject', async () => {
    const r = await importLog(names, ['--tenant', 'acme', '--json', join(SAMPLES, 'orders.csv')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.Ok);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ eventsRead: 366, toolCalls: 366, sessionEnds: 70, cases: 70, skipped: 0, published: 436, duplicates: 0, dropped: 0 });

    const events = await streamEvents(nc, names);
    expect(events).toHaveLength(436);
    expect(new Set(events.map((e) => e._subject))).toEqual(new Set([`${names.subjectPrefix}.events.acme`]));
    expect(events.every((e) => e._msgId === `acme:${e.eventId}`)).toBe(true);
    const first = events.find((e) => e.sessionId === 'order-1001' && e.seq === 0);
    expect(first).toMatchObject({
      specVersion: '1',
      kind: 'tool_call',
      tenantId: 'acme',
      tool: 'crm.lookup_customer',
      startedAt: Date.parse('2026-01-05T08:14:23Z'),
      userId: 'chen',
      success: true,
      intent: 'refund order 50001',
      parameters: { order_id: '50001', amount: '15.74' },
      source: 'toolpath-import',
    });
    expect(events.some((e) => e.tool === 'Prüfung der Rechnung')).toBe(true);
    const declined = events.filter((e) => e.kind === 'tool_call' && e.success === false);
    expect(declined.length).toBeGreaterThan(0);
    expect(declined.every((e) => e.error === 'card declined')).toBe(true);
    const end = events.find((e) => e.kind === 'session_end' && e.sessionId === 'order-1001');
    const calls = events.filter((e) => e.kind === 'tool_call' && e.sessionId === 'order-1001');
    expect(end.seq).toBe(calls.length);
    expect(calls.map((e) => e.seq)).toEqual(calls.map((_, i) => i));
  });

  it('imports the sample XES: start/complete pairs as one call with its duration, nested attributes as parameters', async () => {
    const r = await importLog(names, ['--tenant', 'acme', '--intent-column', 'intent', '--json', join(SAMPLES, 'support-tickets.xes')]);
    expect(r.code).toBe(ExitCode.Ok);
    const summary = JSON.parse(r.stdout);
    // The three aborted drafts are no interval (pm4py's interval view): skipped and counted, not calls.
    expect(summary).toMatchObject({ toolCalls: 232, sessionEnds: 50, skipped: 3, skippedByReason: { not_completed: 3 }, published: 282 });
    const events = await streamEvents(nc, names);
    const search = events.find((e) => e.tool === 'kb.search');
    expect(search.durationMs).toBeGreaterThan(0);
    expect(search.parameters.query).toEqual({ text: expect.stringMatching(/^T-\d+ how to$/), hits: expect.any(Number) });
    expect(search.intent).toMatch(/for T-\d+$/);
    expect(events.some((e) => e.tool === '顧客への連絡')).toBe(true);
    const send = events.find((e) => e.tool === 'reply.send' && e.parameters?.channel);
    expect(send.parameters.channel).toEqual({ value: expect.stringMatching(/email|chat/), templated: expect.any(Boolean) });
  });

  it('reports malformed lines with their numbers on stderr, imports the rest, and exits 0', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'case,activity,timestamp',
        'c1,open,2026-01-05 08:00:00',
        'c1,check,soon',
        ',orphan,2026-01-05 08:00:01',
        'c1,pay,2026-01-05 08:00:02,extra',
        'c2,"never closed,2026-01-05 08:00:03',
        'c1,close,2026-01-05 08:00:04',
      ].join('\n'),
    );
    const r = await importLog(names, ['--tenant', 'acme', '--json', file]);
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.stderr).toContain('bad.csv:3: bad_timestamp: cannot read "soon"');
    expect(r.stderr).toContain('bad.csv:4: missing_case');
    expect(r.stderr).toContain('bad.csv:5: wrong_column_count');
    expect(r.stderr).toContain('bad.csv:6: unclosed_quote');
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ eventsRead: 6, toolCalls: 2, skipped: 4, published: 3 });
    expect(summary.skippedByReason).toEqual({ bad_timestamp: 1, missing_case: 1, wrong_column_count: 1, unclosed_quote: 1 });
    const events = await streamEvents(nc, names);
    expect(events.map((e) => [e.kind, e.tool, e.seq])).toEqual([
      ['tool_call', 'open', 0],
      // The unreadable timestamp of row 3 keeps its position; rows that name no case reliably do not.
      ['tool_call', 'close', 2],
      ['session_end', undefined, 3],
    ]);
  });

  it('importing the same file again adds no message to the stream', async () => {
    const file = join(SAMPLES, 'orders.csv');
    const first = JSON.parse((await importLog(names, ['--tenant', 'acme', '--json', file])).stdout);
    const before = await streamMessages(nc, names);
    expect(before).toBe(first.published);
    const again = await importLog(names, ['--tenant', 'acme', '--json', file]);
    expect(again.code).toBe(ExitCode.Ok);
    const second = JSON.parse(again.stdout);
    expect(second).toMatchObject({ published: before, duplicates: before });
    expect(await streamMessages(nc, names)).toBe(before);
    // Another tenant is another key space: the same file there is new.
    await importLog(names, ['--tenant', 'other', '--json', file]);
    expect(await streamMessages(nc, names)).toBe(2 * before);
  });

  it('--dry-run reads and counts without connecting to NATS', async () => {
    const env = { ...isolatedEnv(names), NATS_URL: 'nats://127.0.0.1:1' };
    let stdout = '';
    const code = await runCli(['--tenant', 'acme', '--dry-run', '--quiet', join(SAMPLES, 'orders.csv')], env, {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
    });
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toContain('dry run of');
    expect(stdout).toMatch(/tool calls\s+366/);
    expect(stdout).not.toContain('published');
    expect(await streamMessages(nc, names)).toBe(0);
  });

  it('exits 3 when NATS is unreachable or no stream stores the subject, and 1 when nothing can be read', async () => {
    const file = join(SAMPLES, 'orders.csv');
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (t: string) => (stderr += t) };
    const down = await runCli(['--tenant', 'acme', '--connect-timeout', '1000', file], { ...isolatedEnv(names), NATS_URL: 'nats://127.0.0.1:1' }, io);
    expect(down).toBe(ExitCode.Nats);
    expect(stderr).toContain('NATS unreachable at nats://127.0.0.1:1');

    stderr = '';
    const noStream = await runCli(['--tenant', 'acme', file], { ...isolatedEnv(names), TOOLPATH_SUBJECT_PREFIX: `${names.subjectPrefix}_none` }, io);
    expect(noStream).toBe(ExitCode.Nats);
    expect(stderr).toContain(`no JetStream stream stores ${names.subjectPrefix}_none.events.acme`);

    const junk = join(dir, 'junk.csv');
    writeFileSync(junk, 'case,activity,timestamp\nc1,a,never\n');
    const nothing = await importLog(names, ['--tenant', 'acme', junk]);
    expect(nothing.code).toBe(ExitCode.NothingRead);
    expect(nothing.stderr).toContain('nothing could be imported');
    const missingColumn = await importLog(names, ['--tenant', 'acme', '--activity-column', 'step', file]);
    expect(missingColumn.code).toBe(ExitCode.NothingRead);
    expect(missingColumn.stderr).toContain('--activity-column "step": no such column');
    const missingFile = await importLog(names, ['--tenant', 'acme', join(dir, 'absent.csv')]);
    expect(missingFile.code).toBe(ExitCode.NothingRead);
    expect(await streamMessages(nc, names)).toBe(0);
  });

  describe('the built command', () => {
    beforeAll(() => {
      if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: build first (npx tsc -b tsconfig.build.json)`);
    });

    it('--help prints the usage and exits 0; bad arguments exit 2', async () => {
      const help = await spawnCli(['--help'], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('usage: toolpath-import [options] <file>');
      expect(help.stdout).toContain('--dry-run');
      const bad = await spawnCli(['--tenant', 'acme'], {});
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('name the log file to import');
    });

    it('imports 100k generated rows with a bounded heap, and reads no faster than the stream acknowledges', async () => {
      const file = join(dir, 'big.csv');
      const rows = 100_000;
      const cases = 5_000;
      // ~600 bytes a row: 60 MB of file, so holding the file or its events would blow the cap below.
      const padding = 'p'.repeat(520);
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(file);
        out.on('error', reject);
        out.write('case,activity,timestamp,resource,note\n');
        let i = 0;
        const writeMore = (): void => {
          while (i < rows) {
            const line = `case-${i % cases},step-${(i * 7) % 13},${1767600000000 + i},user-${i % 17},${padding}\n`;
            i++;
            if (!out.write(line)) {
              out.once('drain', writeMore);
              return;
            }
          }
          out.end(resolve);
        };
        writeMore();
      });
      const heapCapMb = 64;
      const r = await spawnCli(['--tenant', 'acme', '--json', '--quiet', file], isolatedEnv(names), [`--max-old-space-size=${heapCapMb}`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({ eventsRead: rows, toolCalls: rows, sessionEnds: cases, published: rows + cases, dropped: 0 });
      expect(summary.peakHeapBytes).toBeLessThan(heapCapMb * 1024 * 1024);
      expect(await streamMessages(nc, names)).toBe(rows + cases);
    }, 180_000);
  });
});
