#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { USAGE, parseCliArgs } from './cli-args';
import { CLIENT_INFO, GatewayUnavailableError } from './gateway-connection';
import { startForwarder } from './stdio-forwarder';

const log = (line: string) => process.stderr.write(`toolpath-mcp: ${line}\n`);

async function main(): Promise<number | undefined> {
  const command = parseCliArgs(process.argv.slice(2), process.env);
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`${CLIENT_INFO.version}\n`);
      return 0;
    case 'error':
      log(command.message);
      return 2;
  }
  const transport = new StdioServerTransport();
  const forwarder = await startForwarder(command, transport, log);
  log(`forwarding to ${command.url.href}`);
  const stop = () => {
    void forwarder.close().finally(() => process.exit(0));
  };
  // The client closing stdin is how a desktop agent ends the server.
  process.stdin.once('end', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    log(err instanceof GatewayUnavailableError ? err.message : ((err as Error)?.stack ?? String(err)));
    process.exit(1);
  },
);
