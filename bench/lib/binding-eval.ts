/**
 * Data-flow bindings and parallel steps of inferred workflows against a ground truth computed
 * here, independently of the inference code: an exhaustive matcher over a pattern's occurrences
 * (every place of every earlier result, JSON text parsed, no depth or array bound), and the real
 * template engine to check that a binding reads the value that was actually passed.
 *
 * Pure: patterns, occurrences and inferred workflows in, figures out.
 */
import type { InferredWorkflow, MinedPattern, PatternOccurrence, SessionStep } from '@toolpath/mining';
import { analyzeTemplate, renderTemplate } from '@toolpath/workflow';

export interface BindingEvalOptions {
  /** A flow is ground truth when it holds in at least this share of the occurrences (default 0.9); a binding must read the right value as often. */
  minShare: number;
  /** Parallel ground truth: each order in at least this share of the occurrences (default 0.2)... */
  parallelMinShare: number;
  /** ...and in at least this many distinct sessions (default 3). */
  parallelMinSessions: number;
  /** Two steps exchange data when the later one's values are found in the earlier one's result in this share of the occurrences where it came first (default 0.5). */
  flowEvidenceShare: number;
}

export const DEFAULT_BINDING_EVAL: BindingEvalOptions = { minShare: 0.9, parallelMinShare: 0.2, parallelMinSessions: 3, flowEvidenceShare: 0.5 };

/** One pattern with its occurrences and what was inferred from them. */
export interface EvalCase {
  pattern: MinedPattern;
  occurrences: PatternOccurrence[];
  inferred: InferredWorkflow;
}

/** A ground-truth flow: parameter `parameter` of pattern step `to` is found in the result of pattern step `from`. */
export interface TrueFlow {
  to: number;
  parameter: string;
  from: number;
  share: number;
  /**
   * The value sits at one same place of the result in at least minShare of the occurrences, and
   * that place picks no element among several (no index into an array that had more than one
   * element in more than 1 - minShare of the occurrences): a plain path reads it.
   */
  fixedPlace: boolean;
  /** It sits at one same place only through such an index (the same position chosen among several elements). */
  samePositionAmongSeveral: boolean;
  /** In at least minShare of the occurrences the value was also a parameter of a step that ran before `from`: the workflow had it as an input already. */
  knownEarlier: boolean;
}

export interface JudgedBinding {
  patternId: string;
  tools: string[];
  to: string;
  parameter: string;
  from?: string;
  template: string;
  /** Share of occurrences where the template renders the value that was passed. */
  renderedShare: number;
  /** The (from, to, parameter) flow holds in at least minShare of the occurrences. */
  inGroundTruth: boolean;
  correct: boolean;
}

export interface BindingScore {
  patterns: number;
  bindings: number;
  correct: number;
  precision: number;
  /** Distinct (step, parameter) with a ground-truth flow. */
  trueFlows: number;
  /** Of those, read by a correct binding. */
  found: number;
  recall: number;
  /** (step, parameter) whose flow has its value at one fixed place of the result (readable by a plain path). */
  fixedPlaceFlows: number;
  fixedPlaceFound: number;
  fixedPlaceRecall: number;
  /** The same, leaving out values the workflow already had as inputs before the source ran. */
  newValueFlows: number;
  newValueFound: number;
  newValueRecall: number;
  wrong: JudgedBinding[];
}

export interface ParallelScore {
  /** Patterns whose inferred workflow has steps in parallel. */
  patternsWithParallel: number;
  predictedPairs: number;
  truePairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  /** Predicted pairs that are not ground truth, for diagnosis (tools "a | b"). */
  wrong: string[];
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_NODES = 1_000_000;

/** JSON text (a string holding an object or array) parsed; anything else as it is. */
export function resultTree(step: SessionStep): unknown {
  const r = step.result;
  if (typeof r !== 'string') return r;
  const t = r.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return r;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return r;
  }
}

