/** What the process-fault drills share: the control they need, their bounds and their verdict. */
import { testUrls, type TestNames } from '@toolpath/testing';
import type { ChaosControl, ChaosTarget, ChaosTenant, DrillContext, DrillRow } from '../drill';

export function needControl(ctx: DrillContext): ChaosControl {
  if (!ctx.control) throw new Error('this drill kills processes: it needs the runner to pass DrillContext.control');
  return ctx.control;
}

/** How long a drill waits for the system to settle after its load: 2 minutes at most. */
export function drainBound(ctx: DrillContext): number {
  return Math.min(ctx.deadline, Date.now() + 120_000);
}

/** A row's figures before the verdict (`errors5xx` left out when the drill sends no requests). */
export type FaultFigures = Omit<DrillRow, 'drill' | 'ok' | 'errors5xx'> & {
  errors5xx?: number | null;
  /** A bound on the recovery (e.g. the 10 s takeover); above it the drill fails. */
  recoverBoundMs?: number;
};

/**
 * The figures every process-fault drill must reach: nothing lost or duplicated, nothing stuck,
 * no unexpected 5xx, and a recovery that happened (within its bound, when it has one).
 */
export function processFaultRow(drill: string, f: FaultFigures): DrillRow {
  const failures: string[] = [];
  if (f.lost !== null && f.lost > 0) failures.push(`${f.lost} lost`);
  if (f.duplicated !== null && f.duplicated > 0) failures.push(`${f.duplicated} duplicated`);
  if (f.stuck !== null && f.stuck > 0) failures.push(`${f.stuck} stuck`);
  if ((f.errors5xx ?? 0) > 0) failures.push(`${f.errors5xx} unexpected 5xx`);
  if (f.recoverMs === null) failures.push('did not recover within the drill bound');
  else if (f.recoverBoundMs !== undefined && f.recoverMs > f.recoverBoundMs) failures.push(`recovery ${f.recoverMs} ms > ${f.recoverBoundMs} ms`);
  return {
    drill,
    sent: f.sent,
    stored: f.stored,
    lost: f.lost,
    duplicated: f.duplicated,
    stuck: f.stuck,
    recoverMs: f.recoverMs,
    errors5xx: f.errors5xx ?? null,
    ok: failures.length === 0,
    notes: [...failures.map((x) => `FAILED: ${x}`), ...f.notes],
  };
}

/** A row for a drill that threw: not ok, with the reason. */
export function crashedRow(drill: string, err: unknown): DrillRow {
  const message = err instanceof Error ? err.message : String(err);
  return { drill, sent: 0, stored: null, lost: null, duplicated: null, stuck: null, recoverMs: null, errors5xx: null, ok: false, notes: [`FAILED: the drill threw: ${message.split('\n')[0]!.slice(0, 300)}`] };
}

/** The target of a drill run by a jest test on the shared servers, under the test's own names. */
export function sharedInfraTarget(names: TestNames, gatewayUrl: string, tenants: ChaosTenant[]): ChaosTarget {
  return {
    gatewayUrl,
    tenants,
    natsUrl: testUrls.nats,
    subjectPrefix: names.subjectPrefix,
    stream: names.stream,
    mongoUrl: testUrls.mongo,
    database: names.mongoDb,
    redisUrl: testUrls.redis,
  };
}
