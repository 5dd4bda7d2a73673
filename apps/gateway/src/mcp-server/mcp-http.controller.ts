import { All, Controller, Logger, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { McpSessions, type McpSession } from './mcp-sessions';

/** The path of Toolpath's MCP endpoint, outside the `/api/v1` prefix (gateway.app.ts). */
export const MCP_PATH = 'mcp';
/** What Streamable HTTP uses: POST a message, GET the server's stream, DELETE the session. */
const MCP_METHODS = ['GET', 'POST', 'DELETE'];

/**
 * `/mcp`: MCP's Streamable HTTP transport (POST a message, GET the server's stream, DELETE the
 * session), handled by the SDK's transport on the raw Node request and response (the reply is
 * hijacked; Fastify has already parsed the JSON body, which is handed over). The API key's tenant
 * owns the session it opens: another key's requests with that session id get 404, as an unknown
 * or expired session does. Not in the OpenAPI document: a JSON-RPC endpoint it cannot describe
 * exactly (docs/MCP.md describes it).
 */
@ApiExcludeController()
@Controller(MCP_PATH)
export class McpHttpController {
  private readonly log = new Logger('McpHttp');

  constructor(private readonly sessions: McpSessions) {}

  @All()
  async handle(@Tenant() tenantId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // The console's cookie does not open MCP sessions: agents present the API key.
    if (!req.headers.authorization) throw new ApiError(401, 'missing Authorization header: use "Bearer <api key>"', { field: 'authorization' });
    if (!MCP_METHODS.includes(req.method)) {
      const message = `${req.method} is not allowed on /${MCP_PATH}; it answers ${MCP_METHODS.join(', ')}`;
      return void reply.status(405).header('allow', MCP_METHODS.join(', ')).send({ statusCode: 405, error: 'Method Not Allowed', message });
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    let session: McpSession | undefined;
    let opened = false;
    if (sessionId) {
      session = this.sessions.find(tenantId, sessionId);
      if (!session) return sendJsonRpcError(reply, 404, -32001, 'session not found (closed, expired or never opened): initialize a new session');
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      session = await this.sessions.open(tenantId);
      opened = true;
    } else {
      return sendJsonRpcError(reply, 400, -32000, 'no Mcp-Session-Id header: send an initialize request first, then the session id it answers with every request');
    }

    session.lastSeen = Date.now();
    session.active++;
    let released = false;
    const live = session;
    const release = () => {
      if (released) return;
      released = true;
      live.active--;
      live.lastSeen = Date.now();
    };
    reply.hijack();
    const res = reply.raw;
    res.on('close', release);
    try {
      await session.transport.handleRequest(req.raw, res, req.body);
    } catch (err) {
      this.log.warn(`MCP request failed: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
      }
    } finally {
      // An initialize that was refused leaves a session nobody can name: close it now.
      if (opened && !session.id) await session.transport.close().catch(() => undefined);
      if (res.writableEnded) release();
    }
  }
}

function sendJsonRpcError(reply: FastifyReply, status: number, code: number, message: string): void {
  void reply.status(status).header('content-type', 'application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}
