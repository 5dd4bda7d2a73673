import { MAX_STEP_TIMEOUT_MS, topologicalLevels, validateWorkflow, type WorkflowDefinition, type WorkflowStep } from '@toolpath/workflow';
import { fingerprint, TRUNCATED_KEY } from './compact-value';
import type { InferredBinding, MinedPattern, PatternOccurrence, SessionStep } from './mining-types';

export interface InferWorkflowOptions {
  /** Share of occurrences in which a parameter must equal the result field for a data-flow binding (default 0.9). */
  bindingMinShare?: number;
  /** Depth of result fields searched for data flow (default 4). */
  maxResultDepth?: number;
  /** Two steps count as seen in both orders when the rarer order has at least this share (default 0.1). */
  parallelMinShare?: number;
  /** A parameter is kept when present in at least this share of occurrences (default 0.5). */
  parameterMinShare?: number;
}

export interface InferredWorkflow {
  definition: WorkflowDefinition;
  bindings: InferredBinding[];
  /** Step ids that run in parallel (the same DAG level), each group of two or more. */
  parallelGroups: string[][];
}

const MAX_PARAMETERS_PER_STEP = 64;
const MAX_PATHS_PER_VALUE = 4;
const MAX_ARRAY_ITEMS_SEARCHED = 3;
const MAX_RESULT_PATHS = 2_000;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** One occurrence with its steps put in pattern order: steps[i] matched pattern step i at position order[i]. */
interface Aligned {
  steps: SessionStep[];
  order: number[];
}

/**
 * A learned workflow definition v1 (source: 'learned') from a pattern and its occurrences
 * (those of its order variants included: steps seen in both orders then get no dependency).
 * Parameters constant over the occurrences stay literal; one that equals an earlier step's
 * result field in (nearly) every occurrence reads it through a template; others become inputs.
 */
export function inferWorkflow(pattern: MinedPattern, occurrences: PatternOccurrence[], opts: InferWorkflowOptions = {}): InferredWorkflow {
  const bindingMinShare = opts.bindingMinShare ?? 0.9;
  const maxDepth = opts.maxResultDepth ?? 4;
  const parallelMinShare = opts.parallelMinShare ?? 0.1;
  const parameterMinShare = opts.parameterMinShare ?? 0.5;
  const tools = pattern.tools;
  const k = tools.length;
  if (k === 0) throw new Error('inferWorkflow: the pattern has no tools');
  const ids = stepIds(tools);
  const aligned = occurrences.map((o) => align(tools, o.steps)).filter((a): a is Aligned => a !== undefined);
  const n = aligned.length;

  // Result fields of every step of every occurrence, by fingerprint (bounded depth and count).
  const resultIndex = aligned.map((a) => a.steps.map((s) => indexResult(s.result, maxDepth)));
  const parameters: Record<string, unknown>[] = tools.map(() => ({}));
  const bindings: InferredBinding[] = [];
  const flows: Array<[number, number]> = [];
  const variables = new Variables();

  for (let i = 0; i < k; i++) {
    const keys = new Map<string, number>();
    for (const a of aligned) {
      const p = a.steps[i].parameters;
      if (!p || typeof p !== 'object') continue;
      for (const key of Object.keys(p)) if (!FORBIDDEN.has(key)) keys.set(key, (keys.get(key) ?? 0) + 1);
    }
    const kept = [...keys].filter(([, c]) => c >= parameterMinShare * n).slice(0, MAX_PARAMETERS_PER_STEP);
    for (const [key, present] of kept) {
      const values = aligned.map((a) => (a.steps[i].parameters as Record<string, unknown> | undefined)?.[key]);
      const prints = values.map((v) => (v === undefined ? undefined : fingerprint(v)));
      const distinct = new Set(prints.filter((p) => p !== undefined));
      const first = values.find((v) => v !== undefined);
      if (distinct.size === 1 && present === n && !hasTruncation(first)) {
        parameters[i][key] = escapeLiteral(first);
        continue;
      }
      const flow = n >= 2 && distinct.size > 1 ? findFlow(i, prints, aligned, resultIndex, bindingMinShare) : undefined;
      if (flow) {
        const template = `{{steps.${ids[flow.step]}.result${flow.path}}}`;
        parameters[i][key] = template;
        bindings.push({ stepId: ids[i], parameter: key, from: template, support: flow.share });
        flows.push([flow.step, i]);
        continue;
      }
      const name = variables.nameFor(key, ids[i], prints, values, present === n, `${tools[i]}: ${key}`);
      parameters[i][key] = `{{input.${name}}}`;
    }
  }

  const deps = dependencies(k, aligned, flows, parallelMinShare);
  const stats = stepStats(k, aligned);
  const steps: WorkflowStep[] = topoOrder(k, deps).map((i) => {
    const step: WorkflowStep = { id: ids[i], tool: tools[i], parameters: parameters[i] };
    const dependsOn = [...deps[i]].sort((a, b) => a - b).map((j) => ids[j]);
    if (dependsOn.length > 0) step.dependsOn = dependsOn;
    const s = stats[i];
    if (s.failureRate > 0) {
      const attempts = s.failureRate >= 1 ? 5 : Math.ceil(Math.log(0.01) / Math.log(s.failureRate));
      step.retry = { maxAttempts: Math.min(5, Math.max(2, attempts)), backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 10_000 } };
    }
    if (s.p95DurationMs !== undefined) {
      step.timeoutMs = Math.min(MAX_STEP_TIMEOUT_MS, Math.max(1_000, Math.ceil((s.p95DurationMs * 3) / 100) * 100));
    }
    return step;
  });

  const definition: WorkflowDefinition = {
    id: `learned-${pattern.id}`,
    name: `Learned: ${tools.join(' → ')}`.slice(0, 200),
    description: describe(pattern, n),
    category: 'learned',
    tags: ['learned'],
    ...(variables.size > 0 ? { variables: variables.schema() } : {}),
    steps,
    source: 'learned',
  };
  const checked = validateWorkflow(definition);
  if (!checked.ok) {
    throw new Error(`inferWorkflow: the inferred definition is invalid: ${checked.errors.map((e) => e.message).join('; ')}`);
  }
  const parallelGroups = topologicalLevels(checked.workflow).filter((level) => level.length > 1);
  return { definition: checked.workflow, bindings, parallelGroups };
}

