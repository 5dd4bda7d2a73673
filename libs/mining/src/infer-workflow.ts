import { MAX_STEP_TIMEOUT_MS, topologicalLevels, validateWorkflow, type WorkflowDefinition, type WorkflowStep } from '@toolpath/workflow';
import { fingerprint, isTruncatedMarker, parseJsonText, TRUNCATED_KEY } from './compact-value';
import type { InferredBinding, MinedPattern, PatternOccurrence, SessionStep } from './mining-types';

export interface InferWorkflowOptions {
  /** Share of occurrences in which a parameter must be found at the same place of an earlier result for a data-flow binding (default 0.9). */
  bindingMinShare?: number;
  /** Depth of result fields searched for data flow (default 8; results are kept to depth 6 by compaction). */
  maxResultDepth?: number;
  /** Two steps run in parallel only when each order has at least this share of the occurrences (default 0.2)... */
  parallelMinShare?: number;
  /** ...and was seen in at least this many distinct sessions (default 3), and no data flows between them. */
  parallelMinSessions?: number;
  /** A parameter is kept when present in at least this share of occurrences (default 0.5). */
  parameterMinShare?: number;
  /** A parameter binds only when it took at least this many distinct values (default 3): a value that hardly varies matches by chance. */
  bindingMinDistinctValues?: number;
}

export interface InferredWorkflow {
  definition: WorkflowDefinition;
  bindings: InferredBinding[];
  /** Step ids that run in parallel (the same DAG level), each group of two or more. */
  parallelGroups: string[][];
}

