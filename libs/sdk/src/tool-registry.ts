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
  /** ISO-8601 time of the last announce (for a served tool: the last heartbeat). */
  updatedAt: string;
  /**
   * ISO-8601 time after which the entry is stale unless announced again. Written as `updatedAt` +
   * the provider's TTL by the provider's clock; read back (`get`, `list`, `describe`) as the time
   * the registry stored it + that TTL, so a provider whose clock is off neither expires at once
   * nor outlives its TTL. Absent: a static registration (`announce` without `ttlMs`, or an entry
   * written by an older SDK or by hand), which never expires.
   */
  expiresAt?: string;
  provider: ToolProviderInfo;
}

/** What the registry knows about one tool name (`ToolRegistry.describe`). */
export type ToolRegistration =
  | { name: string; state: 'live'; entry: ToolRegistryEntry; message: string }
  /** The entry is there but no provider re-announced it before `entry.expiresAt`. */
  | { name: string; state: 'expired'; entry: ToolRegistryEntry; message: string }
  /** Never announced, removed, or unreadable. */
  | { name: string; state: 'absent'; message: string };

/** Most entries `list()` returns unless told otherwise. */
export const DEFAULT_TOOL_LIST_LIMIT = 1000;
/** How long a served tool's entry stays live after a heartbeat unless told otherwise. */
export const DEFAULT_TOOL_TTL_MS = 30_000;
/** How often `serveTool` re-announces unless told otherwise (a third of the TTL). */
export const DEFAULT_TOOL_HEARTBEAT_MS = 10_000;

/** Whether `entry` is live at `now` (entries without `expiresAt` never expire). */
export function isToolEntryLive(entry: ToolRegistryEntry, now: number = Date.now()): boolean {
  if (entry.expiresAt === undefined) return true;
  const t = Date.parse(entry.expiresAt);
  return Number.isFinite(t) && t > now;
}

const PROCESS_PROVIDER_ID = randomUUID();

/** Provider info of this process (shared by every `ToolRegistry` without an explicit one). */
export function localProviderInfo(): ToolProviderInfo {
  return { id: PROCESS_PROVIDER_ID, host: hostname(), pid: process.pid, sdk: 'typescript' };
}

