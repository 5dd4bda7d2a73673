import type { AttemptKind } from '@toolpath/contracts';
import { luaScript } from './lua-script';
import type { RunMeta, StepState } from './run-state';

/**
 * The RunStore's scripts, one per state change (apps/executor/lua/<file>.lua, whose header says
 * what each key and argument is). The names here are the headers', in the same order (a test
 * holds the two together); each reply is decoded into a type here, so no caller reads positions.
 */

export type CreateResult = { created: true } | { created: false; existing: string };
export type TransitionResult = { ok: true; open: number } | { ok: false; current: string };

export type BeginResult =
  | { kind: 'ok'; state: StepState; meta?: RunMeta; steps: Record<string, StepState>; attemptKind: AttemptKind }
  | { kind: 'gone' }
  | { kind: 'ended'; status: string }
  | { kind: 'state'; status: string }
  | { kind: 'busy' }
  | { kind: 'held'; forMs: number };

/** begin-attempt's reply: the states read in the order asked (null: the step is PENDING). */
export type BeginReply =
  | { kind: 'ok'; state: StepState; meta?: RunMeta; reads: Array<StepState | null>; attemptKind: AttemptKind }
  | Exclude<BeginResult, { kind: 'ok' }>;

export type EndAttemptResult =
  | { moved: true; seq: number; open: number; runEnded: boolean; fields?: Record<string, string> }
  | { moved: false; seq: number; current: string };

export interface SettledStep {
  stepId: string;
  previous: string;
  state: StepState;
}

export const createRun = luaScript({
  file: 'create-run',
  keys: ['run', 'deadlines', 'live', 'idempotency'],
  argv: ['id', 'keyTtlS', 'deadlineMs', 'createdMs'],
  tail: 'fields',
  reply: (raw): CreateResult => {
    const a = raw as [number, string?];
    return a[0] === 1 ? { created: true } : { created: false, existing: String(a[1]) };
  },
});

export const moveStep = luaScript({
  file: 'move-step',
  keys: ['run'],
  argv: ['field', 'allowed', 'json', 'status'],
  reply: (raw): TransitionResult => {
    const [ok, v] = raw as [number, number | string];
    return ok === 1 ? { ok: true, open: Number(v) } : { ok: false, current: String(v) };
  },
});

export const setMeta = luaScript({
  file: 'set-meta',
  keys: ['run', 'outbox', 'deadlines'],
  argv: ['allowed', 'meta', 'status', 'nowMs', 'ended', 'id'],
  reply: (raw): boolean => raw === 1,
});

export const endRunSettling = luaScript({
  file: 'end-run-settling',
  keys: ['run', 'outbox', 'deadlines'],
  argv: ['allowed', 'meta', 'status', 'nowMs', 'id', 'nowIso', 'reason'],
  tail: 'steps',
  reply: (raw): SettledStep[] | null => {
    const r = raw as Array<string | number>;
    if (Number(r[0]) !== 1) return null;
    const settled: SettledStep[] = [];
    for (let i = 1; i < r.length; i += 3) settled.push({ stepId: String(r[i]), previous: String(r[i + 1]), state: JSON.parse(String(r[i + 2])) as StepState });
    return settled;
  },
});

export const beginAttempt = luaScript({
  file: 'begin-attempt',
  keys: ['run', 'slots'],
  argv: ['field', 'nowMs', 'nowIso', 'leaseUntilMs', 'limit', 'slot', 'wantMeta', 'executorId', 'heartbeatPrefix'],
  tail: 'reads',
  reply: (raw): BeginReply => {
    const r = raw as Array<string | null>;
    switch (r[0]) {
      case 'OK': {
        const reads = r.slice(4).map((json) => (json ? (JSON.parse(json) as StepState) : null));
        const out: BeginReply = { kind: 'ok', state: JSON.parse(r[1]!) as StepState, reads, attemptKind: r[3] as AttemptKind };
        if (r[2]) out.meta = JSON.parse(r[2]) as RunMeta;
        return out;
      }
      case 'BUSY':
        return { kind: 'busy' };
      case 'HELD':
        return { kind: 'held', forMs: Number(r[1]) };
      case 'ENDED':
        return { kind: 'ended', status: String(r[1]) };
      case 'STATE':
        return { kind: 'state', status: String(r[1]) };
      default:
        return { kind: 'gone' };
    }
  },
});

export const endAttempt = luaScript({
  file: 'end-attempt',
  keys: ['run', 'slots', 'outbox', 'deadlines'],
  argv: ['field', 'json', 'status', 'slot', 'returnRun', 'completesAt', 'nowMs', 'id'],
  reply: (raw): EndAttemptResult => {
    const r = raw as Array<string | number>;
    if (Number(r[0]) !== 1) return { moved: false, seq: Number(r[1]), current: String(r[2]) };
    const out: EndAttemptResult = { moved: true, seq: Number(r[1]), open: Number(r[2]), runEnded: Number(r[3]) === 1 };
    if (r.length > 4) {
      const fields: Record<string, string> = {};
      for (let i = 4; i < r.length; i += 2) fields[String(r[i])] = String(r[i + 1]);
      out.fields = fields;
    }
    return out;
  },
});

export const claimEnded = luaScript({
  file: 'claim-ended',
  keys: ['outbox'],
  argv: ['nowMs', 'leaseUntilMs', 'limit'],
  reply: (raw) => raw as string[],
});

/** Every script, for defining them on a client at once. */
export const RUN_SCRIPTS = [createRun, moveStep, setMeta, endRunSettling, beginAttempt, endAttempt, claimEnded] as const;