/** Canonical JSON (object keys sorted): equality of values. */
export function canonical(v: unknown): string {
  const seen: string[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (depth > 200) {
      seen.push('…');
      return;
    }
    if (x === null || typeof x !== 'object') {
      seen.push(x === undefined ? 'u' : JSON.stringify(x));
      return;
    }
    if (Array.isArray(x)) {
      seen.push('[');
      for (const y of x) walk(y, depth + 1);
      seen.push(']');
      return;
    }
    seen.push('{');
    for (const key of Object.keys(x).sort()) {
      seen.push(JSON.stringify(key));
      walk((x as Record<string, unknown>)[key], depth + 1);
    }
    seen.push('}');
  };
  walk(v, 0);
  return seen.join(',');
}

/** Every value inside a tree (the root included), as canonical strings; iterative, capped. */
export function allValues(tree: unknown): Set<string> {
  return new Set(allPlaces(tree).keys());
}

/** Every value inside a tree (the root included) -> the places (JSON arrays of keys and indexes) where it sits; iterative, capped. */
export function allPlaces(tree: unknown): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const stack: Array<[unknown, Array<string | number>]> = [[tree, []]];
  let nodes = 0;
  while (stack.length > 0 && nodes++ < MAX_NODES) {
    const [v, path] = stack.pop() as [unknown, Array<string | number>];
    if (v === undefined) continue;
    const key = canonical(v);
    const set = out.get(key) ?? new Set<string>();
    set.add(JSON.stringify(path));
    out.set(key, set);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, [...path, i]]));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (!FORBIDDEN.has(k)) stack.push([x, [...path, k]]);
    }
  }
  return out;
}

/** A value and every value inside it (iterative, capped). */
export function nodesOf(tree: unknown): unknown[] {
  const out: unknown[] = [];
  const stack: unknown[] = [tree];
  while (stack.length > 0 && out.length < MAX_NODES) {
    const v = stack.pop();
    out.push(v);
    if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (!FORBIDDEN.has(k)) stack.push(x);
  }
  return out;
}