const MAX_PARAMETERS_PER_STEP = 64;
/** Places of one value kept per result (a value found in more places is still found, at its first ones). */
const MAX_PLACES_PER_VALUE = 16;
/** Nodes of one result (or one step's parameters) indexed. */
const MAX_INDEXED_NODES = 20_000;
/** A parameter whose values are found in an earlier result in this share of the occurrences where that step came first is data flow (for ordering, never for a binding). */
const FLOW_EVIDENCE_SHARE = 0.5;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUOTABLE = /^[^'\\\n\r{}]*$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** One occurrence with its steps put in pattern order: steps[i] matched pattern step i at position order[i]. */
interface Aligned {
  sessionId: string;
  steps: SessionStep[];
  order: number[];
}

/** A place in a result: object keys and array indexes from the root ([] is the result itself). */
type Place = Array<string | number>;

/** Where values sit in one step's result (by fingerprint), and the result as a tree. */
interface ResultIndex {
  tree: unknown;
  places: Map<number, Place[]>;
}

/**
 * A learned workflow definition v1 (source: 'learned') from a pattern and its occurrences
 * (those of its order variants included: steps seen in both orders then get no dependency).
 * Parameters constant over the occurrences stay literal; one found at the same place of an
 * earlier step's result (JSON text parsed, anywhere in the tree, root included) in nearly every
 * occurrence reads it through a template; one picked among several elements of an array (or a
 * map) reads the element by a key (`find`) when a field of that element equals a constant or an
 * input, never by a literal position; values too common to be evidence never bind. Others
 * become inputs.
 */
export function inferWorkflow(pattern: MinedPattern, occurrences: PatternOccurrence[], opts: InferWorkflowOptions = {}): InferredWorkflow {
  const o: Required<InferWorkflowOptions> = {
    bindingMinShare: opts.bindingMinShare ?? 0.9,
    maxResultDepth: opts.maxResultDepth ?? 8,
    parallelMinShare: opts.parallelMinShare ?? 0.2,
    parallelMinSessions: opts.parallelMinSessions ?? 3,
    parameterMinShare: opts.parameterMinShare ?? 0.5,
    bindingMinDistinctValues: opts.bindingMinDistinctValues ?? 3,
  };
  const tools = pattern.tools;
  const k = tools.length;
  if (k === 0) throw new Error('inferWorkflow: the pattern has no tools');
  const ids = stepIds(tools);
  const aligned = occurrences.map((oc) => align(tools, oc)).filter((a): a is Aligned => a !== undefined);
  const n = aligned.length;
  const evidence = new Evidence(aligned, ids, o.maxResultDepth);
  const parameters: Record<string, unknown>[] = tools.map(() => ({}));
  const bindings: InferredBinding[] = [];
  const flows: Array<[number, number]> = [];
  const variables = new Variables();
  /** Expressions usable inside a later step's template, with the value they had per occurrence. */
  const references: Array<{ expr: string; prints: Array<number | undefined> }> = [];

  for (let i = 0; i < k; i++) {
    const keys = new Map<string, number>();
    for (const a of aligned) {
      const p = a.steps[i].parameters;
      if (!p || typeof p !== 'object') continue;
      for (const key of Object.keys(p)) if (!FORBIDDEN.has(key)) keys.set(key, (keys.get(key) ?? 0) + 1);
    }
    const kept = [...keys].filter(([, c]) => c >= o.parameterMinShare * n).slice(0, MAX_PARAMETERS_PER_STEP);
    for (const [key, present] of kept) {
      const values = aligned.map((a) => (a.steps[i].parameters as Record<string, unknown> | undefined)?.[key]);
      const prints = values.map((v) => (v === undefined ? undefined : fingerprint(v)));
      const distinct = new Set(prints.filter((p) => p !== undefined));
      const first = values.find((v) => v !== undefined);
      if (distinct.size === 1 && present === n && !hasTruncation(first)) {
        parameters[i][key] = escapeLiteral(first);
        continue;
      }
      const flow = bindable(values, prints, o) ? findFlow(i, values, prints, evidence, references, o) : undefined;
      if (flow) {
        const template = `{{${flow.expr}}}`;
        parameters[i][key] = template;
        bindings.push({ stepId: ids[i], parameter: key, from: template, support: flow.share });
        flows.push([flow.step, i]);
        continue;
      }
      const name = variables.nameFor(key, ids[i], prints, values, present === n, `${tools[i]}: ${key}`);
      parameters[i][key] = `{{input.${name}}}`;
      references.push({ expr: `input.${name}`, prints });
    }
  }

  const deps = dependencies(k, aligned, flows, evidence, o);
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
export function stepIds(tools: string[]): string[] {
  return tools.map((t, i) => {
    const slug = t
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/^[_-]+|[_-]+$/g, '')
      .slice(0, 48);
    return slug ? `s${i + 1}_${slug}` : `s${i + 1}`;
  });
}

/** Matches an occurrence's steps (session order) to pattern positions: the r-th call of a tool to its r-th place. */
function align(tools: string[], occurrence: PatternOccurrence): Aligned | undefined {
  const steps = occurrence.steps;
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
  return { sessionId: occurrence.sessionId, steps: order.map((pos) => steps[pos]), order };
}

/**
 * True for a value that can be evidence of data flow: not a boolean or null, not a small number
 * (counts, flags, quantities), not a short string (codes, words, airports), not empty, not cut by
 * compaction. Such values match unrelated fields by chance.
 */
export function isFlowEvidence(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  if (typeof v === 'number') return Number.isFinite(v) && !(Number.isInteger(v) && Math.abs(v) < 1000) && String(v).length >= 4;
  if (typeof v === 'string') return v.trim().length >= 4 && !v.includes(`${TRUNCATED_KEY}#`);
  if (typeof v !== 'object' || isTruncatedMarker(v)) return false;
  // A container is evidence when it holds some evidence (walked iteratively, at most 1,000 nodes).
  const stack: unknown[] = [v];
  for (let seen = 0; stack.length > 0 && seen < 1_000; seen++) {
    const x = stack.pop();
    if (x === null || typeof x !== 'object') {
      if (isFlowEvidence(x)) return true;
      continue;
    }
    let items = 0;
    for (const key in x) {
      if (++items > 64) break;
      if (Object.prototype.hasOwnProperty.call(x, key)) stack.push((x as Record<string, unknown>)[key]);
    }
  }
  return false;
}

/**
 * A parameter can be bound only when its values are evidence (in at least bindingMinShare of the
 * occurrences) and vary: at least `bindingMinDistinctValues` distinct values (a parameter that
 * hardly varies would match a result field that hardly varies by chance).
 */
function bindable(values: unknown[], prints: Array<number | undefined>, o: Required<InferWorkflowOptions>): boolean {
  if (values.length < 2) return false;
  const counts = new Map<number, number>();
  let present = 0;
  for (let x = 0; x < values.length; x++) {
    const fp = prints[x];
    if (fp === undefined || !isFlowEvidence(values[x])) continue;
    present++;
    counts.set(fp, (counts.get(fp) ?? 0) + 1);
  }
  if (present < o.bindingMinShare * values.length) return false;
  return counts.size >= Math.min(o.bindingMinDistinctValues, values.length);
}

/** Lazily built per occurrence and step: where each value sits in the step's result, and what its parameters hold. */
class Evidence {
  private readonly results: Array<Array<ResultIndex | undefined>>;
  private readonly params: Array<Array<Set<number> | undefined>>;
  /** Per step: its result was recorded as JSON text in some occurrence (templates then parse it). */
  readonly jsonText: boolean[];

  constructor(
    readonly aligned: Aligned[],
    readonly ids: string[],
    private readonly maxDepth: number,
  ) {
    const k = aligned[0]?.steps.length ?? 0;
    this.results = aligned.map(() => new Array<ResultIndex | undefined>(k));
    this.params = aligned.map(() => new Array<Set<number> | undefined>(k));
    this.jsonText = Array.from({ length: k }, (_, j) => aligned.some((a) => a.steps[j].resultJsonText === true || parseJsonText(a.steps[j].result) !== undefined));
  }

  result(o: number, j: number): ResultIndex {
    let r = this.results[o][j];
    if (!r) {
      const raw = this.aligned[o].steps[j].result;
      const tree = parseJsonText(raw) ?? raw;
      r = { tree, places: indexPlaces(tree, this.maxDepth) };
      this.results[o][j] = r;
    }
    return r;
  }

  /** Fingerprints of every value inside step j's parameters (each parameter and what it contains). */
  parameterPrints(o: number, j: number): Set<number> {
    let p = this.params[o][j];
    if (!p) {
      p = new Set<number>();
      const params = this.aligned[o].steps[j].parameters;
      if (params) for (const fp of indexPlaces(params, this.maxDepth).keys()) p.add(fp);
      this.params[o][j] = p;
    }
    return p;
  }

  /** True when the value was already in the parameters of a step that ran before step j (other than j): j's result only repeats it. */
  knownBefore(o: number, j: number, fp: number): boolean {
    const a = this.aligned[o];
    for (let m = 0; m < a.steps.length; m++) if (m !== j && a.order[m] < a.order[j] && this.parameterPrints(o, m).has(fp)) return true;
    return false;
  }
}

/** Fingerprint -> places of a value's nodes, breadth first, the root included, bounded in depth and nodes. */
function indexPlaces(root: unknown, maxDepth: number): Map<number, Place[]> {
  const index = new Map<number, Place[]>();
  if (root === undefined) return index;
  const queue: Array<[unknown, Place]> = [[root, []]];
  for (let head = 0; head < queue.length && head < MAX_INDEXED_NODES; head++) {
    const [v, place] = queue[head];
    if (isTruncatedMarker(v)) continue;
    const fp = fingerprint(v);
    const l = index.get(fp);
    if (!l) index.set(fp, [place]);
    else if (l.length < MAX_PLACES_PER_VALUE) l.push(place);
    if (place.length >= maxDepth || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let x = 0; x < v.length && queue.length < MAX_INDEXED_NODES; x++) queue.push([v[x], [...place, x]]);
    } else {
      for (const key of Object.keys(v)) {
        if (queue.length >= MAX_INDEXED_NODES) break;
        if (!FORBIDDEN.has(key) && key !== TRUNCATED_KEY) queue.push([(v as Record<string, unknown>)[key], [...place, key]]);
      }
    }
  }
  return index;
}