/** Step ids from tool names: `s<n>_<tool>` (unicode and punctuation become "_"), unique by position. */
function stepIds(tools: string[]): string[] {
  return tools.map((t, i) => {
    const slug = t
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/^[_-]+|[_-]+$/g, '')
      .slice(0, 48);
    return slug ? `s${i + 1}_${slug}` : `s${i + 1}`;
  });
}

/** Matches an occurrence's steps (session order) to pattern positions: the r-th call of a tool to its r-th place. */
function align(tools: string[], steps: SessionStep[]): Aligned | undefined {
  if (steps.length !== tools.length) return undefined;
  const byTool = new Map<string, number[]>();
  steps.forEach((s, pos) => {
    const l = byTool.get(s.tool);
    if (l) l.push(pos);
    else byTool.set(s.tool, [pos]);
  });
  const used = new Map<string, number>();
  const order: number[] = [];
  for (const t of tools) {
    const r = used.get(t) ?? 0;
    const pos = byTool.get(t)?.[r];
    if (pos === undefined) return undefined;
    used.set(t, r + 1);
    order.push(pos);
  }
  return { steps: order.map((pos) => steps[pos]), order };
}

/** Fingerprint -> template paths (`.a.b[0]`) of a result's fields, breadth first, bounded. */
function indexResult(result: unknown, maxDepth: number): Map<number, string[]> {
  const index = new Map<number, string[]>();
  if (result === undefined) return index;
  const queue: Array<[unknown, string, number]> = [[result, '', 0]];
  let seen = 0;
  while (queue.length > 0 && seen < MAX_RESULT_PATHS) {
    const [v, path, depth] = queue.shift() as [unknown, string, number];
    seen++;
    if (path !== '') {
      const fp = fingerprint(v);
      const l = index.get(fp);
      if (!l) index.set(fp, [path]);
      else if (l.length < MAX_PATHS_PER_VALUE) l.push(path);
    }
    if (depth >= maxDepth || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < Math.min(v.length, MAX_ARRAY_ITEMS_SEARCHED); i++) queue.push([v[i], `${path}[${i}]`, depth + 1]);
    } else {
      for (const key of Object.keys(v)) {
        if (FORBIDDEN.has(key) || key === TRUNCATED_KEY) continue;
        const seg = IDENTIFIER.test(key) ? `.${key}` : /^[^'\\\n\r]*$/.test(key) ? `['${key}']` : undefined;
        if (seg !== undefined) queue.push([(v as Record<string, unknown>)[key], `${path}${seg}`, depth + 1]);
      }
    }
  }
  return index;
}