function at(tree: unknown, path: Array<string | number>): unknown {
  let v = tree;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/**
 * Values that say something when found elsewhere: not booleans or null, not integers below
 * 1,000 in magnitude, not strings shorter than 4 characters, not empty containers; a container
 * counts when it holds such a value.
 */
export function isInformative(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  if (typeof v === 'number') return !(Number.isInteger(v) && Math.abs(v) < 1000) && String(v).length >= 4;
  if (typeof v === 'string') return v.trim().length >= 4;
  if (typeof v !== 'object') return false;
  return Object.values(v as object).some((x) => isInformative(x));
}

/** An occurrence's steps in pattern order (the r-th call of a tool to its r-th place), with their session positions. */
export function alignOccurrence(tools: string[], occ: PatternOccurrence): { steps: SessionStep[]; pos: number[] } | undefined {
  if (occ.steps.length !== tools.length) return undefined;
  const pos: number[] = [];
  const taken = new Set<number>();
  for (const t of tools) {
    const p = occ.steps.findIndex((s, x) => s.tool === t && !taken.has(x));
    if (p < 0) return undefined;
    taken.add(p);
    pos.push(p);
  }
  return { steps: pos.map((p) => occ.steps[p]), pos };
}

/**
 * Ground truth: (to, parameter, from) where, in at least minShare of the occurrences, the
 * parameter's value is informative and found anywhere in `from`'s result, `from` having run
 * first. Only parameters that vary (at least 3 distinct values) count: a constant is a literal.
 */
export function trueFlows(pattern: MinedPattern, occurrences: PatternOccurrence[], o: BindingEvalOptions = DEFAULT_BINDING_EVAL): TrueFlow[] {
  const aligned = occurrences.map((x) => alignOccurrence(pattern.tools, x)).filter((a) => a !== undefined);
  const n = aligned.length;
  if (n < 2) return [];
  const k = pattern.tools.length;
  const trees = aligned.map((a) => a.steps.map((s) => resultTree(s)));
  const results = trees.map((t) => t.map((tree) => allPlaces(tree)));
  const params = aligned.map((a) => a.steps.map((s) => allValues(s.parameters ?? {})));
  const out: TrueFlow[] = [];
  for (let i = 0; i < k; i++) {
    const keys = new Set<string>();
    for (const a of aligned) for (const key of Object.keys(a.steps[i].parameters ?? {})) keys.add(key);
    for (const key of keys) {
      const values = aligned.map((a) => a.steps[i].parameters?.[key]);
      const distinct = new Set(values.filter((v) => v !== undefined).map(canonical));
      if (distinct.size < Math.min(3, n)) continue;
      for (let j = 0; j < k; j++) {
        if (j === i) continue;
        let holds = 0;
        let earlier = 0;
        const places = new Map<string, number>();
        for (let x = 0; x < n; x++) {
          const v = values[x];
          const at = aligned[x].pos[j] < aligned[x].pos[i] && isInformative(v) ? results[x][j].get(canonical(v)) : undefined;
          if (!at) continue;
          holds++;
          const a = aligned[x];
          if (a.pos.some((p, m) => m !== j && p < a.pos[j] && params[x][m].has(canonical(v)))) earlier++;
          for (const place of at) places.set(place, (places.get(place) ?? 0) + 1);
        }
        const held = [...places].filter(([, c]) => c >= o.minShare * n).map(([place]) => JSON.parse(place) as Array<string | number>);
        const amongSeveral = (place: Array<string | number>): boolean =>
          place.some((seg, x) => {
            if (typeof seg !== 'number') return false;
            const several = trees.filter((t) => {
              const container = at(t[j], place.slice(0, x));
              return Array.isArray(container) && container.length > 1;
            }).length;
            return several > (1 - o.minShare) * n;
          });
        const fixedPlace = held.some((place) => !amongSeveral(place));
        const samePositionAmongSeveral = !fixedPlace && held.length > 0;
        if (holds >= o.minShare * n) out.push({ to: i, parameter: key, from: j, share: holds / n, fixedPlace, samePositionAmongSeveral, knownEarlier: earlier >= o.minShare * n });
      }
    }
  }
  return out;
}

/** Values of the workflow's inputs per occurrence: a parameter that is exactly `{{input.x}}` gives x its value. */
function inputsOf(c: EvalCase, stepIndex: Map<string, number>, steps: SessionStep[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const s of c.inferred.definition.steps) {
    for (const [key, v] of Object.entries(s.parameters)) {
      const m = typeof v === 'string' ? /^\{\{\s*input\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(v) : null;
      const at = stepIndex.get(s.id);
      if (m && at !== undefined && steps[at].parameters?.[key] !== undefined) input[m[1]] = steps[at].parameters?.[key];
    }
  }
  return input;
}

/** The inferred bindings of one case, each judged against the ground truth and by rendering it on every occurrence. */
export function judgeBindings(c: EvalCase, o: BindingEvalOptions = DEFAULT_BINDING_EVAL): { judged: JudgedBinding[]; truth: TrueFlow[] } {
  const truth = trueFlows(c.pattern, c.occurrences, o);
  const tools = c.pattern.tools;
  // Step ids are positional: the step for pattern position i is the one whose tool is the r-th occurrence of tools[i].
  const stepIndex = new Map<string, number>();
  const byTool = new Map<string, number>();
  for (const s of c.inferred.definition.steps) {
    const m = /^s(\d+)(_|$)/.exec(s.id);
    const at = m ? Number(m[1]) - 1 : -1;
    if (at >= 0 && tools[at] === s.tool) stepIndex.set(s.id, at);
    byTool.set(s.tool, (byTool.get(s.tool) ?? 0) + 1);
  }
  const aligned = c.occurrences.map((x) => alignOccurrence(tools, x)).filter((a) => a !== undefined);
  const judged: JudgedBinding[] = [];
  for (const b of c.inferred.bindings) {
    const to = stepIndex.get(b.stepId);
    const refs = analyzeTemplate(b.from).steps.map((r) => r.stepId);
    const fromId = refs[0];
    const from = fromId === undefined ? undefined : stepIndex.get(fromId);
    let rendered = 0;
    if (to !== undefined) {
      for (const a of aligned) {
        const stepsView: Record<string, { result: unknown }> = {};
        for (const [id, at] of stepIndex) {
          const s = a.steps[at];
          // What the executor would hold: the tool's own text when it returned JSON text.
          stepsView[id] = { result: s.resultJsonText ? JSON.stringify(s.result) : s.result };
        }
        try {
          const v = renderTemplate(b.from, { input: inputsOf(c, stepIndex, a.steps), steps: stepsView });
          if (canonical(v) === canonical(a.steps[to].parameters?.[b.parameter])) rendered++;
        } catch {
          // A template that cannot be evaluated on an occurrence reads nothing there.
        }
      }
    }
    const renderedShare = aligned.length === 0 ? 0 : rendered / aligned.length;
    const inGroundTruth = truth.some((t) => t.to === to && t.from === from && t.parameter === b.parameter);
    judged.push({
      patternId: c.pattern.id,
      tools,
      to: b.stepId,
      parameter: b.parameter,
      ...(fromId !== undefined ? { from: fromId } : {}),
      template: b.from,
      renderedShare,
      inGroundTruth,
      correct: inGroundTruth && renderedShare >= o.minShare,
    });
  }
  return { judged, truth };
}

/** Precision of the inferred bindings and recall of the ground-truth flows over many patterns. */
export function scoreBindings(cases: EvalCase[], o: BindingEvalOptions = DEFAULT_BINDING_EVAL): BindingScore {
  let bindings = 0;
  let correct = 0;
  let trueCount = 0;
  let found = 0;
  let fixedCount = 0;
  let fixedFound = 0;
  let freshCount = 0;
  let freshFound = 0;
  const wrong: JudgedBinding[] = [];
  for (const c of cases) {
    const { judged, truth } = judgeBindings(c, o);
    bindings += judged.length;
    correct += judged.filter((j) => j.correct).length;
    wrong.push(...judged.filter((j) => !j.correct));
    const targets = new Set(truth.map((t) => `${t.to}\u0000${t.parameter}`));
    const fixed = new Set(truth.filter((t) => t.fixedPlace).map((t) => `${t.to}\u0000${t.parameter}`));
    const fresh = new Set(truth.filter((t) => t.fixedPlace && !t.knownEarlier).map((t) => `${t.to}\u0000${t.parameter}`));
    trueCount += targets.size;
    fixedCount += fixed.size;
    freshCount += fresh.size;
    const ids = c.inferred.definition.steps.map((s) => s.id);
    for (const t of targets) {
      const [to, parameter] = t.split('\u0000');
      const id = ids.find((x) => x.startsWith(`s${Number(to) + 1}_`) || x === `s${Number(to) + 1}`);
      if (judged.some((j) => j.correct && j.to === id && j.parameter === parameter)) {
        found++;
        if (fixed.has(t)) fixedFound++;
        if (fresh.has(t)) freshFound++;
      }
    }
  }
  return {
    patterns: cases.length,
    bindings,
    correct,
    precision: bindings === 0 ? 1 : correct / bindings,
    trueFlows: trueCount,
    found,
    recall: trueCount === 0 ? 1 : found / trueCount,
    fixedPlaceFlows: fixedCount,
    fixedPlaceFound: fixedFound,
    fixedPlaceRecall: fixedCount === 0 ? 1 : fixedFound / fixedCount,
    newValueFlows: freshCount,
    newValueFound: freshFound,
    newValueRecall: freshCount === 0 ? 1 : freshFound / freshCount,
    wrong,
  };
}

/**
 * Parallel ground truth of one pattern: pairs of pattern steps seen in both orders, each in at
 * least parallelMinShare of the occurrences and parallelMinSessions distinct sessions, with no
 * data flow between them, directly (a parameter of one, or a value inside it, found in the
 * other's result in flowEvidenceShare of the occurrences where the other came first) or
 * through other steps.
 */
export function trueParallelPairs(pattern: MinedPattern, occurrences: PatternOccurrence[], o: BindingEvalOptions = DEFAULT_BINDING_EVAL): Array<[number, number]> {
  const tools = pattern.tools;
  const k = tools.length;
  const aligned = occurrences.map((x) => ({ a: alignOccurrence(tools, x), session: x.sessionId })).filter((x) => x.a !== undefined);
  const n = aligned.length;
  if (n === 0) return [];
  const results = aligned.map(({ a }) => a!.steps.map((s) => allValues(resultTree(s))));
  const varying = Array.from({ length: k }, (_, i) => {
    const keys = new Set<string>();
    for (const { a } of aligned) for (const key of Object.keys(a!.steps[i].parameters ?? {})) keys.add(key);
    return [...keys].filter((key) => new Set(aligned.map(({ a }) => canonical(a!.steps[i].parameters?.[key]))).size > 1);
  });
  const flow: boolean[][] = Array.from({ length: k }, () => new Array<boolean>(k).fill(false));
  for (let from = 0; from < k; from++) {
    for (let to = 0; to < k; to++) {
      if (from === to) continue;
      let runs = 0;
      let hits = 0;
      for (let x = 0; x < n; x++) {
        const a = aligned[x].a!;
        if (a.pos[from] >= a.pos[to]) continue;
        runs++;
        const params = a.steps[to].parameters ?? {};
        // The parameter or any value inside it (a flight number inside a list of flights).
        if (varying[to].some((key) => nodesOf(params[key]).some((v) => isInformative(v) && results[x][from].has(canonical(v))))) hits++;
      }
      flow[from][to] = runs > 0 && hits >= o.flowEvidenceShare * runs;
    }
  }
  for (let w = 0; w < k; w++) for (let u = 0; u < k; u++) if (flow[u][w]) for (let v = 0; v < k; v++) if (flow[w][v]) flow[u][v] = true;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      if (flow[i][j] || flow[j][i]) continue;
      const first = new Set<string>();
      const second = new Set<string>();
      let before = 0;
      for (const { a, session } of aligned) {
        if (a!.pos[i] < a!.pos[j]) {
          before++;
          first.add(session);
        } else second.add(session);
      }
      const after = n - before;
      if (Math.min(before, after) >= o.parallelMinShare * n && Math.min(first.size, second.size) >= o.parallelMinSessions) out.push([i, j]);
    }
  }
  return out;
}

/** Pairs of pattern steps with no path between them in the inferred DAG. */
export function predictedParallelPairs(c: EvalCase): Array<[number, number]> {
  const steps = c.inferred.definition.steps;
  const indexOf = new Map<string, number>();
  for (const s of steps) {
    const m = /^s(\d+)(_|$)/.exec(s.id);
    if (m) indexOf.set(s.id, Number(m[1]) - 1);
  }
  const deps = new Map(steps.map((s) => [s.id, s.dependsOn ?? []]));
  const ancestors = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = ancestors.get(id);
    if (known) return known;
    const set = new Set<string>();
    ancestors.set(id, set);
    for (const d of deps.get(id) ?? []) {
      set.add(d);
      for (const x of visit(d)) set.add(x);
    }
    return set;
  };
  const out: Array<[number, number]> = [];
  for (let x = 0; x < steps.length; x++) {
    for (let y = x + 1; y < steps.length; y++) {
      const a = steps[x].id;
      const b = steps[y].id;
      if (visit(a).has(b) || visit(b).has(a)) continue;
      const i = indexOf.get(a);
      const j = indexOf.get(b);
      if (i !== undefined && j !== undefined) out.push(i < j ? [i, j] : [j, i]);
    }
  }
  return out;
}

