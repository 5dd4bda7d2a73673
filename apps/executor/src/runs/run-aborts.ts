import { Injectable } from '@nestjs/common';
import { ToolError } from '../tools/tool-error';

const REMEMBER_MS = 60_000;

/**
 * The AbortControllers of the attempts running in this process, by run. A cancel broadcast
 * aborts them; a run cancelled a moment ago aborts an attempt that registers late.
 */
@Injectable()
export class RunAborts {
  private readonly running = new Map<string, Set<AbortController>>();
  private readonly recentlyAborted = new Map<string, { reason: string; at: number }>();

  register(executionId: string): AbortController {
    const controller = new AbortController();
    const aborted = this.recentlyAborted.get(executionId);
    if (aborted && Date.now() - aborted.at < REMEMBER_MS) controller.abort(new ToolError('aborted', aborted.reason, false));
    let set = this.running.get(executionId);
    if (!set) this.running.set(executionId, (set = new Set()));
    set.add(controller);
    return controller;
  }

  unregister(executionId: string, controller: AbortController): void {
    const set = this.running.get(executionId);
    set?.delete(controller);
    if (set?.size === 0) this.running.delete(executionId);
  }

  abort(executionId: string, reason: string): void {
    const now = Date.now();
    this.recentlyAborted.set(executionId, { reason, at: now });
    for (const [id, v] of this.recentlyAborted) if (now - v.at > REMEMBER_MS) this.recentlyAborted.delete(id);
    for (const c of this.running.get(executionId) ?? []) c.abort(new ToolError('aborted', reason, false));
  }

  /** Aborts everything (shutdown). */
  abortAll(reason: string): void {
    for (const id of this.running.keys()) this.abort(id, reason);
  }

  get size(): number {
    let n = 0;
    for (const s of this.running.values()) n += s.size;
    return n;
  }
}
