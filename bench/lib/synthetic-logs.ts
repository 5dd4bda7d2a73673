/**
 * Synthetic tool-call logs with planted workflows, for mining benches and tests (deterministic
 * for a given seed). Each planted workflow is a sequence of stages; a stage of two tools runs
 * them in random order (independent steps). Steps pass data along (a parameter equals a field of
 * an earlier step's result), unrelated calls are interleaved, steps fail and are retried or end
 * the session, and some sessions are noise only.
 */
import type { ClosedSession, MiningEvent, SessionStep } from '@toolpath/mining';

export interface SyntheticLogOptions {
  seed: number;
  tenantId: string;
  sessions: number;
  /** Planted workflows (default 12). */
  workflows: number;
  /** Probability of an unrelated call at each of the maxNoisePerGap slots between two workflow steps (default 0.3). */
  noise: number;
  /** At most this many unrelated calls between two workflow steps (default 2; the miner's maxGap). */
  maxNoisePerGap: number;
  /** Unrelated calls before and after the workflow, each up to this many (default 3). */
  noiseAround: number;
  /** Distinct unrelated tools (default 60). */
  noiseTools: number;
  /** Sessions without any workflow (default 0.15). */
  noiseSessionShare: number;
  /** Probability that a workflow step fails (default 0.05); a failure is retried, or (30%) ends the session. */
  failureRate: number;
  users: number;
  agents: number;
  /** Epoch ms of the first session (default 2026-01-01). */
  startAt: number;
  /**
   * Long procedures planted besides `workflows` (default 0): `longWorkflowSteps` tools each
   * (one stage of two independent tools among them), a few of them loops (called 1 to 5 times
   * in a row), with the same noise, failures and data flow as the short ones.
   */
  longWorkflows?: number;
  /** Tools of a long procedure (default 25). */
  longWorkflowSteps?: number;
  /** Share of planted workflows whose tools return their result as JSON text, as most agent tools do (default 0). */
  jsonTextResults?: number;
  /**
   * Share of planted workflows whose tools return what they produce as one element of an array
   * of three, at a random position, told apart by its `key`, which equals the tool's `pick`
   * parameter (default 0).
   */
  keyedArrayResults?: number;
}

export const DEFAULT_SYNTHETIC_OPTIONS: SyntheticLogOptions = {
  seed: 42,
  tenantId: 'synthetic',
  sessions: 2_000,
  workflows: 12,
  noise: 0.3,
  maxNoisePerGap: 2,
  noiseAround: 3,
  noiseTools: 60,
  noiseSessionShare: 0.15,
  failureRate: 0.05,
  users: 40,
  agents: 4,
  startAt: Date.UTC(2026, 0, 1),
};

/** A planted data flow: `toTool`'s parameter `parameter` is `fromTool`'s result at `resultPath` (e.g. "order.id"). */
export interface PlantedBinding {
  fromTool: string;
  resultPath: string;
  toTool: string;
  parameter: string;
}

export interface PlantedWorkflow {
  name: string;
  intent: string;
  /** Stages in order; tools of one stage are independent (run in random order). */
  stages: string[][];
  tools: string[];
  bindings: PlantedBinding[];
  /** Pairs of independent tools (same stage). */
  parallelPairs: Array<[string, string]>;
  /** Tools called 1 to 5 times in a row (a loop of one tool; long procedures only). */
  loops?: string[];
  /** Its tools return JSON text (options.jsonTextResults). */
  jsonText?: boolean;
  /** Its tools return the produced id inside an array at a random position (options.keyedArrayResults). */
  keyedArray?: boolean;
}

/** Small fast deterministic PRNG (mulberry32). */
export class Random {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  id(prefix: string): string {
    return `${prefix}-${this.int(1e9).toString(36)}${this.int(1e9).toString(36)}`;
  }
}

const VERBS = ['lookup', 'fetch', 'validate', 'enrich', 'score', 'reserve', 'charge', 'ship', 'notify', 'archive', 'audit', 'sync', 'render', 'approve'];
const NOUNS = ['order', 'invoice', 'ticket', 'user', 'shipment', 'report', 'payment', 'document', 'lead', 'refund', 'contract', 'device'];
/** A few tool names are not ASCII, as real ones may be. */
const UNICODE_VERBS = ['prüfen', '検索', 'отправить'];

