import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Db } from 'mongodb';
import type { NatsConnection } from 'nats';
import { Collections, type ToolEventInput } from '@toolpath/contracts';
import { SessionAssembler, type ClosedSession, type MiningEvent } from '@toolpath/mining';
import { EventPublisher } from '@toolpath/sdk';
import { testUrls } from '@toolpath/testing';
import { sleep } from './pipeline';

/**
 * Inputs of the real-logs bench: process logs (XES / CSV) imported with the real importer
 * (libs/log-import, as a process), and JSON lines of Toolpath events published with the SDK; and
 * the sessions as recorded, read back from the store for the offline evaluations.
 */

// Compiled to bench/dist/lib.
const REPO = resolve(__dirname, '..', '..', '..');
const IMPORTER = join(REPO, 'libs', 'log-import', 'dist', 'cli.js');

export interface ImportSummary {
  published: number;
  toolCalls: number;
  sessionEnds: number;
  cases: number;
  skipped: number;
  skippedByReason: Record<string, number>;
  ignoredTransitions: number;
  durationMs: number;
}

/**
 * `toolpath-import` of `file` into the stream of `subjectPrefix` as tenant `tenantId`; extra
 * importer flags as given (e.g. `--case-column`). Resolves with the importer's JSON summary.
 */
export function importLog(file: string, opts: { tenantId: string; subjectPrefix: string; sourceId: string; flags: string[]; timeoutMs: number }): Promise<ImportSummary> {
  const args = [IMPORTER, '--tenant', opts.tenantId, '--subject-prefix', opts.subjectPrefix, '--nats-url', testUrls.nats, '--source-id', opts.sourceId, '--json', '--quiet', ...opts.flags, file];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`toolpath-import ${file} exited ${code}: ${err.slice(-2000)}`));
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as ImportSummary);
      } catch {
        reject(new Error(`toolpath-import printed no summary: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

/** The events of a JSON-lines file, in file order; a line that is not a JSON object is an error. */
export async function readEventLines(file: string): Promise<ToolEventInput[]> {
  const out: ToolEventInput[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${n}: not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}:${n}: not an event object`);
    out.push(parsed as ToolEventInput);
  }
  return out;
}

/** Publishes events with the SDK (as a producer would), never more than the buffer holds; returns how many the stream acknowledged. */
export async function publishEvents(nc: NatsConnection, events: ToolEventInput[], opts: { tenantId: string; subjectPrefix: string; deadline: number }): Promise<{ published: number; refused: number }> {
  const publisher = new EventPublisher(nc, { tenantId: opts.tenantId, subjectPrefix: opts.subjectPrefix, maxBuffer: 20_000 });
  let refused = 0;
  try {
    for (let i = 0; i < events.length; i++) {
      const { tenantId: _drop, ...event } = events[i] as ToolEventInput & { tenantId?: string };
      try {
        publisher.publish(event as ToolEventInput);
      } catch {
        refused++;
      }
      while (publisher.stats().pending >= 15_000) {
        if (performance.now() > opts.deadline) throw new Error('publishing did not finish in time');
        await sleep(2);
      }
    }
    await publisher.flush(Math.max(1000, opts.deadline - performance.now()));
    const s = publisher.stats();
    const dropped = s.droppedBufferFull + s.droppedAfterRetries + s.droppedOnClose;
    if (dropped > 0) throw new Error(`the publisher dropped ${dropped} events: ${JSON.stringify(s)}`);
    // A refused event is thrown at publish() and counted in the stats: count it once.
    return { published: s.published, refused: Math.max(refused, s.invalid + s.tooLarge) };
  } finally {
    await publisher.close().catch(() => undefined);
  }
}

const csvField = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The tool calls of JSON-lines events as a CSV pm4py reads with its default column names (case,
 * activity, timestamp): each session's calls in `seq` order, each stamped with its start time
 * (ISO-8601 with milliseconds). Returns the file written.
 */
export function eventsToPm4pyCsv(events: ToolEventInput[], file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  const rows = events
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.kind === 'tool_call')
    .sort((a, b) => (a.e.sessionId < b.e.sessionId ? -1 : a.e.sessionId > b.e.sessionId ? 1 : (a.e.seq ?? 0) - (b.e.seq ?? 0) || a.i - b.i));
  const lines = ['case:concept:name,concept:name,time:timestamp'];
  for (const { e } of rows) {
    lines.push([csvField(e.sessionId), csvField(e.tool ?? ''), new Date(e.startedAt).toISOString()].join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A short, readable name of an input file for the report. */
export function inputLabel(file: string): string {
  return basename(file).replace(/\.(xes|csv|jsonl|json)(\.gz)?$/i, '');
}

interface StoredRow {
  tenantId: string;
  sessionId: string;
  kind: 'tool_call' | 'session_end';
  seq?: number;
  tool?: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
  success: boolean;
  error?: string;
  startedAt: Date;
  durationMs: number;
  intent?: string;
  userId?: string;
  agentId?: string;
  streamSeq?: number;
  receivedAt?: Date;
}

/** No idle closing: each session is whole, from its first event to its session_end. */
const NEVER_IDLE_MS = 1e15;

/**
 * The tenant's sessions as recorded (the recorder's `tool_events`), assembled by the mining
 * library's SessionAssembler in stream order, as the analyzer assembles them (same step order,
 * same result handling) but never closed for idleness: each case whole. This is the ground truth
 * the offline evaluations split.
 */
export async function storedSessions(db: Db, tenantId: string): Promise<ClosedSession[]> {
  const rows = await db.collection<StoredRow>(Collections.toolEvents).find({ tenantId }, { projection: { _id: 0 } }).toArray();
  rows.sort((a, b) => (a.streamSeq ?? 0) - (b.streamSeq ?? 0));
  const assembler = new SessionAssembler({ sessionIdleMs: NEVER_IDLE_MS, maxStepsPerSession: 100_000 });
  for (const r of rows) {
    const event: MiningEvent = {
      streamSeq: r.streamSeq ?? 0,
      tenantId: r.tenantId,
      sessionId: r.sessionId,
      kind: r.kind,
      success: r.success,
      startedAt: r.startedAt.getTime(),
      durationMs: r.durationMs,
      ...(r.tool !== undefined ? { tool: r.tool } : {}),
      ...(r.parameters !== undefined ? { parameters: r.parameters } : {}),
      ...(r.result !== undefined ? { result: r.result } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.seq !== undefined ? { seq: r.seq } : {}),
      ...(r.intent !== undefined ? { intent: r.intent } : {}),
      ...(r.userId !== undefined ? { userId: r.userId } : {}),
      ...(r.agentId !== undefined ? { agentId: r.agentId } : {}),
    };
    assembler.add(event);
  }
  return assembler.takeAll();
}
