import { createHash } from 'node:crypto';
import type { McpToolInfo } from '@toolpath/mcp';

/** Between the server and the tool in a gateway tool name: `<server>__<tool>`. */
export const NAMESPACE_SEPARATOR = '__';
/** MCP tool names are 1-128 characters of letters, digits, `_`, `-` and `.`. */
export const MCP_TOOL_NAME_MAX = 128;
const NOT_IN_TOOL_NAMES = /[^A-Za-z0-9_.-]/g;

/** An upstream server's tool behind a gateway tool name. */
export interface UpstreamTool {
  server: string;
  /** The tool's own name on its server (what is forwarded, and recorded as `mcp:<server>/<tool>`). */
  tool: string;
  info: McpToolInfo;
}

/**
 * The name a client sees for `tool` of `server`. Server names are already valid (letters, digits,
 * `_`, `-`); a character of the tool's name that MCP names do not allow becomes `_`, and a name
 * over 128 characters is cut and ends with 8 hex characters of the original's digest, so that it
 * stays unique.
 */
export function namespacedToolName(server: string, tool: string): string {
  const name = `${server}${NAMESPACE_SEPARATOR}${tool.replace(NOT_IN_TOOL_NAMES, '_')}`;
  if (name.length <= MCP_TOOL_NAME_MAX) return name;
  const digest = createHash('sha256').update(`${server}/${tool}`).digest('hex').slice(0, 8);
  return `${name.slice(0, MCP_TOOL_NAME_MAX - 9)}_${digest}`;
}

/**
 * The configured server whose namespace `name` is in, if any. Server names may themselves hold
 * `__`, so the longest matching one wins.
 */
export function serverOfName(name: string, servers: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const s of servers) {
    if (name.length > s.length + NAMESPACE_SEPARATOR.length && name.startsWith(s + NAMESPACE_SEPARATOR) && (!best || s.length > best.length)) best = s;
  }
  return best;
}

/**
 * Gateway tool names of the upstream tools last listed. Two upstream tools that map to one name
 * (`a` + `b__c` and `a__b` + `c`, or names that differ only in replaced characters) keep the first
 * listed; the others are reported as `collisions` and not offered.
 */
export class ToolDirectory {
  readonly byName = new Map<string, UpstreamTool>();
  readonly collisions: string[] = [];

  constructor(tools: readonly McpToolInfo[]) {
    for (const info of tools) {
      const name = namespacedToolName(info.server, info.name);
      if (this.byName.has(name)) {
        this.collisions.push(`${info.server}/${info.name} → ${name}`);
        continue;
      }
      this.byName.set(name, { server: info.server, tool: info.name, info });
    }
  }

  get(name: string): UpstreamTool | undefined {
    return this.byName.get(name);
  }
}