/** The planted workflows of a seed: 3 to 5 stages, about half with one stage of two independent tools. */
export function plantWorkflows(seed: number, count: number): PlantedWorkflow[] {
  const rnd = new Random(seed ^ 0x5eed);
  const out: PlantedWorkflow[] = [];
  for (let w = 0; w < count; w++) {
    const noun = NOUNS[w % NOUNS.length];
    const stageCount = 3 + rnd.int(3);
    const parallelAt = rnd.chance(0.5) ? 1 + rnd.int(stageCount - 1) : -1;
    const used = new Set<string>();
    const toolName = (): string => {
      for (;;) {
        const verb = w % 5 === 2 && used.size === 1 ? UNICODE_VERBS[w % UNICODE_VERBS.length] : rnd.pick(VERBS);
        const name = `wf${w}.${noun}.${verb}`;
        if (!used.has(name)) {
          used.add(name);
          return name;
        }
      }
    };
    const stages: string[][] = [];
    for (let s = 0; s < stageCount; s++) stages.push(s === parallelAt ? [toolName(), toolName()] : [toolName()]);
    const bindings: PlantedBinding[] = [];
    // Every tool after the first reads the id produced by a tool of the previous stage.
    for (let s = 1; s < stageCount; s++) {
      for (const to of stages[s]) bindings.push({ fromTool: stages[s - 1][0], resultPath: `${noun}.id`, toTool: to, parameter: `${noun}Id` });
    }
    const parallelPairs: Array<[string, string]> = stages.filter((st) => st.length === 2).map((st) => [st[0], st[1]]);
    out.push({ name: `wf${w}`, intent: `${VERBS[w % VERBS.length]} the ${noun}`, stages, tools: stages.flat(), bindings, parallelPairs });
  }
  return out;
}

/**
 * Long procedures of a seed: `steps` tools in single stages except one stage of two independent
 * tools, every fifth tool a loop. Tool names do not collide with plantWorkflows'.
 */
export function plantLongWorkflows(seed: number, count: number, steps: number, first: number): PlantedWorkflow[] {
  const rnd = new Random(seed ^ 0x1095);
  const out: PlantedWorkflow[] = [];
  for (let k = 0; k < count; k++) {
    const w = first + k;
    const noun = NOUNS[w % NOUNS.length];
    const stageCount = Math.max(3, steps - 1);
    const parallelAt = 1 + rnd.int(stageCount - 2);
    const stages: string[][] = [];
    let n = 0;
    const toolName = (): string => `wf${w}.${noun}.${VERBS[n % VERBS.length]}${n++}`;
    for (let s = 0; s < stageCount; s++) stages.push(s === parallelAt ? [toolName(), toolName()] : [toolName()]);
    const bindings: PlantedBinding[] = [];
    for (let s = 1; s < stageCount; s++) {
      for (const to of stages[s]) bindings.push({ fromTool: stages[s - 1][0], resultPath: `${noun}.id`, toTool: to, parameter: `${noun}Id` });
    }
    const tools = stages.flat();
    const loops = tools.filter((_, i) => i % 5 === 3);
    out.push({ name: `wf${w}`, intent: `${VERBS[w % VERBS.length]} the ${noun} (long)`, stages, tools, bindings, parallelPairs: stages.filter((st) => st.length === 2).map((st) => [st[0], st[1]]), loops });
  }
  return out;
}

/**
 * The logs: `sessions()` yields closed sessions (what the counter takes), `events()` the same as
 * tool_call and session_end events (what the assembler takes), both in the same order, with
 * increasing streamSeq. Both restart from the seed on every call.
 */
export class SyntheticLogs {
  readonly options: SyntheticLogOptions;
  readonly workflows: PlantedWorkflow[];

  constructor(opts: Partial<SyntheticLogOptions> = {}) {
    this.options = { ...DEFAULT_SYNTHETIC_OPTIONS, ...opts };
    this.workflows = plantWorkflows(this.options.seed, this.options.workflows);
    if (this.options.longWorkflows) {
      // Spread among the short ones (every third place), so they are as popular as short ones.
      const long = plantLongWorkflows(this.options.seed, this.options.longWorkflows, this.options.longWorkflowSteps ?? 25, this.workflows.length);
      long.forEach((w, k) => this.workflows.splice(Math.min(this.workflows.length, 1 + 3 * k), 0, w));
    }
    // Which workflows get which result form: a fixed low-discrepancy spread, so no random draw is added.
    this.workflows.forEach((w, i) => {
      const spread = (x: number): number => ((i + 1) * x) % 1;
      if (spread(0.6180339887) < (this.options.jsonTextResults ?? 0)) w.jsonText = true;
      if (spread(0.4142135623) < (this.options.keyedArrayResults ?? 0)) {
        w.keyedArray = true;
        const noun = w.stages[0][0].split('.')[1];
        for (const b of w.bindings) b.resultPath = `${noun}s[key = pick].id`;
      }
    });
  }

