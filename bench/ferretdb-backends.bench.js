#!/usr/bin/env node
/**
 * FerretDB v1 on SQLite against FerretDB v1 on PostgreSQL, with event-shaped documents.
 *
 *   node bench/ferretdb-backends.bench.js [--sizes 10000,100000] [--runs R] [--reps K] [--json FILE]
 *
 * Self-contained (plain Node, no build): it starts its own servers on free loopback ports, in a
 * temporary folder that it deletes afterwards, and touches nothing else:
 *   - a PostgreSQL cluster, through `scripts/infra.sh start postgres` with its own data dir and port
 *     (or the one given with --postgresql-url, which then only gets a database per run);
 *   - two FerretDB processes (the binary of `scripts/infra.sh bin ferretdb`): --handler sqlite with
 *     its own folder, and --handler postgresql on that cluster.
 * For each size N and backend, in a fresh database: the four secondary indexes of `tool_events`
 * (libs/event-store/src/indexes.ts), then N documents shaped like stored tool events (about 400
 * bytes of BSON, string `_id` `<tenant>:<uuid>`) written with unordered insertMany in batches of
 * 1000, one batch at a time; then K timed repetitions (after one warm-up) of each read:
 *   by_id      find({ _id: { $in: 100 random ids } })
 *   by_id_eq   the same 100 ids as 100 findOne({ _id }) at once, over the client's 4 connections
 *   session    find({ tenantId, sessionId }).sort({ seq: 1 })     (50 events of 20 interleaved sessions)
 *   range      find({ tenantId, streamSeq: { $gt: x } }).sort({ streamSeq: 1 }).limit(1000)
 *   count      countDocuments({ tenantId })                                        (N / 10)
 * Backends alternate within a run; with --runs R the whole sequence repeats and each figure is
 * the median over runs (min-max in brackets). The ratio is SQLite time / PostgreSQL time, so
 * above 1 means PostgreSQL is faster. The loopback is the only network used.
 *
 * FerretDB 1.24 creates the indexes it is asked for as btree indexes on `(_jsonb -> 'field')`,
 * but filters with `_jsonb -> $1 @> $2`, which no btree index serves: every query is a sequential
 * scan inside PostgreSQL (FerretDB issue #4646). The optional backend `postgresql-gin` is the
 * same FerretDB, plus GIN indexes on `(_jsonb -> '_id')`, `tenantId` and `sessionId` created
 * behind FerretDB's back with psql (which `@>` can use), to show what that would change.
 */
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');

const REPO = path.resolve(__dirname, '..');
const INFRA = path.join(REPO, 'scripts', 'infra.sh');
const BATCH = 1000;
const TENANTS = 10;
const SESSION_EVENTS = 50;
const CONCURRENT_SESSIONS = 20; // per tenant: their events interleave, as live traffic does
const TOOLS = ['read_file', 'write_file', 'grep', 'run_tests', 'http_get', 'sql_query', 'git_diff', 'list_dir'];
// The same keys and names as TOOL_EVENT_INDEXES in libs/event-store/src/indexes.ts.
const INDEXES = [
  { key: { tenantId: 1, sessionId: 1, seq: 1, startedAt: 1 }, name: 'tenant_session_order' },
  { key: { tenantId: 1, startedAt: -1 }, name: 'tenant_started' },
  { key: { tenantId: 1, tool: 1, startedAt: -1 }, name: 'tenant_tool_started' },
  { key: { tenantId: 1, streamSeq: 1 }, name: 'tenant_stream_seq' },
];
const OPS = ['insert', 'by_id', 'by_id_eq', 'session', 'range', 'count'];
const OP_LABEL = {
  insert: 'insertMany (docs/s)',
  by_id: 'find _id $in 100',
  by_id_eq: '100 x find _id (4 conns)',
  session: 'find session, sort seq',
  range: 'streamSeq > x, limit 1000',
  count: 'countDocuments tenant',
};

