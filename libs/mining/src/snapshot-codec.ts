import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Growable } from './growable-array';
import { resolveMiningOptions, type MiningOptions } from './mining-options';
import type { SessionStep } from './mining-types';
import { PatternStats } from './pattern-stats';
import { SessionStore } from './session-store';

/** Everything a PatternCounter is made of, as the codec sees it. */
export interface CounterState {
  options: MiningOptions;
  tenantId: string | undefined;
  counters: { visits: number; truncatedSessions: number; clippedSessions: number; promotions: number };
  store: SessionStore;
  trie: { parent: Int32Array; tool: Int32Array; depth: Uint8Array; count: Int32Array; state: Uint8Array };
  /** Per node: successful steps, steps, ended sessions, sessions ended well (4 per node). */
  scalars: Int32Array;
  candidates: (number[] | undefined)[];
  stats: (PatternStats | undefined)[];
  /** Per node: the tools still found between it and its parent in every session (see PatternCounter). */
  between: { a: Int32Array; b: Int32Array };
  growth: { fullAt: number; seeds: number[]; grown: number; skippedSeeds: number; preceded?: number[] };
}

const MAGIC = 'TPM1';
/**
 * Format 2 counts patterns over runs (a loop of one tool is one step) and adds the between
 * slots and the growth state. Format 1 snapshots still decode: their sessions are kept and the
 * trie is recounted (PatternCounter.fromSnapshot; `legacy` says so).
 */
const FORMAT = 'toolpath-mining/2';
const LEGACY_FORMATS = new Set(['toolpath-mining/1']);

type SectionType = 'i32' | 'u16' | 'u8' | 'f64';
interface SectionHeader {
  name: string;
  type: SectionType;
  length: number;
}

const CTORS = { i32: Int32Array, u16: Uint16Array, u8: Uint8Array, f64: Float64Array } as const;
type Typed = Int32Array | Uint16Array | Uint8Array | Float64Array;

/**
 * Binary snapshot: "TPM1" then a raw-deflated body of [u32 header length][header JSON][typed
 * array sections, little-endian]. Numbers that scale with events (tool ids, step codes, trie
 * arrays) are sections; the rest (names, statistics, example payloads) is JSON.
 */
export function encodeSnapshot(s: CounterState): Buffer {
  const st = s.store;
  const sections: Array<[string, SectionType, Typed]> = [
    ['stepTools', 'i32', st.stepTools.toArray()],
    ['stepCodes', 'u16', st.stepCodes.toArray()],
    ['offsets', 'i32', st.offsets.toArray()],
    ['sessionUser', 'i32', st.sessionUser.toArray()],
    ['sessionAgent', 'i32', st.sessionAgent.toArray()],
    ['sessionIntent', 'i32', st.sessionIntent.toArray()],
    ['sessionEnded', 'u8', st.sessionEnded.toArray()],
    ['sessionStart', 'f64', st.sessionStart.toArray()],
    ['sessionEnd', 'f64', st.sessionEnd.toArray()],
    ['parent', 'i32', s.trie.parent],
    ['tool', 'i32', s.trie.tool],
    ['depth', 'u8', s.trie.depth],
    ['count', 'i32', s.trie.count],
    ['state', 'u8', s.trie.state],
    ['scalars', 'i32', s.scalars],
    ['betweenA', 'i32', s.between.a],
    ['betweenB', 'i32', s.between.b],
  ];
  // Candidate session lists, flattened: one length per node (-1 = none), then all values.
  const n = s.trie.parent.length;
  const candLengths = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const l = s.candidates[i];
    candLengths[i] = l ? l.length : -1;
    if (l) total += l.length;
  }
  const candValues = new Int32Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const l = s.candidates[i];
    if (l) for (const v of l) candValues[k++] = v;
  }
  sections.push(['candLengths', 'i32', candLengths], ['candValues', 'i32', candValues]);

  const stats: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const p = s.stats[i];
    if (p) stats.push([i, ...p.toJSON()]);
  }
  const payloads: Array<[number, SessionStep[]]> = [...st.payloads].sort((x, y) => x[0] - y[0]);

  const header = {
    format: FORMAT,
    options: s.options,
    tenantId: s.tenantId ?? null,
    counters: s.counters,
    tools: st.tools.names,
    users: st.users.names,
    agents: st.agents.names,
    intents: st.intents.names,
    sessionIds: st.sessionIds,
    payloads,
    stats,
    growth: s.growth,
    sections: sections.map(([name, type, a]): SectionHeader => ({ name, type, length: a.length })),
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Buffer[] = [Buffer.alloc(4), headerBuf];
  parts[0].writeUInt32LE(headerBuf.length, 0);
  for (const [, , a] of sections) parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  const body = deflateRawSync(Buffer.concat(parts), { level: 6 });
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), body]);
}

export interface DecodedState {
  /** The snapshot was written by an older format: only `store` (the sessions) is meaningful. */
  legacy?: string;
  options: MiningOptions;
  tenantId: string | undefined;
  counters: CounterState['counters'];
  store: SessionStore;
  trie: CounterState['trie'];
  scalars: Int32Array;
  candidates: (number[] | undefined)[];
  stats: (PatternStats | undefined)[];
  between: CounterState['between'];
  growth: CounterState['growth'];
}

