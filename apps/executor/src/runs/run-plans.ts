import { Injectable } from '@nestjs/common';
import { ancestorsOf, stepGraphOf, type WorkflowDefinition, type WorkflowStep } from '@toolpath/workflow';
import type { RunMeta } from './run-state';

/** What the executor derives once from a run's (immutable) definition. */
export interface RunPlan {
  definition: WorkflowDefinition;
  step: ReadonlyMap<string, WorkflowStep>;
  /**
   * Per step, the other steps its templates may read: its ancestors (validation refuses any other
   * reference) and their fallback steps (a recovered step shows its fallback's result).
   */
  reads: ReadonlyMap<string, readonly string[]>;
  /**
   * Steps whose completion cannot make another step ready: nothing waits for them and they are
   * nobody's fallback. When such a step completes and other steps are still open, the run's
   * readiness has not changed, so the scheduler need not read the run.
   */
  leaf: ReadonlySet<string>;
  /**
   * The run's meta as it is while the run is live, once this executor has read it. A live run's
   * meta never changes (only its end writes it, and the scripts check the run's status anyway),
   * so a step need not fetch it (with the run's input, of any size) on every attempt.
   */
  liveMeta?: RunMeta;
}

/** Definitions are at most 256 KiB (usually a few): this bounds the cache's memory. */
const MAX_PLANS = 2_000;

export function planOf(definition: WorkflowDefinition): RunPlan {
  const graph = stepGraphOf(definition);
  const step = new Map(definition.steps.map((s) => [s.id, s]));
  const reads = new Map<string, string[]>();
  const leaf = new Set<string>();
  definition.steps.forEach((s, i) => {
    if (graph.dependencies[i].length === 0) reads.set(s.id, []);
    else {
      const ids = ancestorsOf(definition, s.id);
      for (const a of [...ids]) {
        const f = graph.fallback[graph.indexOf.get(a)!];
        if (f !== -1) ids.add(graph.ids[f]);
      }
      ids.delete(s.id);
      reads.set(s.id, [...ids]);
    }
    if (graph.dependents[i].length === 0 && graph.fallbackFor[i] === -1) leaf.add(s.id);
  });
  return { definition, step, reads, leaf };
}

/**
 * Plans of the runs this executor has touched, by execution id (bounded; least recently added
 * first out). A definition never changes during a run, so a cached plan never goes stale; it
 * saves reading and parsing the definition on every step.
 */
@Injectable()
export class RunPlans {
  private readonly plans = new Map<string, RunPlan>();

  get(executionId: string): RunPlan | undefined {
    return this.plans.get(executionId);
  }

  /** The run's plan, made once; `meta` (if the run is live) is kept with it. */
  remember(executionId: string, definition: WorkflowDefinition, meta?: RunMeta): RunPlan {
    const known = this.plans.get(executionId);
    if (known) {
      if (meta) this.rememberMeta(known, meta);
      return known;
    }
    const plan = planOf(definition);
    if (meta) this.rememberMeta(plan, meta);
    this.plans.set(executionId, plan);
    if (this.plans.size > MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }

  rememberMeta(plan: RunPlan, meta: RunMeta): void {
    if (!plan.liveMeta && (meta.status === 'RUNNING' || meta.status === 'PENDING')) plan.liveMeta = meta;
  }

  forget(executionId: string): void {
    this.plans.delete(executionId);
  }
}