/** The earlier step and result path whose value the parameter equals in at least minShare of occurrences. */
function findFlow(
  i: number,
  prints: Array<number | undefined>,
  aligned: Aligned[],
  resultIndex: Array<Array<Map<number, string[]>>>,
  minShare: number,
): { step: number; path: string; share: number } | undefined {
  const n = aligned.length;
  const votes = new Map<string, number>();
  for (let o = 0; o < n; o++) {
    const fp = prints[o];
    if (fp === undefined) continue;
    const a = aligned[o];
    for (let j = 0; j < a.steps.length; j++) {
      if (j === i || a.order[j] >= a.order[i]) continue;
      for (const path of resultIndex[o][j].get(fp) ?? []) {
        const key = `${j}\u0000${path}`;
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
    }
  }
  let best: { step: number; path: string; share: number } | undefined;
  for (const [key, v] of votes) {
    const share = v / n;
    if (share < minShare) continue;
    const [stepText, path] = key.split('\u0000');
    const step = Number(stepText);
    // Prefer the most consistent match, then the nearest earlier step, then the shortest path.
    if (!best || share > best.share || (share === best.share && (step > best.step || (step === best.step && path.length < best.path.length)))) {
      best = { step, path, share };
    }
  }
  return best;
}

/**
 * Dependencies: j before i when j preceded i in (nearly) every occurrence, or when i reads j's
 * result. Steps seen in both orders without data flow between them get none (they run in
 * parallel). Reduced transitively, so each step lists only its direct predecessors.
 */
function dependencies(k: number, aligned: Aligned[], flows: Array<[number, number]>, parallelMinShare: number): Set<number>[] {
  const n = aligned.length;
  const edge: boolean[][] = Array.from({ length: k }, () => new Array<boolean>(k).fill(false));
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      let before = 0;
      for (const a of aligned) if (a.order[i] < a.order[j]) before++;
      const after = n - before;
      if (n === 0) edge[i][j] = true;
      else if (Math.min(before, after) >= parallelMinShare * n && Math.min(before, after) > 0) continue;
      else if (before >= after) edge[i][j] = true;
      else edge[j][i] = true;
    }
  }
  for (const [from, to] of flows) {
    edge[from][to] = true;
    edge[to][from] = false;
  }
  if (hasCycle(edge)) {
    // Inconsistent evidence (rare, long cycles of majority orders): fall back to the pattern order.
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) if (j < i) edge[i][j] = false;
  }
  const reach = closure(edge);
  const deps: Set<number>[] = Array.from({ length: k }, () => new Set<number>());
  for (let u = 0; u < k; u++) {
    for (let v = 0; v < k; v++) {
      if (!edge[u][v]) continue;
      let redundant = false;
      for (let w = 0; w < k && !redundant; w++) if (w !== u && w !== v && reach[u][w] && reach[w][v]) redundant = true;
      if (!redundant) deps[v].add(u);
    }
  }
  return deps;
}

function closure(edge: boolean[][]): boolean[][] {
  const k = edge.length;
  const r = edge.map((row) => row.slice());
  for (let w = 0; w < k; w++) for (let u = 0; u < k; u++) if (r[u][w]) for (let v = 0; v < k; v++) if (r[w][v]) r[u][v] = true;
  return r;
}

function hasCycle(edge: boolean[][]): boolean {
  const r = closure(edge);
  return r.some((row, i) => row[i]);
}

/** Steps in dependency order, ties by pattern position. */
function topoOrder(k: number, deps: Set<number>[]): number[] {
  const done = new Set<number>();
  const out: number[] = [];
  while (out.length < k) {
    const next = [...Array(k).keys()].find((i) => !done.has(i) && [...deps[i]].every((d) => done.has(d)));
    if (next === undefined) throw new Error('inferWorkflow: dependency cycle');
    done.add(next);
    out.push(next);
  }
  return out;
}

