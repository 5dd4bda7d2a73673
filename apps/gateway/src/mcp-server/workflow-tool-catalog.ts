import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Collection, Filter } from 'mongodb';
import type { Connection } from 'mongoose';
import { Collections } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import { catalogFilter, promotedPatternOf, type WorkflowRow } from '@toolpath/workflow-store';
import type { GatewayConfig } from '../gateway.config';
import { WorkflowRepository } from '../workflows/workflow.repository';
import { assignToolNames, workflowTool, type WorkflowEvidence, type WorkflowForTool } from './workflow-tool-definition';

/** One workflow offered as a tool. */
export interface WorkflowToolEntry {
  name: string;
  workflowId: string;
  tool: Tool;
}

interface TenantTools {
  /** `id:version` of the chosen workflows, newest first: what a poll compares. */
  fingerprint: string;
  entries: WorkflowToolEntry[];
  byName: Map<string, WorkflowToolEntry>;
  byWorkflow: Map<string, WorkflowToolEntry>;
  readAt: number;
}

/** The fields of a `patterns` row the evidence needs (the analyzer writes them; docs/ARCHITECTURE.md). */
interface PatternEvidenceRow {
  id: string;
  support: number;
  successRate: number;
}

/** Pattern rows read in parallel for the evidence of the workflow tools. */
const EVIDENCE_READS_AT_ONCE = 8;

/** A burst of catalog writes (a promotion run stores several) is one re-read. */
const WRITE_DEBOUNCE_MS = 50;

/**
 * The catalog workflows chosen to be MCP tools of their own, per tenant: those tagged
 * GATEWAY_MCP_WORKFLOW_TAG, or (by default) every `learned` one, newest first, at most
 * GATEWAY_MCP_MAX_WORKFLOW_TOOLS. Kept in memory. For tenants someone listens to (a live MCP
 * session), the listeners are told when the set moved (a workflow added, edited, deleted): at
 * once after a write through this gateway (WorkflowRepository.onWrite), and, for writes made by
 * another gateway instance, by a poll every GATEWAY_MCP_CATALOG_POLL_MS that reads ids and
 * versions only. (On FerretDB a read of a 10,000-workflow catalog takes seconds whatever its
 * projection, so a tight poll would cost more than the writes it looks for.)
 */
