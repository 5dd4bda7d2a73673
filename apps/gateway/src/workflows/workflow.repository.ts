import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Filter } from 'mongodb';
import type { Connection } from 'mongoose';
import { Collections, type Page } from '@toolpath/contracts';
import { cursorTime, decodeCursor, encodeCursor } from '@toolpath/event-store';
import { toolsOfWorkflow, type WorkflowDefinition } from '@toolpath/workflow';
import {
  catalogFilter,
  workflowRowId,
  workflowVersionRowId,
  type CatalogFilter,
  type WorkflowOrigin,
  type WorkflowRow,
  type WorkflowVersionRow,
} from '@toolpath/workflow-store';

export interface WorkflowFilter extends CatalogFilter {
  q?: string;
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

export function newWorkflowId(): string {
  return `wf_${randomBytes(10).toString('hex')}`;
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

export function workflowView(row: Pick<WorkflowRow, 'id' | 'version' | 'definition' | 'createdAt' | 'updatedAt' | 'origin'>): StoredWorkflow {
  return { ...row.definition, id: row.id, version: row.version, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), ...row.origin };
}

/**
 * The only code that writes `workflows` and `workflow_versions` (their row types, and the reads
 * other services make, are in `@toolpath/workflow-store`). Every method takes the tenant
 * first. No transactions (FerretDB has none): a version row is inserted before the head row moves
 * to it, and its `_id` is the version number, so two concurrent updates cannot both take it.
 */
@Injectable()
export class WorkflowRepository implements OnModuleInit {
  private readonly log = new Logger(WorkflowRepository.name);
  private readonly workflows: Collection<WorkflowRow>;
  private readonly versions: Collection<WorkflowVersionRow>;

  constructor(@InjectConnection() connection: Connection) {
    this.workflows = connection.db!.collection<WorkflowRow>(Collections.workflows);
    this.versions = connection.db!.collection<WorkflowVersionRow>(Collections.workflowVersions);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureIndexes();
  }

  private readonly writeListeners = new Set<(tenantId: string) => void>();

  /** Calls `listener` after each write of a tenant's catalog (the MCP server's workflow tools follow it); returns the unsubscribe. */
  onWrite(listener: (tenantId: string) => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  private wrote(tenantId: string): void {
    for (const listener of this.writeListeners) listener(tenantId);
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
    await this.versions.insertOne({ _id: workflowVersionRowId(tenantId, id, 1), tenantId, workflowId: id, version: 1, definition: stored, createdAt: now });
    const row: WorkflowRow = { _id: workflowRowId(tenantId, id), tenantId, id, version: 1, definition: stored, tools: toolsOfWorkflow(stored), createdAt: now, updatedAt: now, ...(origin ? { origin } : {}) };
    await this.workflows.insertOne(row);
    this.wrote(tenantId);
    return row;
  }

  /** The live (not deleted) workflow, or undefined. */
  async get(tenantId: string, id: string): Promise<WorkflowRow | undefined> {
    const row = await this.workflows.findOne({ _id: workflowRowId(tenantId, id) });
    return row && !row.deletedAt ? row : undefined;
  }

  /** Newest first (createdAt, then _id), keyset-paginated. */
  async list(tenantId: string, f: WorkflowFilter, limit: number, cursor?: string): Promise<Page<WorkflowRow>> {
    const filter = catalogFilter(tenantId, f);
    const and: Filter<WorkflowRow>[] = [];
    if (f.q !== undefined) {
      const re = { $regex: escapeRegex(f.q), $options: 'i' };
      and.push({ $or: [{ 'definition.name': re }, { 'definition.description': re }] });
    }
    if (cursor) {
      const pos = decodeCursor(cursor);
      const at = cursorTime(pos.value);
      and.push({ $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: pos.id } }] });
    }
    if (and.length > 0) filter.$and = and;
    const rows = await this.workflows.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit + 1).toArray();
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const last = items[items.length - 1];
    return { items, nextCursor: more ? encodeCursor(last.createdAt.getTime(), last._id) : null };
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
        await this.versions.insertOne({ _id: workflowVersionRowId(tenantId, id, version), tenantId, workflowId: id, version, definition: stored, createdAt: now });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        if (expectedVersion !== undefined) throw new VersionConflictError(expectedVersion, version);
        continue;
      }
      const set = { version, definition: stored, tools: toolsOfWorkflow(stored), updatedAt: now };
      // Only forward: a slower writer of an older version never moves the head back.
      await this.workflows.updateOne({ _id: current._id, version: { $lt: version } }, { $set: set });
      this.wrote(tenantId);
      return { ...current, ...set };
    }
    throw new VersionConflictError(expectedVersion ?? -1, -1);
  }

  /** Soft delete: gone from lists and gets; its versions stay. False when there was none. */
  async softDelete(tenantId: string, id: string): Promise<boolean> {
    const res = await this.workflows.updateOne({ _id: workflowRowId(tenantId, id), deletedAt: { $exists: false } }, { $set: { deletedAt: new Date() } });
    if (res.modifiedCount > 0) this.wrote(tenantId);
    return res.matchedCount > 0;
  }

  /** Versions of a live workflow, newest first (bounded: a workflow has as many as it was edited). */
  async listVersions(tenantId: string, id: string, limit: number, beforeVersion?: number): Promise<Page<WorkflowVersionRow>> {
    const head = await this.get(tenantId, id);
    if (!head) return { items: [], nextCursor: null };
    // Version _ids are known, so this is an `_id $in` read rather than a scan.
    const top = Math.min(head.version, beforeVersion !== undefined ? beforeVersion - 1 : head.version);
    const wanted: string[] = [];
    for (let v = top; v >= 1 && wanted.length < limit; v--) wanted.push(workflowVersionRowId(tenantId, id, v));
    const rows = wanted.length > 0 ? await this.versions.find({ _id: { $in: wanted } }).toArray() : [];
    rows.sort((a, b) => b.version - a.version);
    const lowest = top - wanted.length + 1;
    return { items: rows, nextCursor: wanted.length > 0 && lowest > 1 ? String(lowest) : null };
  }

  async getVersion(tenantId: string, id: string, version: number): Promise<WorkflowVersionRow | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    return (await this.versions.findOne({ _id: workflowVersionRowId(tenantId, id, version) })) ?? undefined;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
