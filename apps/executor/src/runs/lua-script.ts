import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';

/**
 * The executor's Lua scripts, one `.lua` file each in `apps/executor/lua/`. The directory sits
 * beside `src/` and `dist/`, so the same path finds it from the sources (jest) and from the build
 * (`tsc -b` copies no other files, and the Docker image copies the directory like a lib's data).
 */
export const LUA_DIR = join(__dirname, '..', '..', 'lua');

const INCLUDE = /^--\s*include:\s*([a-z0-9-]+)\s*$/;
const MAX_INCLUDE_DEPTH = 4;

/**
 * A script's text as Redis gets it: each `-- include: <name>` line replaced by `<name>.lua` (a
 * shared part), and whole-line comments and blank lines left out, so the headers cost nothing
 * on the wire (a script queued into a transaction is sent in full every time).
 */
export function loadLua(name: string, dir = LUA_DIR): string {
  return expand(name, dir, [])
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('--'))
    .join('\n');
}

function expand(name: string, dir: string, chain: readonly string[]): string[] {
  if (chain.includes(name)) throw new Error(`lua: ${[...chain, name].join(' -> ')} includes itself`);
  if (chain.length > MAX_INCLUDE_DEPTH) throw new Error(`lua: includes nest deeper than ${MAX_INCLUDE_DEPTH} at ${name}`);
  const out: string[] = [];
  for (const line of readFileSync(join(dir, `${name}.lua`), 'utf8').split('\n')) {
    const include = INCLUDE.exec(line.trim());
    if (include) out.push(...expand(include[1], dir, [...chain, name]));
    else out.push(line);
  }
  return out;
}

type Arg = string | number;

/** What a script is called with: its keys and arguments by name (the header's), then its tail. */
export type LuaInput<K extends string, A extends string, T extends string> = { readonly [k in K]: string } & { readonly [a in A]: Arg } & {
  readonly [t in T]: readonly Arg[];
};

export interface LuaScriptSpec<K extends string, A extends string, T extends string, R> {
  /** The file's name without `.lua`. */
  file: string;
  /** KEYS in order, named as the file's header names them. */
  keys: readonly K[];
  /** ARGV in order, named as the file's header names them. */
  argv: readonly A[];
  /** The name of the variable-length tail of ARGV, if the script takes one. */
  tail?: T;
  /** The reply, typed. */
  reply: (raw: unknown) => R;
}

/**
 * One Lua script with named arguments: the one place that puts them in the order the script reads
 * (KEYS, then ARGV, then the tail) and that types the reply. It runs as an ioredis defined command
 * (EVALSHA, falling back to EVAL) or, queued into another client's transaction, as EVAL.
 */
export class LuaScript<K extends string, A extends string, T extends string, R> {
  readonly lua: string;
  /** The command name on a client the script is defined on. */
  readonly command: string;

  constructor(readonly spec: LuaScriptSpec<K, A, T, R>) {
    this.lua = loadLua(spec.file);
    this.command = `tp_${spec.file.replace(/-/g, '_')}`;
  }

  /** Registers the script on a client (once per client). */
  defineOn(redis: Redis): void {
    redis.defineCommand(this.command, { numberOfKeys: this.spec.keys.length, lua: this.lua });
  }

  /** Runs the script on a client it is defined on. */
  async call(redis: Redis, input: LuaInput<K, A, T>): Promise<R> {
    const command = (redis as unknown as Record<string, (...args: Arg[]) => Promise<unknown>>)[this.command];
    return this.spec.reply(await command.apply(redis, this.args(input)));
  }

  /**
   * Queues the script into a transaction of another client on the same Redis (EVAL: that client
   * does not know the script; Redis still compiles it once and keeps it). Read its answer with
   * `reply`.
   */
  queue(tx: ChainableCommander, input: LuaInput<K, A, T>): void {
    tx.eval(this.lua, this.spec.keys.length, ...this.args(input));
  }

  /** The typed reply of an answer read out of a transaction's results. */
  reply(raw: unknown): R {
    return this.spec.reply(raw);
  }

  private args(input: LuaInput<K, A, T>): Arg[] {
    const { keys, argv, tail } = this.spec;
    const out: Arg[] = [];
    for (const k of keys) out.push((input as Record<K, string>)[k]);
    for (const a of argv) out.push((input as Record<A, Arg>)[a]);
    if (tail !== undefined) for (const v of (input as Record<T, readonly Arg[]>)[tail]) out.push(v);
    return out;
  }
}

export function luaScript<K extends string, A extends string, R, T extends string = never>(spec: LuaScriptSpec<K, A, T, R>): LuaScript<K, A, T, R> {
  return new LuaScript(spec);
}