  *sessions(): Generator<ClosedSession & { workflow?: string }> {
    const o = this.options;
    const rnd = new Random(o.seed);
    const noiseTools = Array.from({ length: o.noiseTools }, (_, i) => `misc.${VERBS[i % VERBS.length]}.${i}`);
    // Mildly skewed popularity: weight 1/sqrt(rank).
    const weights = this.workflows.map((_, i) => 1 / Math.sqrt(i + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    let clock = o.startAt;
    let streamSeq = 0;
    for (let n = 0; n < o.sessions; n++) {
      const sessionId = `${o.tenantId}-s${n}`;
      const steps: SessionStep[] = [];
      let t = clock;
      const call = (tool: string, parameters: Record<string, unknown>, result: unknown, success: boolean): void => {
        const durationMs = 20 + rnd.int(200);
        steps.push({ tool, parameters, result, success, ...(success ? {} : { error: 'upstream said no' }), durationMs, startedAt: t });
        t += durationMs + rnd.int(50);
      };
      const noise = (): void => {
        const tool = rnd.pick(noiseTools);
        call(tool, { value: rnd.int(1000) }, { ok: true, n: rnd.int(1000) }, rnd.chance(0.97));
      };
      let workflow: PlantedWorkflow | undefined;
      let ok = true;
      for (let i = rnd.int(o.noiseAround + 1); i > 0; i--) noise();
      if (!rnd.chance(o.noiseSessionShare)) {
        let r = rnd.next() * total;
        let wi = 0;
        while (wi < weights.length - 1 && (r -= weights[wi]) > 0) wi++;
        workflow = this.workflows[wi];
        const noun = workflow.stages[0][0].split('.')[1];
        let produced = rnd.id(noun);
        let first = true;
        run: for (const stage of workflow.stages) {
          const order = stage.length === 2 && rnd.chance(0.5) ? [stage[1], stage[0]] : stage;
          let nextProduced = produced;
          for (const tool of order) {
            if (!first) for (let g = 0; g < o.maxNoisePerGap; g++) if (rnd.chance(o.noise)) noise();
            const parameters: Record<string, unknown> = first
              ? { query: `${workflow.intent} #${rnd.int(10_000)}`, region: 'eu-1' }
              : { [`${noun}Id`]: produced, region: 'eu-1', attempt: 1 };
            const out = rnd.id(noun);
            let result: unknown = { [noun]: { id: out, status: 'ok' }, took: rnd.int(100) };
            if (workflow.keyedArray) {
              const pick = rnd.id('k');
              parameters.pick = pick;
              const at = rnd.int(3);
              const items = [0, 1, 2].map((x) => (x === at ? { id: out, key: pick, status: 'ok' } : { id: rnd.id(noun), key: rnd.id('k'), status: 'ok' }));
              result = { [`${noun}s`]: items, took: rnd.int(100) };
            }
            if (workflow.jsonText) result = JSON.stringify(result);
            let success = !rnd.chance(o.failureRate);
            call(tool, parameters, result, success);
            if (!success) {
              if (rnd.chance(0.3)) {
                ok = false;
                break run;
              }
              success = true;
              call(tool, { ...parameters, attempt: 2 }, result, true);
            }
            // A loop of one tool: called again, up to 4 more times in a row.
            if (workflow.loops?.includes(tool)) for (let r = rnd.int(5); r > 0; r--) call(tool, { ...parameters, attempt: 1 }, result, true);
            if (tool === stage[0]) nextProduced = out;
            first = false;
          }
          produced = nextProduced;
        }
      }
      if (ok) for (let i = rnd.int(o.noiseAround + 1); i > 0; i--) noise();
      if (steps.length === 0) noise();
      const ended = rnd.chance(0.9);
      streamSeq += steps.length + (ended ? 1 : 0);
      yield {
        tenantId: o.tenantId,
        sessionId,
        userId: `user-${rnd.int(o.users)}`,
        agentId: `agent-${rnd.int(o.agents)}`,
        ...(workflow ? { intent: `${workflow.intent} (request ${n})`, workflow: workflow.name } : { intent: 'misc chores' }),
        ...(ended ? { success: ok, ended: true } : { ended: false }),
        steps,
        startedAt: clock,
        endedAt: t,
        lastStreamSeq: streamSeq,
      };
      clock = t + 1_000 + rnd.int(5_000);
    }
  }

  *events(): Generator<MiningEvent> {
    let seq = 0;
    for (const s of this.sessions()) {
      for (let i = 0; i < s.steps.length; i++) {
        const st = s.steps[i];
        yield {
          streamSeq: ++seq,
          tenantId: s.tenantId,
          sessionId: s.sessionId,
          kind: 'tool_call',
          tool: st.tool,
          parameters: st.parameters,
          result: st.result,
          success: st.success,
          ...(st.error ? { error: st.error } : {}),
          startedAt: st.startedAt,
          durationMs: st.durationMs,
          seq: i,
          ...(s.intent ? { intent: s.intent } : {}),
          ...(s.userId ? { userId: s.userId } : {}),
          ...(s.agentId ? { agentId: s.agentId } : {}),
        };
      }
      if (s.ended) {
        yield {
          streamSeq: ++seq,
          tenantId: s.tenantId,
          sessionId: s.sessionId,
          kind: 'session_end',
          success: s.success === true,
          startedAt: s.startedAt,
          durationMs: s.endedAt - s.startedAt,
          ...(s.intent ? { intent: s.intent } : {}),
          ...(s.userId ? { userId: s.userId } : {}),
          ...(s.agentId ? { agentId: s.agentId } : {}),
        };
      }
    }
  }
}
