import { Injectable } from '@nestjs/common';
import { findUnstorable, formatPath, type ExecutionView, type ListExecutionsReply } from '@toolpath/contracts';
import { ApiError } from '@toolpath/platform';
import { applyInputDefaults, type WorkflowDefinition } from '@toolpath/workflow';
import { findUnsafeKey } from '../workflows/workflow-json.parser';
import { WorkflowRepository } from '../workflows/workflow.repository';
import { notFound, requireValidDefinition } from '../workflows/workflows.service';
import { ExecutorClient } from './executor.client';
import { StartInlineRunBody, StartWorkflowRunBody, type ListAllRunsQuery, type ListRunsQuery } from './executions.schemas';
import { checkRunInput } from './run-input';

export interface RunAccepted {
  executionId: string;
  status: string;
}

/** Starting, reading and cancelling runs: the gateway checks, the executor does the work. */
@Injectable()
export class ExecutionsService {
  constructor(
    private readonly executor: ExecutorClient,
    private readonly workflows: WorkflowRepository,
  ) {}

  /** Runs the latest version of a stored workflow and records which version that was. */
  async startStored(tenantId: string, workflowId: string, body: unknown): Promise<RunAccepted> {
    this.executor.assertInputFits(inputOf(body));
    const { input, idempotencyKey } = parseBody(StartWorkflowRunBody, body === undefined ? {} : body);
    const row = await this.workflows.get(tenantId, workflowId);
    if (!row) throw notFound(workflowId);
    return this.start(tenantId, row.definition, input, idempotencyKey, { workflowId, version: row.version });
  }

  async startInline(tenantId: string, body: unknown): Promise<RunAccepted> {
    this.executor.assertInputFits(inputOf(body));
    const { definition, input, idempotencyKey } = parseBody(StartInlineRunBody, body);
    if (definition === undefined) throw new ApiError(400, 'definition: required', [{ field: 'definition', message: 'required' }]);
    return this.start(tenantId, requireValidDefinition(definition, 'definition'), input, idempotencyKey, {});
  }

  async get(tenantId: string, executionId: string): Promise<ExecutionView> {
    return this.executor.get({ tenantId, executionId });
  }

  async cancel(tenantId: string, executionId: string): Promise<ExecutionView> {
    return this.executor.cancel({ tenantId, executionId });
  }

  async listForWorkflow(tenantId: string, workflowId: string, q: ListRunsQuery): Promise<ListExecutionsReply> {
    // A deleted workflow's runs stay readable by id, but its list goes with it.
    if (!(await this.workflows.get(tenantId, workflowId))) throw notFound(workflowId);
    const page = await this.executor.list({ tenantId, workflowId, limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
    return { items: page.items, nextCursor: page.nextCursor ?? null };
  }

  /** Every run of the tenant: live ones first, then finished ones most recently finished first. */
  async listAll(tenantId: string, q: ListAllRunsQuery): Promise<ListExecutionsReply> {
    const page = await this.executor.listAll({
      tenantId,
      limit: q.limit,
      ...(q.workflowId !== undefined ? { workflowId: q.workflowId } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.from !== undefined ? { fromMs: q.from } : {}),
      ...(q.to !== undefined ? { toMs: q.to } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
    return { items: page.items, nextCursor: page.nextCursor ?? null };
  }

  private async start(
    tenantId: string,
    definition: WorkflowDefinition,
    input: Record<string, unknown> | undefined,
    idempotencyKey: string | undefined,
    origin: { workflowId?: string; version?: number },
  ): Promise<RunAccepted> {
    // The executor fills the declared defaults when the run starts; the input is checked here as
    // it will run, so a missing required value is a 400 before any run exists.
    const issues = checkRunInput(applyInputDefaults(definition, input ?? {}), definition.variables);
    if (issues.length > 0) throw new ApiError(400, issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
    const started = await this.executor.start({
      tenantId,
      definition,
      input: input ?? {},
      ...origin,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      depth: 0,
    });
    return { executionId: started.executionId, status: started.status };
  }
}

/** The `input` of a run body, before any check (undefined when there is none). */
function inputOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).input : undefined;
}

/**
 * Parses a run body. Prototype keys are refused before zod sees them: zod would assign an own
 * `__proto__` key (which this route's JSON parser keeps) and so change the object's prototype.
 */
function parseBody<S extends typeof StartWorkflowRunBody | typeof StartInlineRunBody>(schema: S, body: unknown) {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const bad = findUnsafeKey((body as Record<string, unknown>).input, 'input');
    if (bad) throw new ApiError(400, `${bad.field}: ${bad.message}`, [bad]);
    // What the databases cannot store exactly would leave the run without its durable row.
    const unstorable = findUnstorable((body as Record<string, unknown>).input);
    if (unstorable) {
      const field = formatPath(['input', ...unstorable.path]);
      throw new ApiError(400, `${field}: ${unstorable.message}`, [{ field, message: unstorable.message }]);
    }
    const top = Object.keys(body).find((k) => k === '__proto__' || k === 'constructor' || k === 'prototype');
    if (top) throw new ApiError(400, `${top}: not allowed as a key`, [{ field: top, message: 'not allowed as a key' }]);
  }
  return schema.parse(body) as ReturnType<S['parse']>;
}