function stepStats(k: number, aligned: Aligned[]): Array<{ failureRate: number; p95DurationMs?: number }> {
  return Array.from({ length: k }, (_, i) => {
    if (aligned.length === 0) return { failureRate: 0 };
    const durations = aligned.map((a) => a.steps[i].durationMs).filter((d) => Number.isFinite(d)).sort((a, b) => a - b);
    const failures = aligned.filter((a) => !a.steps[i].success).length;
    const p95 = durations.length ? durations[Math.min(durations.length - 1, Math.max(0, Math.ceil(0.95 * durations.length) - 1))] : undefined;
    return { failureRate: failures / aligned.length, ...(p95 !== undefined ? { p95DurationMs: p95 } : {}) };
  });
}

/** Input variables: one per varying parameter, shared by parameters that always carry the same value. */
class Variables {
  private readonly props = new Map<string, { schema: Record<string, unknown>; prints: Array<number | undefined>; required: boolean }>();

  get size(): number {
    return this.props.size;
  }

  nameFor(key: string, stepId: string, prints: Array<number | undefined>, values: unknown[], required: boolean, description: string): string {
    for (const [name, v] of this.props) if (samePrints(v.prints, prints)) return name;
    let base = key.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    if (!base || !/^[A-Za-z_]/.test(base) || FORBIDDEN.has(base)) base = `p_${base || 'value'}`;
    base = base.slice(0, 60);
    let name = base;
    if (this.props.has(name)) name = `${base}_${stepId.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 120);
    for (let i = 2; this.props.has(name); i++) name = `${base}_${i}`;
    const type = jsonType(values.filter((v) => v !== undefined));
    this.props.set(name, { schema: { ...(type ? { type } : {}), description }, prints, required });
    return name;
  }

  schema(): { type: 'object'; properties: Record<string, Record<string, unknown>>; required: string[] } {
    const properties: Record<string, Record<string, unknown>> = {};
    const required: string[] = [];
    for (const [name, v] of this.props) {
      properties[name] = v.schema;
      if (v.required) required.push(name);
    }
    return { type: 'object', properties, required };
  }
}

function samePrints(a: Array<number | undefined>, b: Array<number | undefined>): boolean {
  if (a.length !== b.length || a.length < 2) return false;
  return a.every((x, i) => x !== undefined && x === b[i]);
}

function jsonType(values: unknown[]): string | undefined {
  const types = new Set(
    values.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v)),
  );
  if (types.size === 2 && types.has('integer') && types.has('number')) return 'number';
  if (types.size !== 1) return undefined;
  const t = [...types][0];
  return ['string', 'integer', 'number', 'boolean', 'array', 'object', 'null'].includes(t) ? t : undefined;
}

/** True when compaction cut the value somewhere (its full form is not known). */
function hasTruncation(v: unknown, depth = 0): boolean {
  if (depth > 64) return true;
  if (typeof v === 'string') return v.includes(`${TRUNCATED_KEY}#`);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => hasTruncation(x, depth + 1));
  if (TRUNCATED_KEY in v) return true;
  return Object.values(v).some((x) => hasTruncation(x, depth + 1));
}

/** A literal keeps its meaning in a definition: a "{{" in observed text is written as {{ '{{' }}. */
function escapeLiteral(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.includes('{{') ? v.split('{{').join("{{ '{{' }}") : v;
  if (v === null || typeof v !== 'object' || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => escapeLiteral(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(v)) if (!FORBIDDEN.has(key)) out[key] = escapeLiteral(x, depth + 1);
  return out;
}

function describe(p: MinedPattern, occurrences: number): string {
  const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
  const intent = p.intents[0] ? ` Most frequent intent: "${p.intents[0].text.slice(0, 200)}".` : '';
  return (
    `Learned from ${p.support} sessions (${occurrences} examples): success rate ${pct(p.successRate)}, ` +
    `confidence ${pct(p.confidence)}, mean duration ${Math.round(p.meanDurationMs)} ms, p95 ${Math.round(p.p95DurationMs)} ms.${intent}`
  );
}