/** Parallel steps against the ground truth; `predict` defaults to the inferred DAG. */
export function scoreParallel(
  cases: EvalCase[],
  o: BindingEvalOptions = DEFAULT_BINDING_EVAL,
  predict: (c: EvalCase) => Array<[number, number]> = predictedParallelPairs,
): ParallelScore {
  let patternsWithParallel = 0;
  let predictedPairs = 0;
  let truePairs = 0;
  let correctPairs = 0;
  const wrong: string[] = [];
  for (const c of cases) {
    const predicted = predict(c);
    const truth = new Set(trueParallelPairs(c.pattern, c.occurrences, o).map(([i, j]) => `${i},${j}`));
    if (predicted.length > 0) patternsWithParallel++;
    predictedPairs += predicted.length;
    truePairs += truth.size;
    for (const [i, j] of predicted) {
      if (truth.has(`${i},${j}`)) correctPairs++;
      else wrong.push(`${c.pattern.tools[i]} | ${c.pattern.tools[j]}`);
    }
  }
  return {
    patternsWithParallel,
    predictedPairs,
    truePairs,
    correctPairs,
    precision: predictedPairs === 0 ? 1 : correctPairs / predictedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
    wrong,
  };
}

/**
 * Baseline binder, "a match seen once": a parameter reads the first place of an earlier result
 * where its value was found in the first occurrence that has it (what a binder without
 * evidence thresholds does). Returns an InferredWorkflow-like object for the scorers.
 */
