import { validateWorkflow, type WorkflowDefinition } from '@toolpath/workflow';
import { stepIds } from './infer-workflow';
import type { SimilarSession } from './intent-ranking';
import { jaccardOf } from './tool-overlap';

/**
 * The whole procedure that past requests like this one followed: of the tool sequences the
 * similar sessions made (each run of one tool as one step), the one with the highest weighted mean Jaccard overlap with all of them
 * (their medoid).
 *
 * Why it is a suggestion of its own: learned patterns need `minSupport` sessions behind the same
 * sequence, so a tenant with few sessions, or whose every task is a little different, has few
 * of them and mostly short shared prefixes. The neighbours' own procedures are whole, and the
 * medoid is the one a similar request most likely repeats — measured on the agent trajectories
 * of the real-logs bench, it is what lifts the top suggestion's overlap well above the patterns'.
 */
export interface TypicalProcedure {
  tools: string[];
  /** Weighted mean Jaccard overlap of its tools with the similar sessions' tools (0..1). */
  expectedOverlap: number;
  /** Similar sessions that made exactly this sequence. */
  followedBy: number;
  /** Similar sessions considered. */
  neighbours: number;
}

/** The medoid of the similar sessions' tool sequences (undefined when there is none). */
export function typicalProcedure(similar: ReadonlyArray<SimilarSession>): TypicalProcedure | undefined {
  // A run of one tool is one step (as in patterns): the draft reads "search flights", not ten
  // searches, and sequences that differ only in how often a step repeated are one procedure.
  const sessions = similar.filter((s) => s.weight > 0 && s.tools.length > 0).map((s) => ({ weight: s.weight, tools: collapseRuns(s.tools) }));
  if (sessions.length === 0) return undefined;
  const weightSum = sessions.reduce((m, s) => m + s.weight, 0);
  const sets = sessions.map((s) => new Set(s.tools));
  const distinct = new Map<string, { at: number; count: number }>();
  sessions.forEach((s, i) => {
    const key = s.tools.join('\u0001');
    const seen = distinct.get(key);
    if (seen) seen.count++;
    else distinct.set(key, { at: i, count: 1 });
  });
  let best: TypicalProcedure | undefined;
  for (const { at, count } of distinct.values()) {
    let e = 0;
    for (let k = 0; k < sessions.length; k++) e += sessions[k].weight * jaccardOf(sets[at], sets[k]);
    const overlap = e / weightSum;
    // Ties: the sequence more neighbours made, then the nearer neighbour's (earlier in the list).
    if (!best || overlap > best.expectedOverlap + 1e-12 || (Math.abs(overlap - best.expectedOverlap) <= 1e-12 && count > best.followedBy)) {
      best = { tools: sessions[at].tools, expectedOverlap: overlap, followedBy: count, neighbours: sessions.length };
    }
  }
  return best;
}

/**
 * A draft workflow definition v1 of a procedure: its steps in the order they were called, each
 * waiting for the one before (no evidence of parallelism or data flow from one sequence), with
 * no parameters learned. It shows and starts the procedure; promotion happens when it recurs
 * and becomes a pattern with inferred parameters.
 */
export function procedureWorkflow(p: TypicalProcedure): WorkflowDefinition {
  const ids = stepIds(p.tools);
  const definition: WorkflowDefinition = {
    id: `procedure-${procedureKey(p.tools)}`,
    name: `Procedure: ${p.tools.join(' → ')}`.slice(0, 200),
    description:
      `The whole procedure ${p.followedBy} of the ${p.neighbours} past sessions with the most similar intents followed ` +
      `(expected overlap ${Math.round(p.expectedOverlap * 100)}% with what they called). Parameters are not learned from it: fill them in.`,
    category: 'learned',
    tags: ['learned', 'procedure'],
    steps: p.tools.map((tool, i) => ({ id: ids[i], tool, parameters: {}, ...(i > 0 ? { dependsOn: [ids[i - 1]] } : {}) })),
    source: 'learned',
  };
  const checked = validateWorkflow(definition);
  if (!checked.ok) throw new Error(`procedureWorkflow: invalid definition: ${checked.errors.map((e) => e.message).join('; ')}`);
  return checked.workflow;
}

/** A short stable key of a tool sequence (FNV-1a, hex). */
export function procedureKey(tools: ReadonlyArray<string>): string {
  let h = 0x811c9dc5;
  const text = tools.join('\u0001');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The tools with each run of one tool kept once: [a, b, b, b, c, b] -> [a, b, c, b]. */
export function collapseRuns(tools: ReadonlyArray<string>): string[] {
  const out: string[] = [];
  for (const t of tools) if (out[out.length - 1] !== t) out.push(t);
  return out;
}
