import { Inject, Injectable, Logger } from '@nestjs/common';
import { BUILTIN_TOOLS, type ToolDefinition } from '@toolpath/contracts';
import { APP_CONFIG, NatsClient } from '@toolpath/platform';
import { ToolRegistry } from '@toolpath/sdk';
import type { GeneratorConfig } from '../generator.config';
import { TextIndex, type TextHit } from '../search/text-index';

/** Most registry entries read; a registry larger than this is listed in part (and said so). */
const REGISTRY_LIMIT = 2000;

export interface ToolDoc {
  id: string;
  description: string;
  builtin: boolean;
}

/** The tools that exist: the executor's built-ins and what providers announced in the registry. */
export class ToolSet {
  readonly byName: ReadonlyMap<string, ToolDefinition & { builtin: boolean }>;
  private readonly index = new TextIndex<ToolDoc>(['id', 'description'], { id: 2 });

  constructor(
    registry: ToolDefinition[],
    readonly loadedAt: number,
    /** Why the registry could not be read, when it could not (the built-ins are still there). */
    readonly registryError?: string,
  ) {
    const all = new Map<string, ToolDefinition & { builtin: boolean }>();
    for (const t of registry) all.set(t.name, { ...t, builtin: false });
    for (const t of BUILTIN_TOOLS) all.set(t.name, { ...t, builtin: true });
    this.byName = all;
    this.index.addAll([...all.values()].map((t) => ({ id: t.name, description: t.description, builtin: t.builtin })));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  search(text: string, limit: number): TextHit[] {
    return this.index.search(text, limit);
  }
}

/**
 * The tool registry (NATS KV, read through the SDK's ToolRegistry) plus the built-ins, cached for
 * GENERATOR_CATALOG_TTL_MS and refreshed in the background. A registry that cannot be read
 * leaves the built-ins, and the generation says so in a warning.
 */
@Injectable()
export class ToolCatalog {
  private readonly log = new Logger('ToolCatalog');
  private current?: ToolSet;
  private loading?: Promise<ToolSet>;
  private registry?: ToolRegistry;

  constructor(
    private readonly nats: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GeneratorConfig,
  ) {}

  async get(): Promise<ToolSet> {
    const current = this.current;
    if (current && !current.registryError) {
      if (Date.now() - current.loadedAt > this.config.GENERATOR_CATALOG_TTL_MS) void this.load();
      return current;
    }
    return this.load();
  }

  invalidate(): void {
    this.current = undefined;
  }

  private load(): Promise<ToolSet> {
    this.loading ??= this.read().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async read(): Promise<ToolSet> {
    this.registry ??= new ToolRegistry(this.nats.nc, this.config.TOOLPATH_SUBJECT_PREFIX);
    let set: ToolSet;
    try {
      const entries = await withTimeout(this.registry.list(REGISTRY_LIMIT), this.config.DEPENDENCY_TIMEOUT_MS);
      set = new ToolSet(
        entries.map(({ name, description, inputSchema, outputSchema }) => ({ name, description, inputSchema, ...(outputSchema ? { outputSchema } : {}) })),
        Date.now(),
      );
    } catch (err) {
      const why = (err as Error).message;
      this.log.warn(`tool registry unreadable: ${why}`);
      set = new ToolSet([], Date.now(), why);
    }
    this.current = set;
    return set;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