/** Reverses encodeSnapshot; throws an Error saying what is wrong with a foreign or damaged buffer. */
export function decodeSnapshot(buf: Buffer): DecodedState {
  if (!Buffer.isBuffer(buf) || buf.length < 8 || buf.subarray(0, 4).toString('ascii') !== MAGIC) {
    throw new Error('mining snapshot: not a toolpath mining snapshot (bad magic)');
  }
  let body: Buffer;
  try {
    body = inflateRawSync(buf.subarray(4));
  } catch (err) {
    throw new Error(`mining snapshot: cannot inflate (${(err as Error).message})`);
  }
  const headerLen = body.readUInt32LE(0);
  const header = JSON.parse(body.subarray(4, 4 + headerLen).toString('utf8')) as {
    format: string;
    options: MiningOptions;
    tenantId: string | null;
    counters: CounterState['counters'];
    tools: string[];
    users: string[];
    agents: string[];
    intents: string[];
    sessionIds: string[];
    payloads: Array<[number, SessionStep[]]>;
    stats: unknown[][];
    growth?: CounterState['growth'];
    sections: SectionHeader[];
  };
  const legacy = LEGACY_FORMATS.has(header.format) ? header.format : undefined;
  if (header.format !== FORMAT && !legacy) throw new Error(`mining snapshot: format ${JSON.stringify(header.format)} is not ${FORMAT}`);
  const options = resolveMiningOptions(header.options);
  const arrays = new Map<string, Typed>();
  let pos = 4 + headerLen;
  for (const sec of header.sections) {
    const ctor = CTORS[sec.type];
    const bytes = sec.length * ctor.BYTES_PER_ELEMENT;
    if (pos + bytes > body.length) throw new Error(`mining snapshot: section ${sec.name} is cut short`);
    const copy = new Uint8Array(bytes);
    copy.set(body.subarray(pos, pos + bytes));
    arrays.set(sec.name, new ctor(copy.buffer));
    pos += bytes;
  }
  const get = <T extends Typed>(name: string): T => {
    const a = arrays.get(name);
    if (!a) throw new Error(`mining snapshot: section ${name} is missing`);
    return a as T;
  };

  const store = new SessionStore(options.payloadWindowSessions, options.maxSessionSteps);
  for (const t of header.tools) store.tools.id(t);
  for (const t of header.users) store.users.id(t);
  for (const t of header.agents) store.agents.id(t);
  for (const t of header.intents) store.intents.id(t);
  store.sessionIds = header.sessionIds;
  store.stepTools = Growable.from(Int32Array, get<Int32Array>('stepTools'));
  store.stepCodes = Growable.from(Uint16Array, get<Uint16Array>('stepCodes'));
  store.offsets = Growable.from(Int32Array, get<Int32Array>('offsets'));
  store.sessionUser = Growable.from(Int32Array, get<Int32Array>('sessionUser'));
  store.sessionAgent = Growable.from(Int32Array, get<Int32Array>('sessionAgent'));
  store.sessionIntent = Growable.from(Int32Array, get<Int32Array>('sessionIntent'));
  store.sessionEnded = Growable.from(Uint8Array, get<Uint8Array>('sessionEnded'));
  store.sessionStart = Growable.from(Float64Array, get<Float64Array>('sessionStart'));
  store.sessionEnd = Growable.from(Float64Array, get<Float64Array>('sessionEnd'));
  for (const [i, p] of header.payloads) store.payloads.set(i, p);
  store.payloadRefs = Growable.from(Int32Array, new Int32Array(header.sessionIds.length));
  store.rebuildRuns();

  const parent = get<Int32Array>('parent');
  const n = parent.length;
  const candLengths = get<Int32Array>('candLengths');
  const candValues = get<Int32Array>('candValues');
  const candidates: (number[] | undefined)[] = new Array(n).fill(undefined);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const l = candLengths[i];
    if (l < 0) continue;
    candidates[i] = Array.from(candValues.subarray(k, k + l));
    k += l;
  }
  const depth = get<Uint8Array>('depth');
  const stats: (PatternStats | undefined)[] = new Array(n).fill(undefined);
  if (!legacy) {
    for (const [node, ...rest] of header.stats) {
      const p = PatternStats.fromJSON(rest, options.topK, depth[node as number]);
      stats[node as number] = p;
      for (const e of p.examples) store.payloadRefs.data[e]++;
    }
  } else {
    // The old statistics are dropped with the old trie: payloads only old examples kept go too.
    for (const i of [...store.payloads.keys()]) if (i < header.sessionIds.length - options.payloadWindowSessions) store.payloads.delete(i);
  }
  const unset = (): Int32Array => new Int32Array(n).fill(-2);
  return {
    ...(legacy ? { legacy } : {}),
    options,
    tenantId: header.tenantId ?? undefined,
    counters: header.counters,
    store,
    trie: { parent, tool: get('tool'), depth, count: get('count'), state: get('state') },
    scalars: arrays.has('scalars') ? get<Int32Array>('scalars') : new Int32Array(4 * n),
    candidates,
    stats,
    between: { a: arrays.has('betweenA') ? get<Int32Array>('betweenA') : unset(), b: arrays.has('betweenB') ? get<Int32Array>('betweenB') : unset() },
    growth: header.growth ?? { fullAt: 0, seeds: [], grown: 0, skippedSeeds: 0 },
  };
}