/**
 * The tool registry: a NATS KV bucket `toolRegistryBucket(prefix)` (`<prefix>_tools`, history 1,
 * created on first use) whose keys are tool names and whose values are JSON
 * `{ name, description, inputSchema, outputSchema?, updatedAt, expiresAt?, provider }`.
 *
 * Liveness: `serveTool` re-announces every `heartbeatMs` with `expiresAt = now + ttlMs`; readers
 * (`get`, `list`) return only entries whose `expiresAt` is still ahead, so a provider that died
 * drops out within the TTL, and `describe` says it expired. Readers count the TTL from when the
 * server stored the entry (`onRegistryClock`), not from the provider's clock. Several instances of one provider
 * write the same key (the last write wins; they serve the same definition), so the entry lives
 * while any of them heartbeats; an instance that stops just stops writing, never deletes.
 * Entries without `expiresAt` (static registrations, older SDKs) never expire. The bucket itself
 * is unchanged (no `max_age`): buckets created before liveness existed work as they are.
 * `remove()` retires a tool for good, once no provider of it runs (a live one re-announces).
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

  /**
   * Validates `def` against `ToolDefinitionSchema` and writes it; returns the stored entry. With
   * `ttlMs` the entry expires that long after this write unless announced again (what
   * `serveTool`'s heartbeat does); without it the registration is static and never expires.
   */
  async announce(def: ToolDefinition, opts: { ttlMs?: number } = {}): Promise<ToolRegistryEntry> {
    const parsed = ToolDefinitionSchema.safeParse(def);
    if (!parsed.success) {
      throw new Error(`invalid tool definition: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    if (opts.ttlMs !== undefined && !(Number.isFinite(opts.ttlMs) && opts.ttlMs > 0)) {
      throw new Error(`invalid ttlMs ${opts.ttlMs}: must be a positive number of milliseconds`);
    }
    const now = Date.now();
    const entry: ToolRegistryEntry = {
      ...parsed.data,
      updatedAt: new Date(now).toISOString(),
      ...(opts.ttlMs !== undefined ? { expiresAt: new Date(now + opts.ttlMs).toISOString() } : {}),
      provider: this.provider,
    };
    const kv = await this.kv();
    await kv.put(parsed.data.name, JSON.stringify(entry));
    return entry;
  }

  /** The live entry for `name`, or `null` when absent, expired, deleted or unreadable. */
  async get(name: string): Promise<ToolRegistryEntry | null> {
    const entry = await this.read(name);
    return entry && isToolEntryLive(entry) ? entry : null;
  }

  /** Whether `name` is live, expired (with the stale entry) or absent, with a sentence saying so. */
  async describe(name: string): Promise<ToolRegistration> {
    const entry = await this.read(name);
    if (!entry) return { name, state: 'absent', message: `tool ${name} is not in the registry` };
    if (isToolEntryLive(entry)) {
      const until = entry.expiresAt ? `, live until ${entry.expiresAt} unless announced again` : ', a static registration';
      return { name, state: 'live', entry, message: `tool ${name} was announced at ${entry.updatedAt}${until}` };
    }
    return {
      name,
      state: 'expired',
      entry,
      message: `tool ${name} expired at ${entry.expiresAt}: no provider has announced it since ${entry.updatedAt}`,
    };
  }

  /**
   * Up to `limit` (default 1000) live entries (with `includeExpired`, expired ones too), sorted
   * by name. Unreadable values are skipped, so one foreign writer cannot break the listing.
   */
  async list(limit = DEFAULT_TOOL_LIST_LIMIT, opts: { includeExpired?: boolean } = {}): Promise<ToolRegistryEntry[]> {
    const out: ToolRegistryEntry[] = [];
    if (limit <= 0) return out;
    const kv = await this.kv();
    // Every key is read, not just the first `limit`: expired entries stay in the bucket and
    // must not crowd live ones out of the listing.
    const names: string[] = [];
    for await (const key of await kv.keys()) names.push(key);
    const now = Date.now();
    for (const name of names.sort()) {
      const entry = await this.read(name);
      if (entry && (opts.includeExpired || isToolEntryLive(entry, now))) out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Deletes `name` from the registry (a no-op if absent). */
  async remove(name: string): Promise<void> {
    if (!ToolDefinitionSchema.shape.name.safeParse(name).success) return;
    const kv = await this.kv();
    await kv.delete(name);
  }

  /** The stored entry for `name`, live or not; `null` when absent, deleted or unreadable. */
  private async read(name: string): Promise<ToolRegistryEntry | null> {
    if (!ToolDefinitionSchema.shape.name.safeParse(name).success) return null;
    const kv = await this.kv();
    const e = await kv.get(name);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    const entry = parseToolRegistryEntry(e.string());
    return entry && onRegistryClock(entry, e.created);
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
 * `entry` with its expiry moved onto the registry's clock: the provider's TTL (its `expiresAt`
 * minus its `updatedAt`, both by its own clock) counted from `storedAt`, when the NATS server
 * stored the entry. An entry without a TTL, or with one that does not read as positive, is left
 * as it is (never expiring, or expired).
 */
export function onRegistryClock(entry: ToolRegistryEntry, storedAt: Date): ToolRegistryEntry {
  if (entry.expiresAt === undefined) return entry;
  const ttl = Date.parse(entry.expiresAt) - Date.parse(entry.updatedAt);
  const stored = storedAt.getTime();
  if (!(Number.isFinite(ttl) && ttl > 0 && Number.isFinite(stored))) return entry;
  return { ...entry, expiresAt: new Date(stored + ttl).toISOString() };
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
  // A malformed expiresAt reads as already expired (isToolEntryLive): a writer that meant to
  // expire must not become permanent by a typo.
  const expiresAt = obj.expiresAt === undefined || obj.expiresAt === null ? undefined : String(obj.expiresAt);
  return { ...def.data, updatedAt: obj.updatedAt, ...(expiresAt !== undefined ? { expiresAt } : {}), provider };
}
