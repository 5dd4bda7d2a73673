import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The reference directly-follows graph: bench/pm4py/dfg.py run with pm4py from PyPI in its own
 * venv (.data/venv-pm4py, made once by bench/pm4py/setup.sh), and the comparison with ours.
 */

// Compiled to bench/dist/lib.
const REPO = resolve(__dirname, '..', '..', '..');
const SCRIPT_DIR = join(REPO, 'bench', 'pm4py');

/** A directly-follows graph with start and end activity counts, as plain maps. */
export interface Dfg {
  cases: number;
  edges: Map<string, number>;
  starts: Map<string, number>;
  ends: Map<string, number>;
}

export interface Pm4pyDfg extends Dfg {
  view: 'events' | 'interval';
  events: number;
  /** Events whose lifecycle:transition is `start`: then the interval view is the one to compare. */
  lifecycleStarts: number;
  /** Events carry a start_timestamp (an interval log): the interval view applies too. */
  startTimestamps: boolean;
  /** pm4py.discover_dfg alone. */
  seconds: number;
  /** Reading and formatting the log. */
  readSeconds: number;
  version: string;
}

export interface CsvColumns {
  caseColumn?: string;
  activityColumn?: string;
  timestampColumn?: string;
  delimiter?: string;
}

/** Key of an edge in `Dfg.edges`: the two activity names joined by a character no name holds. */
export const edgeKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** The venv's python, creating the venv first when needed (pip install of the pinned pm4py). */
export function pm4pyPython(): string {
  const venvPython = process.env.PM4PY_PYTHON ?? join(REPO, '.data', 'venv-pm4py', 'bin', 'python');
  if (existsSync(venvPython)) return venvPython;
  const out = execFileSync('bash', [join(SCRIPT_DIR, 'setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  const python = out.trim().split('\n').pop() ?? '';
  if (!existsSync(python)) throw new Error(`bench/pm4py/setup.sh did not make a python (printed ${JSON.stringify(out)})`);
  return python;
}

interface DfgJson {
  view: 'events' | 'interval';
  pm4py: string;
  cases: number;
  events: number;
  lifecycleStarts: number;
  startTimestamps?: boolean;
  dfg: Array<[string, string, number]>;
  start: Record<string, number>;
  end: Record<string, number>;
  seconds: number;
  readSeconds: number;
}

/** Runs dfg.py on a .xes/.xes.gz/.csv log; `interval` asks for pm4py's interval view. */
export function pm4pyDfg(log: string, opts: { interval?: boolean; columns?: CsvColumns; timeoutMs?: number } = {}): Pm4pyDfg {
  const args = [join(SCRIPT_DIR, 'dfg.py'), log];
  if (opts.interval) args.push('--interval');
  const c = opts.columns ?? {};
  if (c.caseColumn) args.push('--case-column', c.caseColumn);
  if (c.activityColumn) args.push('--activity-column', c.activityColumn);
  if (c.timestampColumn) args.push('--timestamp-column', c.timestampColumn);
  if (c.delimiter) args.push('--sep', c.delimiter);
  const r = spawnSync(pm4pyPython(), args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: opts.timeoutMs ?? 30 * 60_000 });
  if (r.status !== 0) {
    // The exception's last line says what pm4py refused (a malformed log, a missing column).
    const last = (r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? '';
    throw new Error(`pm4py could not read ${log} (dfg.py exited ${r.status ?? r.signal}): ${last.slice(0, 500)}`);
  }
  const j = JSON.parse(r.stdout) as DfgJson;
  return {
    view: j.view,
    version: j.pm4py,
    cases: j.cases,
    events: j.events,
    lifecycleStarts: j.lifecycleStarts ?? 0,
    startTimestamps: j.startTimestamps ?? false,
    edges: new Map(j.dfg.map(([a, b, n]) => [edgeKey(a, b), n])),
    starts: new Map(Object.entries(j.start)),
    ends: new Map(Object.entries(j.end)),
    seconds: j.seconds,
    readSeconds: j.readSeconds,
  };
}

/** Where two counted maps differ: keys with different counts (a missing key counts 0). */
function differing(a: Map<string, number>, b: Map<string, number>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) if ((a.get(k) ?? 0) !== (b.get(k) ?? 0)) out.push(k);
  return out;
}

export interface DfgComparison {
  edgesEqual: boolean;
  startsEqual: boolean;
  endsEqual: boolean;
  /** Edges whose count differs (or that only one side has). */
  differingEdges: number;
  differingStarts: number;
  differingEnds: number;
  /** Sum of |ours - reference| over all edges. */
  edgeCountError: number;
  /** A few of the differences, for the report. */
  examples: string[];
}

export function compareDfg(ours: Dfg, ref: Dfg): DfgComparison {
  const de = differing(ours.edges, ref.edges);
  const ds = differing(ours.starts, ref.starts);
  const dn = differing(ours.ends, ref.ends);
  let edgeCountError = 0;
  for (const k of de) edgeCountError += Math.abs((ours.edges.get(k) ?? 0) - (ref.edges.get(k) ?? 0));
  const show = (k: string, m1: Map<string, number>, m2: Map<string, number>, what: string) =>
    `${what} ${k.replace('\u0000', ' -> ')}: ours ${m1.get(k) ?? 0}, pm4py ${m2.get(k) ?? 0}`;
  const examples = [
    ...de.slice(0, 3).map((k) => show(k, ours.edges, ref.edges, 'edge')),
    ...ds.slice(0, 2).map((k) => show(k, ours.starts, ref.starts, 'start')),
    ...dn.slice(0, 2).map((k) => show(k, ours.ends, ref.ends, 'end')),
  ];
  return {
    edgesEqual: de.length === 0,
    startsEqual: ds.length === 0,
    endsEqual: dn.length === 0,
    differingEdges: de.length,
    differingStarts: ds.length,
    differingEnds: dn.length,
    edgeCountError,
    examples,
  };
}

/** The graph of sessions given as tool sequences (what the analyzer's closed sessions hold). */
export function dfgOfSequences(sequences: Iterable<string[]>): Dfg {
  const dfg: Dfg = { cases: 0, edges: new Map(), starts: new Map(), ends: new Map() };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const tools of sequences) {
    if (tools.length === 0) continue;
    dfg.cases++;
    bump(dfg.starts, tools[0]);
    bump(dfg.ends, tools[tools.length - 1]);
    for (let i = 1; i < tools.length; i++) bump(dfg.edges, edgeKey(tools[i - 1], tools[i]));
  }
  return dfg;
}