@Injectable()
export class WorkflowToolCatalog implements OnModuleDestroy {
  private readonly log = new Logger('McpWorkflowTools');
  private readonly rows: Collection<WorkflowRow>;
  private readonly patterns: Collection<PatternEvidenceRow & { _id: string; tenantId: string }>;
  private readonly cache = new Map<string, TenantTools>();
  private readonly loading = new Map<string, Promise<TenantTools>>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;
  private readonly pendingWrites = new Map<string, NodeJS.Timeout>();
  private readonly offWrite: () => void;
  /** Names the workflow tools never take (the other tools of the Toolpath provider). */
  private reserved: ReadonlySet<string> = new Set();

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    repo: WorkflowRepository,
  ) {
    this.rows = connection.db!.collection<WorkflowRow>(Collections.workflows);
    this.patterns = connection.db!.collection(Collections.patterns);
    this.offWrite = repo.onWrite((tenantId) => this.wrote(tenantId));
  }

  reserve(names: Iterable<string>): void {
    this.reserved = new Set(names);
  }

  /** Which workflows become tools, in words (for docs and logs). */
  get selection(): string {
    return this.config.GATEWAY_MCP_WORKFLOW_TAG ? `tagged "${this.config.GATEWAY_MCP_WORKFLOW_TAG}"` : 'of source "learned"';
  }

  /** The tenant's workflow tools (from memory while fresh or watched). */
  async tools(tenantId: string): Promise<WorkflowToolEntry[]> {
    return (await this.current(tenantId)).entries;
  }

  async byName(tenantId: string, name: string): Promise<WorkflowToolEntry | undefined> {
    return (await this.current(tenantId)).byName.get(name);
  }

  /** The tool name of a workflow when it is offered and already in memory (no read: suggestions stay fast). */
  cachedNameOf(tenantId: string, workflowId: string): string | undefined {
    return this.cache.get(tenantId)?.byWorkflow.get(workflowId)?.name;
  }

  /** Calls `listener` whenever the tenant's set of workflow tools changes; returns the unsubscribe. */
  watch(tenantId: string, listener: () => void): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    set.add(listener);
    this.timer ??= setInterval(() => void this.poll(), this.config.GATEWAY_MCP_CATALOG_POLL_MS).unref();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenantId);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.offWrite();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.pendingWrites.values()) clearTimeout(t);
    this.pendingWrites.clear();
    this.listeners.clear();
  }

  /** A write of the tenant's catalog: nobody listening, the next read is fresh; else re-read soon and tell them. */
  private wrote(tenantId: string): void {
    if (!this.listeners.has(tenantId)) {
      this.cache.delete(tenantId);
      return;
    }
    if (this.pendingWrites.has(tenantId) || this.stopped) return;
    this.pendingWrites.set(
      tenantId,
      setTimeout(() => {
        this.pendingWrites.delete(tenantId);
        void this.reread(tenantId).catch((err: Error) => {
          if (!this.stopped) this.log.warn(`re-reading ${tenantId}'s workflow tools failed: ${err.message}`);
        });
      }, WRITE_DEBOUNCE_MS),
    );
  }

  /** Reads the set again and tells the listeners when it differs from the one they had. */
  private async reread(tenantId: string): Promise<void> {
    const before = this.cache.get(tenantId)?.fingerprint;
    const after = await this.read(tenantId);
    if (before !== undefined && before !== after.fingerprint) for (const listener of this.listeners.get(tenantId) ?? []) listener();
  }

  private filter(tenantId: string): Filter<WorkflowRow> {
    const tag = this.config.GATEWAY_MCP_WORKFLOW_TAG;
    return catalogFilter(tenantId, tag ? { tag } : { source: 'learned' });
  }

  private async current(tenantId: string): Promise<TenantTools> {
    const cached = this.cache.get(tenantId);
    if (cached && (this.listeners.has(tenantId) || Date.now() - cached.readAt < this.config.GATEWAY_MCP_CATALOG_POLL_MS)) return cached;
    return this.load(tenantId);
  }

  private load(tenantId: string): Promise<TenantTools> {
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.read(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  private async read(tenantId: string): Promise<TenantTools> {
    const rows = await this.rows
      .find(this.filter(tenantId), { projection: { _id: 0, id: 1, version: 1, definition: 1 } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(this.config.GATEWAY_MCP_MAX_WORKFLOW_TOOLS)
      .toArray();
    const evidence = await this.evidence(tenantId, rows);
    const oldestFirst = [...rows].reverse();
    const names = assignToolNames(oldestFirst.map((r) => ({ id: r.id, name: r.definition.name })), this.reserved);
    const entries = rows.map((r): WorkflowToolEntry => {
      const w: WorkflowForTool = { id: r.id, version: r.version, definition: r.definition, ...(evidence.has(r.id) ? { evidence: evidence.get(r.id)! } : {}) };
      const name = names.get(r.id)!;
      return { name, workflowId: r.id, tool: workflowTool(name, w, this.config.GATEWAY_MCP_RUN_WAIT_MS) };
    });
    const tools: TenantTools = {
      fingerprint: fingerprintOf(rows),
      entries,
      byName: new Map(entries.map((e) => [e.name, e])),
      byWorkflow: new Map(entries.map((e) => [e.workflowId, e])),
      readAt: Date.now(),
    };
    this.cache.set(tenantId, tools);
    return tools;
  }

  /** Support and success rate of the patterns the workflows were promoted from, by workflow id. */
  private async evidence(tenantId: string, rows: Array<Pick<WorkflowRow, 'id' | 'definition'>>): Promise<Map<string, WorkflowEvidence>> {
    const byPattern = new Map<string, string>();
    for (const r of rows) {
      const patternId = promotedPatternOf(r.definition.tags ?? []);
      if (patternId) byPattern.set(patternId, r.id);
    }
    const out = new Map<string, WorkflowEvidence>();
    if (byPattern.size === 0) return out;
    try {
      // One `_id` lookup per pattern, a few at a time: FerretDB answers an `_id` equality from its
      // primary key, but scans the whole collection for an `_id: { $in }` (seconds at 10,000 patterns).
      const ids = [...byPattern.keys()];
      for (let i = 0; i < ids.length; i += EVIDENCE_READS_AT_ONCE) {
        const found = await Promise.all(
          ids.slice(i, i + EVIDENCE_READS_AT_ONCE).map((id) => this.patterns.findOne({ _id: `${tenantId}:${id}` }, { projection: { _id: 0, id: 1, support: 1, successRate: 1 } })),
        );
        for (const p of found) {
          const workflowId = p ? byPattern.get(p.id) : undefined;
          if (p && workflowId && Number.isFinite(p.support) && Number.isFinite(p.successRate)) out.set(workflowId, { patternId: p.id, support: p.support, successRate: p.successRate });
        }
      }
    } catch (err) {
      // The tools stay usable without their evidence.
      this.log.warn(`reading the evidence of ${tenantId}'s workflow tools failed: ${(err as Error).message}`);
    }
    return out;
  }

  /** One cheap read per watched tenant (ids and versions); a full read only when they moved. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const tenantId of [...this.listeners.keys()]) {
        try {
          const heads = await this.rows
            .find(this.filter(tenantId), { projection: { _id: 0, id: 1, version: 1 } })
            .sort({ createdAt: -1, _id: -1 })
            .limit(this.config.GATEWAY_MCP_MAX_WORKFLOW_TOOLS)
            .toArray();
          const before = this.cache.get(tenantId);
          if (before && before.fingerprint === fingerprintOf(heads)) {
            before.readAt = Date.now();
            continue;
          }
          // The first read for a tenant is no change: its sessions just listed what there is.
          await this.reread(tenantId);
        } catch (err) {
          // At shutdown the database closes under a poll in flight: nothing to report.
          if (!this.stopped) this.log.warn(`polling ${tenantId}'s workflow tools failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.polling = false;
    }
  }
}

function fingerprintOf(rows: Array<Pick<WorkflowRow, 'id' | 'version'>>): string {
  return rows.map((r) => `${r.id}:${r.version}`).join(',');
}
