import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LUA_DIR, loadLua } from './lua-script';
import { RUN_SCRIPTS } from './run-scripts';

describe('loadLua', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lua-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('splices shared parts by name (nested too) and leaves out comments and blank lines', () => {
    writeFileSync(join(dir, 'inner.lua'), '-- inner: a helper\nlocal function inner() return 1 end\n');
    writeFileSync(join(dir, 'shared.lua'), '-- include: inner\nlocal function shared() return inner() end\n');
    writeFileSync(join(dir, 'main.lua'), '-- main: header\n--\n-- include: shared\n\nlocal x = shared() -- kept: code before it\n  -- indented comment\nreturn x\n');
    expect(loadLua('main', dir)).toBe(['local function inner() return 1 end', 'local function shared() return inner() end', 'local x = shared() -- kept: code before it', 'return x'].join('\n'));
  });

  it('refuses a part that includes itself, and a missing part', () => {
    writeFileSync(join(dir, 'a.lua'), '-- include: b\n');
    writeFileSync(join(dir, 'b.lua'), '-- include: a\n');
    expect(() => loadLua('a', dir)).toThrow('lua: a -> b -> a includes itself');
    writeFileSync(join(dir, 'c.lua'), '-- include: nowhere\n');
    expect(() => loadLua('c', dir)).toThrow(/nowhere\.lua/);
  });
});

/** The `-- KEYS[n] name` and `-- ARGV[n] name` / `-- ARGV[n..] name` lines of a script's header. */
function headerOf(file: string): { keys: string[]; argv: string[]; tail?: string } {
  const out: { keys: string[]; argv: string[]; tail?: string } = { keys: [], argv: [] };
  for (const line of readFileSync(join(LUA_DIR, `${file}.lua`), 'utf8').split('\n')) {
    const m = /^-- (KEYS|ARGV)\[(\d+)(\.\.)?\] (\w+)/.exec(line);
    if (!m) continue;
    const [, kind, index, tail, name] = m;
    const list = kind === 'KEYS' ? out.keys : out.argv;
    if (tail) {
      expect(Number(index)).toBe(out.argv.length + 1);
      out.tail = name;
    } else {
      expect(Number(index)).toBe(list.length + 1);
      list.push(name);
    }
  }
  return out;
}

describe('the run scripts', () => {
  it.each(RUN_SCRIPTS.map((s) => [s.spec.file, s] as const))('%s: the header names KEYS and ARGV as the code passes them', (file, script) => {
    const header = headerOf(file);
    expect(header.keys).toEqual(script.spec.keys);
    expect(header.argv).toEqual(script.spec.argv);
    expect(header.tail).toBe(script.spec.tail);
    expect(readFileSync(join(LUA_DIR, `${file}.lua`), 'utf8')).toMatch(/^-- Returns /m);
  });

  it('every script file is one of them or a shared part some script includes', () => {
    const scripts = new Set(RUN_SCRIPTS.map((s) => s.spec.file));
    const included = new Set<string>();
    for (const f of scripts) for (const m of readFileSync(join(LUA_DIR, `${f}.lua`), 'utf8').matchAll(/^-- include: ([a-z0-9-]+)$/gm)) included.add(m[1]);
    const files = readdirSync(LUA_DIR).map((f) => f.replace(/\.lua$/, ''));
    expect(files.filter((f) => !scripts.has(f) && !included.has(f))).toEqual([]);
    expect(new Set(RUN_SCRIPTS.map((s) => s.command)).size).toBe(RUN_SCRIPTS.length);
  });
});
