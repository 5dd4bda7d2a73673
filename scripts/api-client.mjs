#!/usr/bin/env node
// The typed REST client's types (libs/api-client/src/openapi.ts) come from the gateway's OpenAPI
// document, built from the gateway's own modules without connecting to anything
// (apps/gateway/src/print-openapi.ts, run from its build). `generate` writes them; `check` fails
// when the checked-in file is not what the document gives now, so the client cannot drift from
// the API. Needs a build of the gateway first (`npm run api:generate` / `api:check` do it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'libs/api-client/src/openapi.ts');
const printer = join(root, 'apps/gateway/dist/print-openapi.js');
const HEADER = `// Generated from the gateway's OpenAPI document by \`npm run api:generate\` (scripts/api-client.mjs).\n${COMMENT_HEADER}`;

async function generated() {
  // A child process: the document's gateway is left open (see print-openapi.ts).
  let json;
  try {
    json = execFileSync(process.execPath, [printer], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    console.error(`${relative(root, printer)} failed (is the gateway built? npx tsc -b apps/gateway):\n${String(err.stderr ?? err.message).slice(0, 4000)}`);
    process.exit(1);
  }
  const ast = await openapiTS(JSON.parse(json), { silent: true });
  return HEADER + astToString(ast);
}

function firstDifferences(expected, max = 20) {
  const dir = mkdtempSync(join(tmpdir(), 'api-client-'));
  try {
    writeFileSync(join(dir, 'live.ts'), expected);
    // `diff` exits 1 when the files differ; its output is what is wanted.
    try {
      execFileSync('diff', ['-u', target, join(dir, 'live.ts')], { encoding: 'utf8' });
      return '';
    } catch (err) {
      return String(err.stdout ?? '').split('\n').slice(0, max).join('\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode !== 'generate' && mode !== 'check') {
  console.error('Usage: node scripts/api-client.mjs generate|check   (after building the gateway: npx tsc -b apps/gateway)');
  process.exit(2);
}
const fresh = await generated();
const name = relative(root, target);
if (mode === 'generate') {
  writeFileSync(target, fresh);
  console.log(`${name}: written from the gateway's OpenAPI document`);
} else {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // Missing counts as different.
  }
  if (current !== fresh) {
    console.error(`${name} differs from the gateway's OpenAPI document: run \`npm run api:generate\` and commit the result.`);
    console.error(firstDifferences(fresh));
    process.exit(1);
  }
  console.log(`${name} matches the gateway's OpenAPI document`);
}
