/** What `toolpath-mcp` was asked to do. */
export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'serve'; url: URL; apiKey: string; connectTimeoutMs: number } | { kind: 'error'; message: string };

export const DEFAULT_URL = 'http://127.0.0.1:3000/mcp';

export const USAGE = `Usage: toolpath-mcp [--url <gateway /mcp URL>] [--connect-timeout-ms <ms>]

Toolpath's MCP server over stdio, for desktop agents (Claude Desktop, Cursor, VS Code, ...).
It forwards every request to a Toolpath gateway's Streamable HTTP endpoint (/mcp), so the tools
are the gateway's: suggest_workflows, search_workflows, run_workflow, get_execution, the learned
workflows as tools of their own, and the MCP servers the gateway offers; workflows are resources
(toolpath://workflows/<id>).

Options:
  --url <url>                 the gateway's MCP endpoint (default: $TOOLPATH_MCP_URL, else ${DEFAULT_URL})
  --connect-timeout-ms <ms>   how long to wait for the gateway at start (default 10000)
  -h, --help                  this text
  --version                   the version

Environment:
  TOOLPATH_API_KEY            the API key (required); its tenant is the tenant of every call
  TOOLPATH_MCP_URL            the gateway's MCP endpoint, when --url is not given

Logs go to stderr; stdout carries the MCP protocol only.
`;

/** Parses the command line and environment; never throws. */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  let rawUrl = env.TOOLPATH_MCP_URL || DEFAULT_URL;
  let connectTimeoutMs = 10_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--version':
        return { kind: 'version' };
      case '--url': {
        const v = value();
        if (!v) return { kind: 'error', message: '--url needs a value, e.g. --url http://127.0.0.1:3000/mcp' };
        rawUrl = v;
        break;
      }
      case '--connect-timeout-ms': {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) return { kind: 'error', message: '--connect-timeout-ms must be a positive whole number of milliseconds' };
        connectTimeoutMs = n;
        break;
      }
      default:
        return { kind: 'error', message: `unknown argument "${arg}" (see --help)` };
    }
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { kind: 'error', message: `--url: "${rawUrl}" is not a URL (e.g. http://127.0.0.1:3000/mcp)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'error', message: `--url: "${rawUrl}" must be an http(s) URL` };
  const apiKey = env.TOOLPATH_API_KEY?.trim();
  if (!apiKey) return { kind: 'error', message: 'TOOLPATH_API_KEY is not set: the API key of your tenant (npm start prints the development key)' };
  return { kind: 'serve', url, apiKey, connectTimeoutMs };
}
