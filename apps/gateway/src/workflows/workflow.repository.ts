import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Filter } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Page } from '@toolpath/contracts';
import { decodeCursor, encodeCursor } from '@toolpath/event-store';
import type { WorkflowDefinition } from '@toolpath/workflow';

/**
 * The gateway is the single writer of the catalog. (These names belong in
 * `@toolpath/contracts` `Collections` once another service reads them.)
 */
export const WorkflowCollections = { workflows: 'workflows', versions: 'workflow_versions' } as const;

/** The latest version of a workflow, keyed `<tenantId>:<id>` so every lookup is an `_id` lookup. */
export interface WorkflowRow {
  _id: string;
  tenantId: string;
  id: string;
  version: number;
  definition: WorkflowDefinition;
  /** Denormalised for the list filters: the tools the steps (and compensations) call. */
  tools: string[];
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
  /** Where the workflow came from, when not written by hand: kept across versions. */
  origin?: WorkflowOrigin;
}

/** The template it was instantiated from, or the generation it was applied from. */
export interface WorkflowOrigin {
  templateId?: string;
  generationId?: string;
}

/** Every version ever stored, keyed `<tenantId>:<id>:<version>`; kept after a delete. */
export interface WorkflowVersionRow {
  _id: string;
  tenantId: string;
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  createdAt: Date;
}

export interface WorkflowFilter {
  q?: string;
  category?: string;
  tag?: string;
  tool?: string;
  source?: string;
}

/** Stored workflow as clients see it: the definition plus its identity and times (and origin, when it has one). */
export type StoredWorkflow = WorkflowDefinition & { id: string; version: number; createdAt: string; updatedAt: string } & WorkflowOrigin;

export class VersionConflictError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`workflow is at version ${actual}, not the expected ${expected}`);
    this.name = 'VersionConflictError';
  }
}

/** Retries of an update that lost a race for the next version number without expectedVersion. */
const UPDATE_ATTEMPTS = 5;

const rowKey = (tenantId: string, id: string) => `${tenantId}:${id}`;
const versionKey = (tenantId: string, id: string, version: number) => `${tenantId}:${id}:${version}`;

export function newWorkflowId(): string {
  return `wf_${randomBytes(10).toString('hex')}`;
}

function toolsOf(definition: WorkflowDefinition): string[] {
  const tools = new Set<string>();
  for (const step of definition.steps) {
    tools.add(step.tool);
    if (step.compensate) tools.add(step.compensate.tool);
  }
  return [...tools];
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

export function workflowView(row: Pick<WorkflowRow, 'id' | 'version' | 'definition' | 'createdAt' | 'updatedAt' | 'origin'>): StoredWorkflow {
  return { ...row.definition, id: row.id, version: row.version, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), ...row.origin };
}

/**
 * The only code that touches `workflows` and `workflow_versions`. Every method takes the tenant
 * first. No transactions (FerretDB has none): a version row is inserted before the head row moves
 * to it, and its `_id` is the version number, so two concurrent updates cannot both take it.
 */
@Injectable()
export class WorkflowRepository implements OnModuleInit {
  private readonly log = new Logger(WorkflowRepository.name);
  private readonly workflows: Collection<WorkflowRow>;
  private readonly versions: Collection<WorkflowVersionRow>;

  constructor(@InjectConnection() connection: Connection) {
    this.workflows = connection.db!.collection<WorkflowRow>(WorkflowCollections.workflows);
    this.versions = connection.db!.collection<WorkflowVersionRow>(WorkflowCollections.versions);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureIndexes();
  }

  /**
   * The catalog listing's index: a tenant's live workflows newest first (`list`'s filter and
   * sort), so MongoDB reads one page instead of sorting the tenant's whole catalog. FerretDB v1
   * creates it but does not use it (docs/PERFORMANCE.md, known slow spots). A failure is logged,
   * not fatal: listing still works, only slower.
   */
  async ensureIndexes(): Promise<void> {
    try {
      await this.workflows.createIndex({ tenantId: 1, createdAt: -1, _id: -1 }, { name: 'tenant_created' });
    } catch (err) {
      this.log.warn(`creating the workflows index failed: ${(err as Error).message}`);
    }
  }

  async create(tenantId: string, definition: WorkflowDefinition, origin?: WorkflowOrigin): Promise<WorkflowRow> {
    const id = newWorkflowId();
    const now = new Date();
    const stored = { ...definition, id };
    await this.versions.insertOne({ _id: versionKey(tenantId, id, 1), tenantId, workflowId: id, version: 1, definition: stored, createdAt: now });
    const row: WorkflowRow = { _id: rowKey(tenantId, id), tenantId, id, version: 1, definition: stored, tools: toolsOf(stored), createdAt: now, updatedAt: now, ...(origin ? { origin } : {}) };
    await this.workflows.insertOne(row);
    return row;
  }