const USAGE = `usage: node bench/ferretdb-backends.bench.js [options]

  --sizes LIST        documents per collection, comma-separated (default 10000,100000)
  --runs R            repeat the whole sequence R times; figures are medians (default 1)
  --reps K            timed repetitions of each read, after one warm-up (default 5)
  --op-budget S       stop repeating a read after S seconds (at least one timed run; default 20)
  --backends LIST     from sqlite, postgresql, postgresql-gin (default sqlite,postgresql)
  --postgresql-url U  use this PostgreSQL (its user must be allowed to create databases)
                      instead of starting a cluster of our own
  --time-limit S      abort the whole run after S seconds (default 1200)
  --json FILE         also write the results as JSON
  --keep              keep the temporary folder (data and logs) for inspection
  --help              this text

Needs the FerretDB binary that scripts/infra.sh builds (run \`scripts/infra.sh bin ferretdb\`
once) and, for the postgresql backend, PostgreSQL (scripts/infra.sh installs it as root).`;

function fail(msg) {
  console.error(`ferretdb-backends.bench: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { sizes: [10_000, 100_000], runs: 1, reps: 5, opBudget: 20, backends: ['sqlite', 'postgresql'], timeLimit: 1200, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    const int = (v, min) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) fail(`${flag}: expected an integer >= ${min}, got '${v}'`);
      return n;
    };
    switch (flag) {
      case '-h':
      case '--help':
        console.log(USAGE);
        return process.exit(0);
      case '--sizes':
        a.sizes = value().split(',').map((v) => int(v, BATCH));
        break;
      case '--runs':
        a.runs = int(value(), 1);
        break;
      case '--reps':
        a.reps = int(value(), 1);
        break;
      case '--op-budget':
        a.opBudget = int(value(), 1);
        break;
      case '--backends':
        a.backends = value().split(',');
        for (const b of a.backends) if (!['sqlite', 'postgresql', 'postgresql-gin'].includes(b)) fail(`unknown backend '${b}'`);
        break;
      case '--postgresql-url':
        a.postgresqlUrl = value();
        break;
      case '--time-limit':
        a.timeLimit = int(value(), 10);
        break;
      case '--json':
        a.json = value();
        break;
      case '--keep':
        a.keep = true;
        break;
      default:
        fail(`unknown option '${flag}' (see --help)`);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Servers

const state = { tmp: null, children: [], pgEnv: null, keep: false, cleaned: false };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function infra(args, env) {
  return execFileSync('bash', [INFRA, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function startFerret(bin, name, port, handlerArgs) {
  const log = fs.openSync(path.join(state.tmp, `ferretdb-${name}.log`), 'a');
  const child = spawn(bin, ['--listen-addr', `127.0.0.1:${port}`, '--log-level', 'warn', ...handlerArgs], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  state.children.push(child);
  return child;
}

async function connectWhenReady(mongodb, url, child, name) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) fail(`FerretDB (${name}) exited with ${child.exitCode}; see ${state.tmp}/ferretdb-${name}.log (use --keep)`);
    const client = new mongodb.MongoClient(url, { serverSelectionTimeoutMS: 1000, maxPoolSize: 4 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return client;
    } catch (e) {
      await client.close().catch(() => {});
      if (Date.now() > deadline) fail(`FerretDB (${name}) at ${url} not ready after 30 s: ${e.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function cleanup() {
  if (state.cleaned) return;
  state.cleaned = true;
  for (const c of state.children) if (c.exitCode === null) c.kill('SIGTERM');
  const deadline = Date.now() + 5000;
  while (state.children.some((c) => c.exitCode === null && isAlive(c.pid)) && Date.now() < deadline) sleepSync(50);
  for (const c of state.children) if (c.exitCode === null && isAlive(c.pid)) c.kill('SIGKILL');
  if (state.pgEnv) {
    try {
      infra(['stop', 'postgres'], state.pgEnv);
    } catch (e) {
      console.error(`stopping the benchmark's PostgreSQL failed: ${e.stderr || e.message}`);
    }
  }
  if (state.tmp) {
    if (state.keep) console.error(`kept ${state.tmp}`);
    else fs.rmSync(state.tmp, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------------
// Data

/** Event i of a run: tenants round-robin, 20 live sessions per tenant of 50 events each. */
function makeEvent(i, t0) {
  const tenant = `tenant-${i % TENANTS}`;
  const j = Math.floor(i / TENANTS); // the j-th event of this tenant
  const block = SESSION_EVENTS * CONCURRENT_SESSIONS;
  const session = Math.floor(j / block) * CONCURRENT_SESSIONS + (j % CONCURRENT_SESSIONS);
  const seq = Math.floor((j % block) / CONCURRENT_SESSIONS) + 1;
  const eventId = randomUUID();
  const startedAt = new Date(t0 + i * 10);
  const tool = TOOLS[i % TOOLS.length];
  return {
    _id: `${tenant}:${eventId}`,
    specVersion: '1',
    kind: 'tool_call',
    eventId,
    tenantId: tenant,
    sessionId: `${tenant}-session-${String(session).padStart(6, '0')}`,
    userId: `user-${session % 37}`,
    seq,
    tool,
    parameters: { path: `src/module-${i % 97}/file-${i % 13}.ts`, limit: 200 },
    result: { ok: true, lines: i % 500 },
    success: i % 17 !== 0,
    startedAt,
    durationMs: 5 + (i % 300),
    intent: 'fix the build',
    receivedAt: new Date(startedAt.getTime() + 3),
    streamSeq: i + 1,
  };
}


// ---------------------------------------------------------------------------------------------
// Measurement

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

async function timed(reps, budgetMs, fn) {
  const times = [];
  const w = performance.now();
  await fn(); // warm-up (plans, caches, connections); a slow one (a scan) counts as a sample
  if (performance.now() - w > 2000) times.push(performance.now() - w);
  const until = performance.now() + budgetMs;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
    if (performance.now() > until) break;
  }
  return { ms: median(times), reps: times.length };
}

async function pushdown(db, coll, filter, sort, limit) {
  try {
    const cmd = { find: coll, filter };
    if (sort) cmd.sort = sort;
    if (limit) cmd.limit = limit;
    const r = await db.command({ explain: cmd, verbosity: 'queryPlanner' });
    const f = (v) => (v === true ? 'yes' : v === false ? 'no' : '?');
    return `filter ${f(r.filterPushdown ?? r.pushdown)}${sort ? `, sort ${f(r.sortPushdown)}` : ''}${limit ? `, limit ${f(r.limitPushdown)}` : ''}`;
  } catch (e) {
    return `explain failed: ${e.message}`;
  }
}

/** GIN indexes that `_jsonb -> 'f' @> value` can use, on the PostgreSQL table behind a collection. */
function createGinIndexes(pg, dbName, collName, fields) {
  const q = (sql) => execFileSync(pg.psql, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', pg.url, '-c', sql], { encoding: 'utf8' }).trim();
  const table = q(`SELECT _jsonb->>'table' FROM "${dbName}"._ferretdb_database_metadata WHERE _jsonb->>'_id' = '${collName}'`);
  if (!/^[a-z0-9_]+$/.test(table)) throw new Error(`no PostgreSQL table found for ${dbName}.${collName}: '${table}'`);
  for (const f of fields) q(`CREATE INDEX ON "${dbName}"."${table}" USING gin ((_jsonb -> '${f}'))`);
}

async function benchOne(client, backend, n, args, dbName, pg) {
  const db = client.db(dbName);
  await db.dropDatabase().catch(() => {});
  const coll = db.collection('tool_events');
  await db.createCollection('tool_events');
  await coll.createIndexes(INDEXES);
  if (backend === 'postgresql-gin') createGinIndexes(pg, dbName, 'tool_events', ['_id', 'tenantId', 'sessionId']);

  const t0 = Date.UTC(2026, 0, 1);
  const ids = new Array(n);
  const sessionSize = new Map(); // "<tenant> <session>" -> events
  let bytes = 0;
  const { BSON } = require(require.resolve('mongodb', { paths: [REPO] }));
  const tIns = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const docs = [];
    for (let k = i; k < Math.min(n, i + BATCH); k++) {
      const d = makeEvent(k, t0);
      ids[k] = d._id;
      const key = `${d.tenantId} ${d.sessionId}`;
      sessionSize.set(key, (sessionSize.get(key) ?? 0) + 1);
      if (k < 1000) bytes += BSON.calculateObjectSize(d);
      docs.push(d);
    }
    await coll.insertMany(docs, { ordered: false });
  }
  const insertMs = performance.now() - tIns;
  const docBytes = Math.round(bytes / Math.min(n, 1000));

  const stored = await coll.estimatedDocumentCount();
  if (stored !== n) throw new Error(`${backend}: expected ${n} documents, the server reports ${stored}`);

  const sessions = [...sessionSize.keys()];
  const budget = args.opBudget * 1000;
  const res = { insert: { ms: insertMs, rate: (n / insertMs) * 1000, docBytes } };

  res.by_id = await timed(args.reps, budget, async () => {
    const want = Array.from({ length: 100 }, () => pick(ids));
    const got = await coll.find({ _id: { $in: want } }).toArray();
    if (got.length !== new Set(want).size) throw new Error(`by_id: ${got.length} rows for ${new Set(want).size} ids`);
  });
  res.by_id_eq = await timed(args.reps, budget, async () => {
    const want = Array.from({ length: 100 }, () => pick(ids));
    const got = await Promise.all(want.map((id) => coll.findOne({ _id: id })));
    if (got.some((d) => d === null)) throw new Error('by_id_eq: an id was not found');
  });
  res.session = await timed(args.reps, budget, async () => {
    const key = pick(sessions);
    const [tenantId, sessionId] = key.split(' ');
    const rows = await coll.find({ tenantId, sessionId }).sort({ seq: 1 }).toArray();
    if (rows.length !== sessionSize.get(key)) throw new Error(`session: ${rows.length} rows, expected ${sessionSize.get(key)}`);
  });
  res.range = await timed(args.reps, budget, async () => {
    const t = Math.floor(Math.random() * TENANTS);
    const x = Math.floor(Math.random() * Math.max(1, n - 1000 * TENANTS)); // >= 1000 rows left
    const rows = await coll
      .find({ tenantId: `tenant-${t}`, streamSeq: { $gt: x } })
      .sort({ streamSeq: 1 })
      .limit(1000)
      .toArray();
    const want = Math.min(1000, Math.ceil((n - x) / TENANTS) + 1);
    if (Math.abs(rows.length - want) > 1 || rows[0].streamSeq <= x || rows.at(-1).streamSeq < rows[0].streamSeq) throw new Error(`range: ${rows.length} rows`);
  });
  res.count = await timed(args.reps, budget, async () => {
    const t = Math.floor(Math.random() * TENANTS);
    const c = await coll.countDocuments({ tenantId: `tenant-${t}` });
    if (c !== Math.ceil((n - t) / TENANTS)) throw new Error(`count: ${c}`);
  });
  res.pushdown = {
    by_id: await pushdown(db, 'tool_events', { _id: { $in: ids.slice(0, 100) } }),
    by_id_eq: await pushdown(db, 'tool_events', { _id: ids[0] }),
    session: await pushdown(db, 'tool_events', { tenantId: 'tenant-1', sessionId: 'tenant-1-session-000001' }, { seq: 1 }),
    range: await pushdown(db, 'tool_events', { tenantId: 'tenant-1', streamSeq: { $gt: 5 } }, { streamSeq: 1 }, 1000),
  };
  await db.dropDatabase();
  return res;
}

// ---------------------------------------------------------------------------------------------
// Report

const num = (ms) => (ms >= 100 ? `${Math.round(ms)}` : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtMs = (ms) => `${num(ms)} ms`;

function cell(values, op) {
  if (!values || values.length === 0) return '-';
  const xs = values.map((v) => (op === 'insert' ? v.rate : v.ms));
  const f = op === 'insert' ? (x) => `${Math.round(x)}` : num;
  const unit = op === 'insert' ? '' : ' ms';
  const range = xs.length > 1 ? ` [${f(Math.min(...xs))}-${f(Math.max(...xs))}]` : '';
  return `${f(median(xs))}${unit}${range}`;
}

const NAMES = { sqlite: 'SQLite', postgresql: 'PostgreSQL', 'postgresql-gin': 'PG + GIN' };

function report(results, args) {
  const lines = [];
  const bs = args.backends;
  const others = bs.includes('sqlite') ? bs.filter((b) => b !== 'sqlite') : [];
  const cols = ['N', 'operation', ...bs.map((b) => NAMES[b]), ...others.map((b) => `SQLite/${NAMES[b]}`)];
  const rows = [];
  for (const n of args.sizes) {
    for (const op of OPS) {
      const vals = Object.fromEntries(bs.map((b) => [b, results[b]?.[n]?.map((r) => r[op]).filter(Boolean)]));
      const ratios = others.map((b) => {
        const s = vals.sqlite;
        const p = vals[b];
        if (!s?.length || !p?.length) return '-';
        const r = median(s.map((v) => v.ms)) / median(p.map((v) => v.ms));
        return `${r.toFixed(r >= 10 ? 0 : 1)}x`;
      });
      rows.push([String(n), OP_LABEL[op], ...bs.map((b) => cell(vals[b], op)), ...ratios]);
    }
  }
  const w = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((v, i) => (i >= 2 ? v.padStart(w[i]) : v.padEnd(w[i]))).join(' | ')} |`;
  lines.push(line(cols));
  lines.push(`|${w.map((x, i) => (i >= 2 ? `${'-'.repeat(x + 1)}:` : '-'.repeat(x + 2))).join('|')}|`);
  for (const r of rows) lines.push(line(r));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  state.keep = args.keep;
  let mongodb;
  try {
    mongodb = require(require.resolve('mongodb', { paths: [REPO] }));
  } catch {
    fail('the mongodb driver is not installed in the repository (npm install)');
  }
  const started = Date.now();
  const timer = setTimeout(() => {
    console.error(`ferretdb-backends.bench: time limit of ${args.timeLimit} s reached; stopping`);
    cleanup();
    process.exit(3);
  }, args.timeLimit * 1000);
  process.on('exit', cleanup); // synchronous: also after an uncaught error
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }

  let bin;
  try {
    bin = infra(['bin', 'ferretdb']);
  } catch (e) {
    fail(`scripts/infra.sh bin ferretdb failed:\n${e.stderr || e.message}`);
  }
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferretdb-bench-'));
  fs.chmodSync(state.tmp, 0o755); // the postgres user must be able to reach its cluster inside

  const clients = {};
  if (args.backends.includes('sqlite')) {
    const port = await freePort();
    fs.mkdirSync(path.join(state.tmp, 'sqlite'));
    const child = startFerret(bin, 'sqlite', port, ['--handler', 'sqlite', '--sqlite-url', `file:${state.tmp}/sqlite/`]);
    clients.sqlite = await connectWhenReady(mongodb, `mongodb://127.0.0.1:${port}/`, child, 'sqlite');
  }
  let pg = null;
  if (args.backends.some((b) => b.startsWith('postgresql'))) {
    let pgUrl = args.postgresqlUrl;
    if (!pgUrl) {
      const pgPort = await freePort();
      pgUrl = `postgres://toolpath@127.0.0.1:${pgPort}/ferretdb`;
      state.pgEnv = { TOOLPATH_DATA_DIR: path.join(state.tmp, 'infra'), FERRETDB_HANDLER: 'postgresql', FERRETDB_POSTGRESQL_URL: pgUrl };
      try {
        infra(['start', 'postgres'], state.pgEnv);
      } catch (e) {
        cleanup();
        fail(`scripts/infra.sh start postgres failed:\n${e.stderr || e.message}`);
      }
    }
    const port = await freePort();
    const child = startFerret(bin, 'postgresql', port, ['--handler', 'postgresql', '--postgresql-url', pgUrl]);
    clients.postgresql = await connectWhenReady(mongodb, `mongodb://127.0.0.1:${port}/`, child, 'postgresql');
    clients['postgresql-gin'] = clients.postgresql;
    if (args.backends.includes('postgresql-gin')) {
      pg = { url: pgUrl, psql: path.join(path.dirname(infra(['bin', 'postgres'])), 'psql') };
    }
  }

  const ver = await clients[args.backends[0]].db('admin').command({ buildInfo: 1 });
  try {
    // The embedded FerretDB reports 'unknown' as its own version: take it from our wrapper's go.mod.
    const m = /github\.com\/FerretDB\/FerretDB (v[\w.-]+)/.exec(fs.readFileSync(path.join(REPO, 'tools/ferretdb/go.mod'), 'utf8'));
    if (m && (!ver.ferretdbVersion || ver.ferretdbVersion === 'unknown')) ver.ferretdbVersion = m[1];
  } catch {
    // No wrapper sources (e.g. run outside the repo): keep what the server said.
  }
  console.log(
    `FerretDB ${ver.ferretdbVersion ?? ver.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB | load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(`sizes ${args.sizes.join(', ')}; runs ${args.runs}; reads: median of up to ${args.reps} after a warm-up\n`);

  const results = Object.fromEntries(args.backends.map((b) => [b, {}]));
  const pushdowns = {};
  for (let run = 1; run <= args.runs; run++) {
    for (const n of args.sizes) {
      const order = run % 2 ? args.backends : [...args.backends].reverse();
      for (const b of order) {
        const t = Date.now();
        const r = await benchOne(clients[b], b, n, args, `bench_${process.pid}_${run}_${n}_${b.replace('-', '_')}`, pg);
        (results[b][n] ??= []).push(r);
        pushdowns[b] = r.pushdown;
        console.log(
          `run ${run} ${b.padEnd(14)} N=${String(n).padStart(6)}: insert ${Math.round(r.insert.rate)} docs/s (${(r.insert.ms / 1000).toFixed(1)} s, ${r.insert.docBytes} B/doc), ` +
            `by_id ${fmtMs(r.by_id.ms)}, by_id_eq ${fmtMs(r.by_id_eq.ms)}, session ${fmtMs(r.session.ms)}, range ${fmtMs(r.range.ms)}, count ${fmtMs(r.count.ms)} ` +
            `(${((Date.now() - t) / 1000).toFixed(0)} s; load ${os.loadavg()[0].toFixed(2)})`,
        );
      }
    }
  }

  console.log(`\n${report(results, args)}\n`);
  console.log('SQLite/X = SQLite time / X time (above 1: X is faster). [min-max] over runs.');
  for (const b of args.backends) {
    console.log(`pushdown (${NAMES[b]}): ${Object.entries(pushdowns[b] ?? {}).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({ ferretdb: ver.version, cpus: os.cpus().length, sizes: args.sizes, runs: args.runs, results, pushdowns }, null, 2));
  }
  for (const c of Object.values(clients)) await c.close();
  clearTimeout(timer);
  cleanup();
}

main().catch((e) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
