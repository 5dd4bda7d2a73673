/**
 * A fault during runs: 20 runs of 10 steps started through the gateway, each step a tool with a
 * side effect served by a provider over NATS (the TS SDK's serveTool), two steps at a time: one
 * calls a tool served with `dedupe` (keyed on the step's idempotency key), the other the same
 * tool without it. The fault hits while steps run (an executor killed with SIGKILL, Redis stopped
 * or killed); every run must complete, the de-duplicated tool must have had no second side
 * effect, and the steps a dead executor held must be taken over within 10 s (other faults:
 * progress must resume). Duplicates of the plain tool are counted and reported: without
 * de-duplication a takeover runs the handler again (at-least-once, by design).
 */
import { randomBytes } from 'node:crypto';
import { toolSubject, type ToolRequest } from '@toolpath/contracts';
import { serveTool, type ToolServer } from '@toolpath/sdk';
import type { ChaosControl, Drill, DrillContext, DrillRow } from '../drill';
import { connectNats, pollUntil, sleep } from '../load';
import { drainBound, needControl, processFaultRow } from './common';

const STEPS = 10;
const STEP_MS = 400;
const TAKEOVER_BOUND_MS = 10_000;
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

interface Attempt {
  at: number;
  key: string;
  kind: string;
  /** The executor's connection (its reply inbox prefix): which executor sent it. */
  inbox: string;
}

export interface RunsFault {
  name: string;
  fast: boolean;
  summary: string;
  executors: 1 | 2;
  /**
   * The fault (and the restart a supervisor would do). 'executor' when it kills an executor:
   * the steps that one held must then be taken over within the bound.
   */
  fault(control: ChaosControl, ctx: DrillContext): Promise<{ killed: 'executor' | 'server'; note: string }>;
}

