#!/usr/bin/env node
import { runCli } from './run-cli';

const abort = new AbortController();
// First Ctrl-C: stop reading, flush what was sent, print the summary. Second: leave at once.
process.once('SIGINT', () => {
  abort.abort();
  process.once('SIGINT', () => process.exit(130));
});

runCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: abort.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`toolpath-import: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
