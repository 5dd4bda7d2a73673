/**
 * How much of the planted workflows (bench/lib/synthetic-logs.ts) a miner recovered: precision
 * and recall of the listed patterns, and the planted data-flow bindings and parallel pairs found
 * in the inferred definitions.
 */
import type { InferredWorkflow } from '@toolpath/mining';
import type { PlantedWorkflow } from './synthetic-logs';

/** True when `tools` is the planted workflow in one of its valid orders (stages in order, any order inside a stage). */
export function matchesPlanted(tools: string[], w: PlantedWorkflow): boolean {
  if (tools.length !== w.tools.length) return false;
  let i = 0;
  for (const stage of w.stages) {
    const got = tools.slice(i, i + stage.length);
    if (got.length !== stage.length || !stage.every((t) => got.includes(t)) || new Set(got).size !== got.length) return false;
    i += stage.length;
  }
  return true;
}

export interface RecoveryScore {
  listed: number;
  truePositives: number;
  precision: number;
  plantedFound: number;
  recall: number;
  bindingsPlanted: number;
  bindingsFound: number;
  bindingRecall: number;
  parallelPlanted: number;
  parallelFound: number;
  parallelRecall: number;
  /** Listed patterns that match no planted workflow (tools joined by " > "), for diagnosis. */
  falsePositives: string[];
}

/**
 * `listed`: tool sequences the miner proposes. `inferred(workflow)`: the definition inferred for
 * the listed pattern that matched a planted workflow (undefined when none was inferred).
 */
export function scoreRecovery(
  planted: PlantedWorkflow[],
  listed: string[][],
  inferred: (w: PlantedWorkflow, tools: string[]) => InferredWorkflow | undefined,
): RecoveryScore {
  let truePositives = 0;
  const falsePositives: string[] = [];
  const matchedBy = new Map<PlantedWorkflow, string[]>();
  for (const tools of listed) {
    const w = planted.find((p) => matchesPlanted(tools, p));
    if (w) {
      truePositives++;
      if (!matchedBy.has(w)) matchedBy.set(w, tools);
    } else falsePositives.push(tools.join(' > '));
  }
  let bindingsPlanted = 0;
  let bindingsFound = 0;
  let parallelPlanted = 0;
  let parallelFound = 0;
  for (const w of planted) {
    bindingsPlanted += w.bindings.length;
    parallelPlanted += w.parallelPairs.length;
    const tools = matchedBy.get(w);
    if (!tools) continue;
    const inf = inferred(w, tools);
    if (!inf) continue;
    const stepOf = new Map(inf.definition.steps.map((s) => [s.tool, s]));
    for (const b of w.bindings) {
      const to = stepOf.get(b.toTool);
      const from = stepOf.get(b.fromTool);
      if (to && from && to.parameters[b.parameter] === `{{steps.${from.id}.result.${b.resultPath}}}`) bindingsFound++;
    }
    const ancestors = ancestorSets(inf);
    for (const [a, b] of w.parallelPairs) {
      const sa = stepOf.get(a);
      const sb = stepOf.get(b);
      if (sa && sb && !ancestors.get(sa.id)?.has(sb.id) && !ancestors.get(sb.id)?.has(sa.id)) parallelFound++;
    }
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
  return {
    listed: listed.length,
    truePositives,
    precision: listed.length === 0 ? 0 : truePositives / listed.length,
    plantedFound: matchedBy.size,
    recall: ratio(matchedBy.size, planted.length),
    bindingsPlanted,
    bindingsFound,
    bindingRecall: ratio(bindingsFound, bindingsPlanted),
    parallelPlanted,
    parallelFound,
    parallelRecall: ratio(parallelFound, parallelPlanted),
    falsePositives,
  };
}

function ancestorSets(inf: InferredWorkflow): Map<string, Set<string>> {
  const deps = new Map(inf.definition.steps.map((s) => [s.id, s.dependsOn ?? []]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const out = new Set<string>();
    memo.set(id, out);
    for (const d of deps.get(id) ?? []) {
      out.add(d);
      for (const x of visit(d)) out.add(x);
    }
    return out;
  };
  for (const id of deps.keys()) visit(id);
  return memo;
}