export function runsDrill(spec: RunsFault): Drill {
  const { name, executors } = spec;
  return {
    name,
    fast: spec.fast,
    summary: spec.summary,
    async run(ctx: DrillContext): Promise<DrillRow> {
      const control = needControl(ctx);
      const runs = Math.max(4, Math.round(20 * ctx.scale));
      const tag = randomBytes(3).toString('hex');
      const tools = { once: `chaos.once_${tag}`, plain: `chaos.plain_${tag}` };
      const tenant = ctx.target.tenants[0]!;
      const nc = await connectNats(ctx.target, `chaos-${name}`);
      const servers: ToolServer[] = [];
      const effects = { once: new Map<string, number>(), plain: new Map<string, number>() };
      const attempts: Attempt[] = [];
      /** Keys whose handler call has started and not returned: in flight on some executor. */
      const running = new Set<string>();
      const notes: string[] = [];
      let errors5xx = 0;
      let retryable503 = 0;
      const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
        const res = await fetch(`${ctx.target.gatewayUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${tenant.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status >= 500) {
          if (res.status === 503 && res.headers.get('retry-after')) retryable503++;
          else errors5xx++;
        }
        return { status: res.status, json: await res.json().catch(() => null) };
      };
      try {
        while (control.processes('executor').length < executors) await control.startApp('executor');
        for (const kind of ['once', 'plain'] as const) {
          servers.push(
            await serveTool(
              nc,
              { name: tools[kind], description: `charges once per call${kind === 'once' ? ' (de-duplicated)' : ''}`, inputSchema: { type: 'object' } },
              async (p: { n: number }, c) => {
                const key = c.idempotencyKey ?? `${c.runId}/${c.stepId}`;
                effects[kind].set(key, (effects[kind].get(key) ?? 0) + 1);
                running.add(key);
                try {
                  await sleep(STEP_MS);
                } finally {
                  running.delete(key);
                }
                return { charged: p.n };
              },
              { prefix: ctx.target.subjectPrefix, dedupe: kind === 'once', concurrency: 256 },
            ),
          );
        }
        // Beside the providers: every request the executors send, for the takeover times.
        for (const tool of Object.values(tools)) {
          nc.subscribe(toolSubject(ctx.target.subjectPrefix, tool), {
            callback: (err, msg) => {
              if (err) return;
              const c = (JSON.parse(new TextDecoder().decode(msg.data)) as ToolRequest).context;
              const inbox = (msg.reply ?? '').split('.').slice(0, 2).join('.');
              attempts.push({ at: Date.now(), key: c.idempotencyKey ?? `${c.runId}/${c.stepId}`, kind: c.attemptKind ?? '?', inbox });
            },
          });
        }
        await nc.flush();
        const definition = {
          name: `chaos ${name}`,
          description: 'ten steps with side effects, two at a time',
          source: 'user',
          // Pairs: each level calls both tools at once, so a kill finds calls of both in flight.
          steps: Array.from({ length: STEPS }, (_, i) => {
            const level = Math.floor(i / 2);
            return {
              id: `s${i}`,
              tool: i % 2 === 0 ? tools.once : tools.plain,
              parameters: { n: i },
              ...(level > 0 ? { dependsOn: [`s${2 * level - 2}`, `s${2 * level - 1}`] } : {}),
            };
          }),
        };
        ctx.log(`${name}: starting ${runs} runs of ${STEPS} steps (${STEP_MS} ms each) through the gateway`);
        const ids: string[] = [];
        for (let r = 0; r < runs; r++) {
          const res = await api('POST', '/executions', { definition });
          if (res.status !== 202) throw new Error(`POST /executions answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
          ids.push(res.json.executionId);
        }
        // A third of the way through: every run has a step on some executor.
        await pollUntil(async () => attempts.length, (a) => a >= (runs * STEPS) / 3, ctx.deadline, 20);
        const runningAtKill = [...running];
        const killedAt = Date.now();
        const fault = await spec.fault(control, ctx);
        const faultDone = Date.now();
        notes.push(fault.note);
        ctx.log(`${name}: ${fault.note}, ${runningAtKill.length} tool calls were in flight`);

        // Every run must end; reads go through the gateway as a client's would.
        const status = new Map<string, string>();
        const endBy = drainBound(ctx);
        while (Date.now() < endBy && status.size < ids.length) {
          for (const id of ids) {
            if (status.has(id)) continue;
            const r = await api('GET', `/executions/${id}`).catch(() => ({ status: 0, json: null }));
            if (r.status === 200 && TERMINAL.has(r.json?.status)) status.set(id, r.json.status);
          }
          await sleep(500);
        }
        // The calls the dead executor had sent: from a connection never heard of after the kill.
        const inboxAfter = new Set(attempts.filter((a) => a.at > killedAt).map((a) => a.inbox));
        const lastBefore = new Map<string, Attempt>();
        for (const a of attempts) if (a.at <= killedAt) lastBefore.set(a.key, a);
        const inFlight = fault.killed === 'executor' ? runningAtKill.filter((key) => !inboxAfter.has(lastBefore.get(key)?.inbox ?? '')) : [];
        // Each is asked for again (a takeover) by a live executor.
        const takeovers = inFlight.map((key) => attempts.find((a) => a.key === key && a.at > killedAt));
        const takenOver = takeovers.filter((a): a is Attempt => a !== undefined);
        const takeoverMs = takenOver.length ? Math.max(...takenOver.map((a) => a.at - killedAt)) : null;
        const kinds = new Map<string, number>();
        for (const a of takenOver) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
        const dup = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);
        const completed = [...status.values()].filter((s) => s === 'COMPLETED').length;
        const notEnded = ids.length - status.size;
        // Other faults: time until the executors call tools again once the server is back.
        const resumed = attempts.find((a) => a.at > faultDone);
        if (fault.killed === 'executor') notes.push(
          `takeover of ${takenOver.length}/${inFlight.length} steps in flight: max ${takeoverMs ?? '-'} ms (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})`,
        );
        notes.push(
          `duplicate side effects without de-dup: ${dup(effects.plain)}, with de-dup: ${dup(effects.once)} (served again from the de-dup cache: ${servers[0]!.stats().deduplicated})`,
        );
        if (retryable503) notes.push(`${retryable503} reads answered 503 with Retry-After (retryable)`);
        if (completed + notEnded < ids.length) notes.push(`${ids.length - completed - notEnded} runs ended without completing`);
        if (takenOver.length < inFlight.length) notes.push(`FAILED: ${inFlight.length - takenOver.length} steps in flight never taken over`);
        const row = processFaultRow(name, {
          sent: ids.length,
          stored: completed,
          lost: ids.length - completed - notEnded,
          duplicated: dup(effects.once),
          stuck: notEnded,
          recoverMs:
            fault.killed === 'server'
              ? resumed
                ? resumed.at - killedAt
                : completed === ids.length
                  ? faultDone - killedAt
                  : null
              : inFlight.length === 0
                ? 0
                : takenOver.length === inFlight.length
                  ? takeoverMs
                  : null,
          recoverBoundMs: fault.killed === 'executor' ? TAKEOVER_BOUND_MS : undefined,
          errors5xx,
          notes,
        });
        if (fault.killed === 'executor' && inFlight.length === 0) row.notes.push('no tool call of the killed executor was in flight: nothing to take over');
        return row;
      } finally {
        for (const s of servers) await s.stop({ timeoutMs: 100 }).catch(() => undefined);
        await nc.close().catch(() => undefined);
      }
    },
  };
}
