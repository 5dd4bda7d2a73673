import { inflateRawSync } from 'node:zlib';
import type { Db } from 'mongodb';
import { JSONCodec, type NatsConnection } from 'nats';
import { Collections, analyzerSubjects, type ExecutorReply, type FlowStatsView } from '@toolpath/contracts';
import { dfgOfSequences, edgeKey, type Dfg } from './pm4py-dfg';

/**
 * The analyzer's directly-follows graph of a tenant's closed sessions: its process map
 * (`flowStats` over NATS, what GET /api/v1/stats/flow serves), or, as a cross-check independent
 * of the process map, the sessions it closed, read back from its journal.
 */

const codec = JSONCodec<unknown>();

export interface AnalyzerDfg extends Dfg {
  /** Where the graph came from. */
  source: 'flow' | 'journal';
  exact: boolean;
  notes: string[];
}

/** The process map over NATS; undefined when this analyzer does not answer that subject (built before it). */
export async function flowFromAnalyzer(nc: NatsConnection, prefix: string, tenantId: string): Promise<AnalyzerDfg | undefined> {
  let reply: ExecutorReply<FlowStatsView>;
  try {
    const msg = await nc.request(analyzerSubjects(prefix).flowStats, codec.encode({ tenantId }), { timeout: 60_000 });
    reply = codec.decode(msg.data) as ExecutorReply<FlowStatsView>;
  } catch (err) {
    if (/no responders|503/i.test((err as Error).message)) return undefined;
    throw err;
  }
  if (!reply.ok) throw new Error(`flowStats answered ${reply.error.status}: ${reply.error.message}`);
  const v = reply.value;
  return {
    source: 'flow',
    cases: v.sessions,
    edges: new Map(v.edges.map((e) => [edgeKey(e.from, e.to), e.count])),
    starts: new Map(v.starts.map((s) => [s.tool, s.count])),
    ends: new Map(v.ends.map((s) => [s.tool, s.count])),
    exact: v.basis.exact,
    notes: v.basis.notes,
  };
}

interface BlobRef {
  key: string;
  parts: number;
  bytes: number;
}

const JOURNAL_MAGIC = Buffer.from('TPJ1');

/**
 * The sessions the analyzer closed, from its journal (one entry per persist: "TPJ1" and
 * raw-deflated JSON, or plain JSON). Complete only while no snapshot has absorbed the journal:
 * run the analyzer with a large ANALYZER_COMPACT_RATIO for this; a full rebuild writes a snapshot
 * and is not covered (`exact` false, with a note).
 */
export async function flowFromJournal(db: Db, tenantId: string): Promise<AnalyzerDfg> {
  const head = await db.collection<{ _id: string; snapshot?: BlobRef | null; journal?: BlobRef[] }>(Collections.analyzerState).findOne({ _id: tenantId });
  const blobs = db.collection<{ _id: string; data: { buffer: Uint8Array } }>(Collections.analyzerBlobs);
  const empty: AnalyzerDfg = { source: 'journal', cases: 0, edges: new Map(), starts: new Map(), ends: new Map(), exact: true, notes: [] };
  if (!head) return { ...empty, exact: false, notes: ['no state stored for the tenant'] };
  const sequences: string[][] = [];
  for (const ref of head.journal ?? []) {
    const parts: Buffer[] = [];
    for (let i = 0; i < ref.parts; i++) {
      const row = await blobs.findOne({ _id: `${ref.key}#${i}` });
      if (!row) throw new Error(`journal blob ${ref.key} is missing part ${i}`);
      parts.push(Buffer.from(row.data.buffer));
    }
    const buf = Buffer.concat(parts);
    const json = buf.subarray(0, 4).equals(JOURNAL_MAGIC) ? inflateRawSync(buf.subarray(4)) : buf;
    const sessions = JSON.parse(json.toString('utf8')) as Array<{ steps: Array<{ tool: string }> }>;
    for (const s of sessions) sequences.push(s.steps.map((step) => step.tool));
  }
  // Counted as the process map counts (a session without calls is no case).
  const dfg: AnalyzerDfg = { ...empty, ...dfgOfSequences(sequences) };
  if (head.snapshot) {
    dfg.exact = false;
    dfg.notes.push('a snapshot holds sessions the journal no longer lists');
  }
  return dfg;
}
