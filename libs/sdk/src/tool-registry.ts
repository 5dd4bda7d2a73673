import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import { ToolDefinitionSchema, toolRegistryBucket, type ToolDefinition } from '@toolpath/contracts';

/** Who announced a tool: enough to tell instances apart in the registry, never a secret. */
export interface ToolProviderInfo {
  /** Random per process (per `ToolRegistry` unless given). */
  id: string;
  host?: string;
  pid?: number;
  /** `typescript` or `python`. */
  sdk: string;
}

/** One registry value: the announced definition, when it was announced and by whom. */
export interface ToolRegistryEntry extends ToolDefinition {
  /** ISO-8601 time of the last announce. */
  updatedAt: string;
  provider: ToolProviderInfo;
}

/** Most entries `list()` returns unless told otherwise. */
export const DEFAULT_TOOL_LIST_LIMIT = 1000;

const PROCESS_PROVIDER_ID = randomUUID();

/** Provider info of this process (shared by every `ToolRegistry` without an explicit one). */
export function localProviderInfo(): ToolProviderInfo {
  return { id: PROCESS_PROVIDER_ID, host: hostname(), pid: process.pid, sdk: 'typescript' };
}

/**
 * The tool registry: a NATS KV bucket `toolRegistryBucket(prefix)` (`<prefix>_tools`, history 1,
 * created on first use) whose keys are tool names and whose values are JSON
 * `{ name, description, inputSchema, outputSchema?, updatedAt, provider }`.
 *
 * Several instances of one provider announce the same key; the last announce wins, which is
 * fine because they serve the same definition. Nothing expires on its own: `remove()` when a tool
 * is retired for good (not when one instance stops: others may still serve it).
 */
export class ToolRegistry {
  readonly bucket: string;
  private kvPromise?: Promise<KV>;

  constructor(
    private readonly nc: NatsConnection,
    readonly prefix: string,
    private readonly provider: ToolProviderInfo = localProviderInfo(),
  ) {
    this.bucket = toolRegistryBucket(prefix);
  }

  /** Validates `def` against `ToolDefinitionSchema` and writes it; returns the stored entry. */
  async announce(def: ToolDefinition): Promise<ToolRegistryEntry> {
    const parsed = ToolDefinitionSchema.safeParse(def);
    if (!parsed.success) {
      throw new Error(`invalid tool definition: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    const entry: ToolRegistryEntry = { ...parsed.data, updatedAt: new Date().toISOString(), provider: this.provider };
    const kv = await this.kv();
    await kv.put(parsed.data.name, JSON.stringify(entry));
    return entry;
  }

  /** The entry for `name`, or `null` when absent, deleted or unreadable. */
  async get(name: string): Promise<ToolRegistryEntry | null> {
    if (!ToolDefinitionSchema.shape.name.safeParse(name).success) return null;
    const kv = await this.kv();
    const e = await kv.get(name);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    return parseToolRegistryEntry(e.string());
  }

  /**
   * Up to `limit` (default 1000) entries, sorted by name. Unreadable values are skipped, so one
   * foreign writer cannot break the listing.
   */
  async list(limit = DEFAULT_TOOL_LIST_LIMIT): Promise<ToolRegistryEntry[]> {
    const kv = await this.kv();
    const names: string[] = [];
    if (limit > 0) {
      const keys = await kv.keys();
      for await (const key of keys) {
        names.push(key);
        if (names.length >= limit) {
          keys.stop();
          break;
        }
      }
    }
    const out: ToolRegistryEntry[] = [];
    for (const name of names.sort()) {
      const entry = await this.get(name);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Deletes `name` from the registry (a no-op if absent). */
  async remove(name: string): Promise<void> {
    if (!ToolDefinitionSchema.shape.name.safeParse(name).success) return;
    const kv = await this.kv();
    await kv.delete(name);
  }

  private kv(): Promise<KV> {
    if (!this.kvPromise) {
      const p = this.nc.jetstream().views.kv(this.bucket, { history: 1 });
      // A failed open (JetStream down) is not cached: the next call tries again.
      p.catch(() => {
        if (this.kvPromise === p) this.kvPromise = undefined;
      });
      this.kvPromise = p;
    }
    return this.kvPromise;
  }
}

/**
 * A stored value as an entry, or `null` if it is not one. The definition part must satisfy
 * `ToolDefinitionSchema`; a missing or malformed `provider` (a foreign writer) reads as unknown.
 */
export function parseToolRegistryEntry(text: string): ToolRegistryEntry | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const obj = raw as Record<string, unknown>;
  const def = ToolDefinitionSchema.safeParse(obj);
  if (!def.success || typeof obj.updatedAt !== 'string') return null;
  const p = obj.provider as Record<string, unknown> | undefined;
  const provider: ToolProviderInfo =
    p && typeof p === 'object' && typeof p.id === 'string' && typeof p.sdk === 'string'
      ? { id: p.id, sdk: p.sdk, ...(typeof p.host === 'string' ? { host: p.host } : {}), ...(typeof p.pid === 'number' ? { pid: p.pid } : {}) }
      : { id: 'unknown', sdk: 'unknown' };
  return { ...def.data, updatedAt: obj.updatedAt, provider };
}