export function naiveInference(c: EvalCase): InferredWorkflow {
  const tools = c.pattern.tools;
  const aligned = c.occurrences.map((x) => alignOccurrence(tools, x)).filter((a) => a !== undefined);
  const ids = c.inferred.definition.steps.map((s) => s.id);
  const idAt = (i: number): string => ids.find((x) => x.startsWith(`s${i + 1}_`) || x === `s${i + 1}`) ?? `s${i + 1}`;
  const bindings: InferredWorkflow['bindings'] = [];
  for (let i = 0; i < tools.length; i++) {
    const keys = new Set<string>();
    for (const a of aligned) for (const key of Object.keys(a.steps[i].parameters ?? {})) keys.add(key);
    for (const key of keys) {
      const values = new Set(aligned.map((a) => canonical(a.steps[i].parameters?.[key])));
      if (values.size < 2) continue;
      search: for (const a of aligned) {
        const v = a.steps[i].parameters?.[key];
        if (v === undefined || v === null || typeof v === 'boolean') continue;
        for (let j = 0; j < tools.length; j++) {
          if (j === i || a.pos[j] >= a.pos[i]) continue;
          const place = firstPlace(resultTree(a.steps[j]), canonical(v));
          if (place !== undefined) {
            const base = a.steps[j].resultJsonText || typeof a.steps[j].result === 'string' ? `(steps.${idAt(j)}.result | fromjson)` : `steps.${idAt(j)}.result`;
            bindings.push({ stepId: idAt(i), parameter: key, from: `{{${base}${place}}}`, support: 1 / aligned.length });
            break search;
          }
        }
      }
    }
  }
  return { ...c.inferred, bindings };
}

function firstPlace(tree: unknown, wanted: string): string | undefined {
  const queue: Array<[unknown, string]> = [[tree, '']];
  for (let head = 0; head < queue.length && head < 100_000; head++) {
    const [v, path] = queue[head];
    if (canonical(v) === wanted) return path;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((x, i) => queue.push([x, `${path}[${i}]`]));
    else for (const [key, x] of Object.entries(v as Record<string, unknown>)) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) queue.push([x, `${path}.${key}`]);
  }
  return undefined;
}

/** Baseline for parallel steps: any two steps whose rarer order has at least `share` of the occurrences (no session count, no data flow check). */
export function orderOnlyParallelPairs(share: number): (c: EvalCase) => Array<[number, number]> {
  return (c) => {
    const aligned = c.occurrences.map((x) => alignOccurrence(c.pattern.tools, x)).filter((a) => a !== undefined);
    const n = aligned.length;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < c.pattern.tools.length; i++) {
      for (let j = i + 1; j < c.pattern.tools.length; j++) {
        const before = aligned.filter((a) => a.pos[i] < a.pos[j]).length;
        if (n > 0 && Math.min(before, n - before) >= share * n && Math.min(before, n - before) > 0) out.push([i, j]);
      }
    }
    return out;
  };
}
