import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { connectGateway, explain, isSessionGone, type GatewayOptions } from './gateway-connection';

/** Longest a forwarded tool call may take (run_workflow waits up to 10 minutes); progress resets it. */
const CALL_TIMEOUT_MS = 11 * 60_000;

export interface Forwarder {
  server: Server;
  close(): Promise<void>;
}

/**
 * An MCP server (for a stdio client) that answers every request by asking the gateway's /mcp: one
 * implementation of the tools, on the gateway. Progress of a forwarded call is relayed with the
 * client's own progress token, and the gateway's `tools/list_changed` is passed on. When the gateway
 * has forgotten the session (restarted, or closed it as idle) a new one is opened and the request
 * sent again once; when the gateway cannot be reached, a tool call answers a tool error saying so.
 */
export async function startForwarder(opts: GatewayOptions, transport: Transport, log: (line: string) => void): Promise<Forwarder> {
  // The gateway may announce a change before the stdio side is connected: then there is nobody to tell.
  const stdio: { server?: Server } = {};
  const listChanged = () => {
    if (stdio.server) void stdio.server.sendToolListChanged().catch(() => undefined);
  };
  let upstream: Client = await connectGateway({ ...opts, onToolListChanged: listChanged });
  let reconnecting: Promise<Client> | undefined;

  const reconnect = (): Promise<Client> => {
    reconnecting ??= (async () => {
      log('the gateway forgot the MCP session: opening a new one');
      await upstream.close().catch(() => undefined);
      upstream = await connectGateway({ ...opts, onToolListChanged: listChanged });
      return upstream;
    })().finally(() => (reconnecting = undefined));
    return reconnecting;
  };

  const forward = async <T>(call: (client: Client) => Promise<T>): Promise<T> => {
    try {
      return await call(upstream);
    } catch (err) {
      if (!isSessionGone(err)) throw err;
      return call(await reconnect());
    }
  };

  const asMcpError = (err: unknown) => (err instanceof McpError ? err : new McpError(ErrorCode.InternalError, explain(err, opts.url).message));

  const server = new Server(
    { name: 'toolpath', title: 'Toolpath', version: upstream.getServerVersion()?.version ?? '0.1.0' },
    {
      capabilities: { tools: { listChanged: true }, resources: {} },
      ...(upstream.getInstructions() ? { instructions: upstream.getInstructions() } : {}),
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
    try {
      return await forward((c) => c.listTools(req.params, { signal: extra.signal }));
    } catch (err) {
      throw asMcpError(err);
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const progressToken = req.params._meta?.progressToken;
    const { _meta, ...params } = req.params;
    const meta = _meta ? Object.fromEntries(Object.entries(_meta).filter(([k]) => k !== 'progressToken')) : undefined;
    try {
      return (await forward((c) =>
        c.callTool({ ...params, ...(meta && Object.keys(meta).length > 0 ? { _meta: meta } : {}) }, CallToolResultSchema, {
          signal: extra.signal,
          timeout: CALL_TIMEOUT_MS,
          resetTimeoutOnProgress: true,
          ...(progressToken !== undefined
            ? { onprogress: (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => undefined) }
            : {}),
        }),
      )) as CallToolResult;
    } catch (err) {
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed) throw err;
      // The model reads tool errors; a protocol error would often be shown to nobody.
      return { isError: true, content: [{ type: 'text', text: explain(err, opts.url).message }] };
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (req, extra) => {
    try {
      return await forward((c) => c.listResources(req.params, { signal: extra.signal }));
    } catch (err) {
      throw asMcpError(err);
    }
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (req, extra) => {
    try {
      return await forward((c) => c.listResourceTemplates(req.params, { signal: extra.signal }));
    } catch (err) {
      throw asMcpError(err);
    }
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
    try {
      return await forward((c) => c.readResource(req.params, { signal: extra.signal }));
    } catch (err) {
      throw asMcpError(err);
    }
  });

  await server.connect(transport);
  stdio.server = server;
  return {
    server,
    close: async () => {
      await server.close().catch(() => undefined);
      await upstream.close().catch(() => undefined);
    },
  };
}