  /** The live (not deleted) workflow, or undefined. */
  async get(tenantId: string, id: string): Promise<WorkflowRow | undefined> {
    const row = await this.workflows.findOne({ _id: rowKey(tenantId, id) });
    return row && !row.deletedAt ? row : undefined;
  }

  /** Newest first (createdAt, then _id), keyset-paginated. */
  async list(tenantId: string, f: WorkflowFilter, limit: number, cursor?: string): Promise<Page<WorkflowRow>> {
    const filter: Filter<WorkflowRow> = { tenantId, deletedAt: { $exists: false } };
    if (f.category !== undefined) filter['definition.category'] = f.category;
    if (f.source !== undefined) filter['definition.source'] = f.source;
    if (f.tag !== undefined) filter['definition.tags'] = f.tag;
    if (f.tool !== undefined) filter.tools = f.tool;
    const and: Filter<WorkflowRow>[] = [];
    if (f.q !== undefined) {
      const re = { $regex: escapeRegex(f.q), $options: 'i' };
      and.push({ $or: [{ 'definition.name': re }, { 'definition.description': re }] });
    }
    if (cursor) {
      const pos = decodeCursor(cursor);
      const at = new Date(pos.t);
      and.push({ $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: pos.id } }] });
    }
    if (and.length > 0) filter.$and = and;
    const rows = await this.workflows.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit + 1).toArray();
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const last = items[items.length - 1];
    return { items, nextCursor: more ? encodeCursor({ t: last.createdAt.getTime(), id: last._id }) : null };
  }

  /**
   * Stores `definition` as the next version. With `expectedVersion`, a mismatch (or losing a race
   * to another update of the same version) is a VersionConflictError. Undefined when not found.
   */
  async update(tenantId: string, id: string, definition: WorkflowDefinition, expectedVersion?: number): Promise<WorkflowRow | undefined> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.get(tenantId, id);
      if (!current) return undefined;
      if (expectedVersion !== undefined && current.version !== expectedVersion) throw new VersionConflictError(expectedVersion, current.version);
      const version = current.version + 1;
      const now = new Date();
      const stored = { ...definition, id };
      try {
        await this.versions.insertOne({ _id: versionKey(tenantId, id, version), tenantId, workflowId: id, version, definition: stored, createdAt: now });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        if (expectedVersion !== undefined) throw new VersionConflictError(expectedVersion, version);
        continue;
      }
      const set = { version, definition: stored, tools: toolsOf(stored), updatedAt: now };
      // Only forward: a slower writer of an older version never moves the head back.
      await this.workflows.updateOne({ _id: current._id, version: { $lt: version } }, { $set: set });
      return { ...current, ...set };
    }
    throw new VersionConflictError(expectedVersion ?? -1, -1);
  }

  /** Soft delete: gone from lists and gets; its versions stay. False when there was none. */
  async softDelete(tenantId: string, id: string): Promise<boolean> {
    const res = await this.workflows.updateOne({ _id: rowKey(tenantId, id), deletedAt: { $exists: false } }, { $set: { deletedAt: new Date() } });
    return res.matchedCount > 0;
  }

  /** Versions of a live workflow, newest first (bounded: a workflow has as many as it was edited). */
  async listVersions(tenantId: string, id: string, limit: number, beforeVersion?: number): Promise<Page<WorkflowVersionRow>> {
    const head = await this.get(tenantId, id);
    if (!head) return { items: [], nextCursor: null };
    // Version _ids are known, so this is an `_id $in` read rather than a scan.
    const top = Math.min(head.version, beforeVersion !== undefined ? beforeVersion - 1 : head.version);
    const wanted: string[] = [];
    for (let v = top; v >= 1 && wanted.length < limit; v--) wanted.push(versionKey(tenantId, id, v));
    const rows = wanted.length > 0 ? await this.versions.find({ _id: { $in: wanted } }).toArray() : [];
    rows.sort((a, b) => b.version - a.version);
    const lowest = top - wanted.length + 1;
    return { items: rows, nextCursor: wanted.length > 0 && lowest > 1 ? String(lowest) : null };
  }

  async getVersion(tenantId: string, id: string, version: number): Promise<WorkflowVersionRow | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    return (await this.versions.findOne({ _id: versionKey(tenantId, id, version) })) ?? undefined;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