/** `.a['b c'][2]` for a place; undefined when a key cannot be written in a template. */
function pathText(place: Place): string | undefined {
  let out = '';
  for (const seg of place) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += `.${seg}`;
    else if (QUOTABLE.test(seg) && seg !== '') out += `['${seg}']`;
    else return undefined;
  }
  return out;
}

function literalText(v: unknown): string | undefined {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (typeof v === 'string' && QUOTABLE.test(v) && v.length <= 200) return `'${v}'`;
  return undefined;
}

function readPlace(tree: unknown, place: Place): unknown {
  let v = tree;
  for (const seg of place) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/**
 * The earlier step and the expression reading the parameter's value from its result:
 * - the same place (object keys and array indexes) in at least minShare of the occurrences,
 *   the most consistent first, then the nearest step, then the shortest path; an array index
 *   only into an array that (nearly) always had one element;
 * - else the same place up to one array whose position varies (or one map whose key varies),
 *   where a field of the element equals a constant or an earlier input in those occurrences and
 *   tells it apart from the other elements: `(… | find('field', input.x)).rest`.
 * A match does not count in an occurrence where the value was already in an earlier step's
 * parameters before the source ran (the source only repeats what the workflow already knew).
 */
function findFlow(
  i: number,
  values: unknown[],
  prints: Array<number | undefined>,
  ev: Evidence,
  references: Array<{ expr: string; prints: Array<number | undefined> }>,
  o: Required<InferWorkflowOptions>,
): { step: number; expr: string; share: number } | undefined {
  const aligned = ev.aligned;
  const n = aligned.length;
  const need = o.bindingMinShare * n;
  const exact = new Map<string, { step: number; place: Place; count: number }>();
  const general = new Map<string, { step: number; at: number; count: number; hits: Array<{ occ: number; place: Place }> }>();
  for (let occ = 0; occ < n; occ++) {
    const fp = prints[occ];
    if (fp === undefined || !isFlowEvidence(values[occ])) continue;
    const a = aligned[occ];
    const seenExact = new Set<string>();
    const seenGeneral = new Set<string>();
    for (let j = 0; j < a.steps.length; j++) {
      if (j === i || a.order[j] >= a.order[i]) continue;
      const places = ev.result(occ, j).places.get(fp);
      if (!places || ev.knownBefore(occ, j, fp)) continue;
      for (const place of places) {
        const ek = `${j}\u0000${JSON.stringify(place)}`;
        if (!seenExact.has(ek)) {
          seenExact.add(ek);
          const e = exact.get(ek) ?? { step: j, place, count: 0 };
          e.count++;
          exact.set(ek, e);
        }
        for (const at of selectablePositions(place)) {
          const gk = `${j}\u0000${at}\u0000${JSON.stringify(place.map((seg, x) => (x === at ? '*' : seg)))}`;
          if (seenGeneral.has(gk)) continue;
          seenGeneral.add(gk);
          const g = general.get(gk) ?? { step: j, at, count: 0, hits: [] };
          g.count++;
          g.hits.push({ occ, place });
          general.set(gk, g);
        }
      }
    }
  }
  // The most consistent place first, then the nearest step, then the shortest path.
  const ranked = [...exact.values()]
    .filter((e) => e.count >= need && pathText(e.place) !== undefined)
    .sort((x, y) => y.count - x.count || y.step - x.step || x.place.length - y.place.length);
  const best = ranked.find((e) => !choosesAmongSeveral(ev, e.step, e.place, o.bindingMinShare));
  if (best) return { step: best.step, expr: `${base(ev, best.step)}${pathText(best.place)}`, share: best.count / n };

  const keyed = [...general.values()].filter((g) => g.count >= need).sort((x, y) => y.count - x.count || y.step - x.step);
  for (const g of keyed) {
    const selector = findSelector(g, ev, references, prints, need);
    if (selector) return { step: g.step, expr: selector, share: g.count / n };
  }
  return undefined;
}

/**
 * True when the place goes through an array index and that array had several elements in more
 * than (1 - minShare) of the occurrences: the position was then a choice among peers (which
 * reservation, which order), and a literal index would repeat one choice instead of learning it.
 */
function choosesAmongSeveral(ev: Evidence, step: number, place: Place, minShare: number): boolean {
  const n = ev.aligned.length;
  for (let x = 0; x < place.length; x++) {
    if (typeof place[x] !== 'number') continue;
    const prefix = place.slice(0, x);
    let several = 0;
    for (let occ = 0; occ < n; occ++) {
      const container = readPlace(ev.result(occ, step).tree, prefix);
      if (Array.isArray(container) && container.length > 1) several++;
    }
    if (several > (1 - minShare) * n) return true;
  }
  return false;
}

/**
 * Where a place may pick one element among others: its only array index, or (no array on the
 * way) an object key followed by more path, as in a map keyed by id (`payment_methods.<id>.id`).
 */
function selectablePositions(place: Place): number[] {
  const arrays = place.map((seg, x) => (typeof seg === 'number' ? x : -1)).filter((x) => x >= 0);
  if (arrays.length > 0) return arrays.length === 1 ? arrays : [];
  const out: number[] = [];
  for (let x = 0; x < place.length - 1 && x < 4; x++) out.push(x);
  return out;
}

function base(ev: Evidence, step: number): string {
  const id = ev.ids[step];
  return ev.jsonText[step] ? `(steps.${id}.result | fromjson)` : `steps.${id}.result`;
}

/**
 * For values found in one array at varying positions: a field of the chosen element whose value
 * is a constant, or an earlier input, in at least `need` occurrences, and that no other element
 * of the array shares. Returns the template expression, or undefined.
 */
function findSelector(
  g: { step: number; at: number; hits: Array<{ occ: number; place: Place }> },
  ev: Evidence,
  references: Array<{ expr: string; prints: Array<number | undefined> }>,
  targetPrints: Array<number | undefined>,
  need: number,
): string | undefined {
  const first = g.hits[0].place;
  const prefix = first.slice(0, g.at);
  const rest = first.slice(g.at + 1);
  const prefixText = pathText(prefix);
  const restText = pathText(rest);
  if (prefixText === undefined || restText === undefined) return undefined;
  // Per occurrence, the chosen element's fields that tell it apart (value fingerprints).
  const perOcc: Array<{ occ: number; fields: Map<string, { fp: number; value: unknown }> }> = [];
  for (const { occ, place } of g.hits) {
    const container = readPlace(ev.result(occ, g.step).tree, prefix);
    const element = readPlace(container, [place[g.at]]);
    if (container === null || typeof container !== 'object' || element === null || typeof element !== 'object' || Array.isArray(element)) continue;
    // The other elements: array items, or the other values of a map.
    const others = Array.isArray(container)
      ? container.filter((_, x) => x !== place[g.at])
      : Object.entries(container as Record<string, unknown>).filter(([key]) => key !== place[g.at]).map(([, v]) => v);
    const fields = new Map<string, { fp: number; value: unknown }>();
    for (const [field, value] of Object.entries(element as Record<string, unknown>)) {
      if (FORBIDDEN.has(field) || !QUOTABLE.test(field) || value === null || typeof value === 'object' || value === undefined) continue;
      if (rest.length === 1 && rest[0] === field) continue;
      const fp = fingerprint(value);
      const unique = others.every((other) => other === null || typeof other !== 'object' || fingerprint((other as Record<string, unknown>)[field]) !== fp);
      if (unique) fields.set(field, { fp, value });
    }
    perOcc.push({ occ, fields });
  }
  const candidates = new Set<string>();
  for (const p of perOcc) for (const f of p.fields.keys()) candidates.add(f);
  for (const field of candidates) {
    // A constant: the same value in every occurrence where the value was found.
    const seen = perOcc.map((p) => p.fields.get(field));
    if (seen.every((s) => s !== undefined) && new Set(seen.map((s) => s?.fp)).size === 1 && seen.length >= need) {
      const lit = literalText(seen[0]?.value);
      if (lit !== undefined) return `(${base(ev, g.step)}${prefixText} | find('${field}', ${lit}))${restText}`;
    }
    // An earlier input (never one that carries the parameter's own value: that would select nothing new).
    for (const ref of references) {
      if (ref.prints.every((fp, x) => fp === targetPrints[x])) continue;
      const matches = perOcc.filter((p) => p.fields.get(field)?.fp === ref.prints[p.occ] && ref.prints[p.occ] !== undefined).length;
      if (matches >= need) return `(${base(ev, g.step)}${prefixText} | find('${field}', ${ref.expr}))${restText}`;
    }
  }
  return undefined;
}

/**
 * Dependencies: j before i when i reads j's result (directly or through other steps), when i's
 * parameter values are found in j's result in most occurrences where j came first (data flow
 * that did not make a binding, followed through other steps), or when j came first in most
 * occurrences. Two steps get no dependency (they run in parallel) only with evidence: each order
 * in at least parallelMinShare of the occurrences and in parallelMinSessions distinct sessions,
 * and no data flow between them either way, direct or through other steps. Reduced
 * transitively, so each step lists only its direct predecessors.
 */
function dependencies(k: number, aligned: Aligned[], flows: Array<[number, number]>, ev: Evidence, o: Required<InferWorkflowOptions>): Set<number>[] {
  const n = aligned.length;
  const flowEdge: boolean[][] = Array.from({ length: k }, () => new Array<boolean>(k).fill(false));
  for (const [from, to] of flows) flowEdge[from][to] = true;
  const reads = closure(flowEdge);
  // Data flow that made no binding (values found at varying places), followed through other steps too.
  // Each step's evidence is gathered once, not once per earlier step: k² pairs share k lists.
  const evidenceOf = Array.from({ length: k }, (_, step) => varyingEvidence(step, aligned));
  const informs = closure(
    Array.from({ length: k }, (_, from) => Array.from({ length: k }, (_, to) => from !== to && flowShare(from, to, aligned, ev, evidenceOf[to]) >= FLOW_EVIDENCE_SHARE)),
  );
  const edge: boolean[][] = Array.from({ length: k }, () => new Array<boolean>(k).fill(false));
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      if (reads[i][j] || reads[j][i]) {
        if (reads[i][j]) edge[i][j] = true;
        else edge[j][i] = true;
        continue;
      }
      let before = 0;
      const sessionsBefore = new Set<string>();
      const sessionsAfter = new Set<string>();
      for (const a of aligned) {
        if (a.order[i] < a.order[j]) {
          before++;
          sessionsBefore.add(a.sessionId);
        } else sessionsAfter.add(a.sessionId);
      }
      const after = n - before;
      if (n === 0) {
        edge[i][j] = true;
        continue;
      }
      const forward = informs[i][j];
      const backward = informs[j][i];
      if (forward !== backward) {
        if (forward) edge[i][j] = true;
        else edge[j][i] = true;
        continue;
      }
      const bothOrders =
        Math.min(before, after) >= o.parallelMinShare * n &&
        Math.min(sessionsBefore.size, sessionsAfter.size) >= o.parallelMinSessions &&
        !forward &&
        !backward;
      if (bothOrders) continue;
      if (before >= after) edge[i][j] = true;
      else edge[j][i] = true;
    }
  }
  if (hasCycle(edge)) {
    // Inconsistent evidence (rare, long cycles of majority orders): one chain in pattern order,
    // moved only where a data flow needs its source first (flows never form a cycle: each holds
    // in 90 % of the occurrences in its own order).
    const rank = new Array<number>(k).fill(-1);
    for (let r = 0; r < k; r++) {
      const next = [...Array(k).keys()].find((u) => rank[u] < 0 && [...Array(k).keys()].every((w) => !reads[w][u] || rank[w] >= 0));
      rank[next ?? [...Array(k).keys()].find((u) => rank[u] < 0) ?? 0] = r;
    }
    for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) edge[u][v] = rank[u] < rank[v];
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

