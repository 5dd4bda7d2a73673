import { Injectable } from '@nestjs/common';
import type { Page } from '@toolpath/contracts';
import { ApiError } from '@toolpath/platform';
import { runSuccessRate } from '@toolpath/execution-store';
import { topologicalLevels, validateWorkflow, type WorkflowDefinition, type WorkflowValidationError } from '@toolpath/workflow';
import type { WorkflowRow } from '@toolpath/workflow-store';
import { ExecutorClient } from '../executions/executor.client';
import { EXPECTED_VERSION_FIELD, ExpectedVersion } from './workflows.schemas';
import { VersionConflictError, WorkflowRepository, workflowView, type StoredWorkflow, type WorkflowFilter } from './workflow.repository';

export interface ValidationReport {
  valid: boolean;
  errors: WorkflowValidationError[];
  /** Step ids by level: each level can run in parallel once the previous ones are done. */
  levels: string[][];
}

export interface WorkflowStats {
  workflowId: string;
  total: number;
  byStatus: Record<string, number>;
  /** Mean wall time of finished runs (COMPLETED and FAILED). */
  meanDurationMs: number | null;
  /** `runSuccessRate` of the runs read. */
  successRate: number | null;
  /** True when there were more runs than the stats read (STATS_MAX_RUNS). */
  truncated: boolean;
}

/** Runs read at most for one workflow's stats, so one request stays bounded. */
const STATS_MAX_RUNS = 10_000;
const STATS_PAGE = 1000;

/** Validation as an HTTP answer: 400 listing every error with its step and field. */
export function invalidDefinition(errors: WorkflowValidationError[], prefix = ''): ApiError {
  const details = errors.map((e) => ({ ...e, field: prefix ? `${prefix}.${e.field}`.replace(/\.\(root\)$/, '') : e.field }));
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ApiError(400, `invalid workflow definition: ${first?.message ?? 'unknown error'}${more}`, details as never);
}

/** Validated definition or a 400. */
export function requireValidDefinition(input: unknown, prefix = ''): WorkflowDefinition {
  const result = validateWorkflow(input);
  if (!result.ok) throw invalidDefinition(result.errors, prefix);
  return result.workflow;
}

@Injectable()
export class WorkflowsService {
  constructor(
    private readonly repo: WorkflowRepository,
    private readonly executor: ExecutorClient,
  ) {}

  validate(input: unknown): ValidationReport {
    const result = validateWorkflow(input);
    if (!result.ok) return { valid: false, errors: result.errors, levels: [] };
    return { valid: true, errors: [], levels: topologicalLevels(result.workflow) };
  }

  async create(tenantId: string, body: unknown): Promise<StoredWorkflow> {
    return workflowView(await this.repo.create(tenantId, requireValidDefinition(body)));
  }

  async get(tenantId: string, id: string): Promise<WorkflowRow> {
    const row = await this.repo.get(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  async list(tenantId: string, filter: WorkflowFilter, limit: number, cursor?: string): Promise<Page<StoredWorkflow>> {
    const page = await this.repo.list(tenantId, filter, limit, cursor);
    return { items: page.items.map(workflowView), nextCursor: page.nextCursor };
  }

  async update(tenantId: string, id: string, body: unknown): Promise<StoredWorkflow> {
    let expectedVersion: number | undefined;
    let definition = body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, EXPECTED_VERSION_FIELD)) {
      const { [EXPECTED_VERSION_FIELD]: raw, ...rest } = body as Record<string, unknown>;
      const parsed = ExpectedVersion.safeParse(raw);
      if (!parsed.success) throw new ApiError(400, `${EXPECTED_VERSION_FIELD}: must be a positive integer`, [{ field: EXPECTED_VERSION_FIELD, message: 'must be a positive integer' }]);
      expectedVersion = parsed.data;
      definition = rest;
    }
    const valid = requireValidDefinition(definition);
    try {
      const row = await this.repo.update(tenantId, id, valid, expectedVersion);
      if (!row) throw notFound(id);
      return workflowView(row);
    } catch (err) {
      if (err instanceof VersionConflictError) {
        throw new ApiError(409, `workflow "${id}" changed: ${err.message}`, [{ field: EXPECTED_VERSION_FIELD, message: err.message }]);
      }
      throw err;
    }
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.repo.softDelete(tenantId, id))) throw notFound(id);
  }

  async copy(tenantId: string, id: string): Promise<StoredWorkflow> {
    const source = await this.get(tenantId, id);
    const { id: _oldId, ...definition } = source.definition;
    const name = `${definition.name} (copy)`.slice(0, 200);
    return workflowView(await this.repo.create(tenantId, { ...definition, name }));
  }

  async versions(tenantId: string, id: string, limit: number, cursor?: string) {
    await this.get(tenantId, id);
    const page = await this.repo.listVersions(tenantId, id, limit, cursor !== undefined ? Number(cursor) : undefined);
    return {
      items: page.items.map((v) => ({ ...v.definition, id: v.workflowId, version: v.version, createdAt: v.createdAt.toISOString() })),
      nextCursor: page.nextCursor,
    };
  }

  async version(tenantId: string, id: string, version: number) {
    const row = await this.repo.getVersion(tenantId, id, version);
    if (!row) throw new ApiError(404, `workflow "${id}" has no version ${version}`, [{ field: 'version', message: 'unknown version' }]);
    return { ...row.definition, id: row.workflowId, version: row.version, createdAt: row.createdAt.toISOString() };
  }

  /** Aggregated in the gateway from the executor's list (heavy work stays out of Mongo). */
  async stats(tenantId: string, id: string): Promise<WorkflowStats> {
    await this.get(tenantId, id);
    const byStatus: Record<string, number> = {};
    let total = 0;
    let durationSum = 0;
    let durationCount = 0;
    let cursor: string | undefined;
    let truncated = false;
    for (;;) {
      const page = await this.executor.list({ tenantId, workflowId: id, limit: STATS_PAGE, ...(cursor ? { cursor } : {}) });
      for (const run of page.items) {
        total++;
        byStatus[run.status] = (byStatus[run.status] ?? 0) + 1;
        if ((run.status === 'COMPLETED' || run.status === 'FAILED') && typeof run.durationMs === 'number') {
          durationSum += run.durationMs;
          durationCount++;
        }
      }
      if (!page.nextCursor || page.items.length === 0) break;
      if (total >= STATS_MAX_RUNS) {
        truncated = true;
        break;
      }
      cursor = page.nextCursor;
    }
    return {
      workflowId: id,
      total,
      byStatus,
      meanDurationMs: durationCount > 0 ? durationSum / durationCount : null,
      successRate: runSuccessRate({ completed: byStatus.COMPLETED ?? 0, failed: byStatus.FAILED ?? 0 }),
      truncated,
    };
  }
}

export function notFound(id: string): ApiError {
  return new ApiError(404, `no workflow "${id}"`, [{ field: 'id', message: 'unknown workflow' }]);
}