/**
 * Among the occurrences where step `from` ran before step `to`: the share in which a varying
 * parameter of `to`, or a value inside it (a flight number in a list of flights), is evidence
 * and is found anywhere in `from`'s result.
 */
function flowShare(from: number, to: number, aligned: Aligned[], ev: Evidence, evidenceOfTo: number[][] | undefined): number {
  if (!evidenceOfTo) return 0;
  let runs = 0;
  let found = 0;
  for (let occ = 0; occ < aligned.length; occ++) {
    const a = aligned[occ];
    if (a.order[from] >= a.order[to]) continue;
    runs++;
    const places = ev.result(occ, from).places;
    if (evidenceOfTo[occ].some((fp) => places.has(fp))) found++;
  }
  return runs === 0 ? 0 : found / runs;
}

/** Per occurrence, the evidence fingerprints inside a step's varying parameters; undefined when none varies. */
function varyingEvidence(step: number, aligned: Aligned[]): number[][] | undefined {
  const varying = varyingParameterKeys(step, aligned);
  if (varying.length === 0) return undefined;
  return aligned.map((a) => {
    const params = a.steps[step].parameters as Record<string, unknown> | undefined;
    return varying.flatMap((key) => evidencePrints(params?.[key]));
  });
}

/** Fingerprints of a value and of the values inside it that are evidence (at most 256 nodes, depth 8). */
function evidencePrints(v: unknown): number[] {
  const out: number[] = [];
  const stack: Array<[unknown, number]> = [[v, 0]];
  for (let seen = 0; stack.length > 0 && seen < 256; seen++) {
    const [x, depth] = stack.pop() as [unknown, number];
    if (isFlowEvidence(x)) out.push(fingerprint(x));
    if (x !== null && typeof x === 'object' && depth < 8 && !isTruncatedMarker(x)) {
      for (const [key, y] of Object.entries(x as Record<string, unknown>)) if (!FORBIDDEN.has(key)) stack.push([y, depth + 1]);
    }
  }
  return out;
}

function varyingParameterKeys(step: number, aligned: Aligned[]): string[] {
  const prints = new Map<string, Set<number>>();
  for (const a of aligned) {
    const p = a.steps[step].parameters;
    if (!p) continue;
    for (const [key, v] of Object.entries(p)) {
      if (FORBIDDEN.has(key)) continue;
      const s = prints.get(key) ?? new Set<number>();
      s.add(fingerprint(v));
      prints.set(key, s);
    }
  }
  return [...prints].filter(([, s]) => s.size > 1).map(([key]) => key);
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
