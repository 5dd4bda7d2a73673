import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FieldIssue } from '@toolpath/contracts';
import { toErrorBody } from '@toolpath/platform';

/** A successful tool result: the value as structured content, and as JSON text for clients that read only text. */
export function okResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/**
 * A tool error the calling model reads (`isError: true`, never a protocol error): the message
 * names the field, `structuredContent.error` carries the code and each field for programs.
 */
export function errorResult(code: string, message: string, fields: FieldIssue[] = [], extra: Record<string, unknown> = {}): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: message }],
    structuredContent: { ...extra, error: { code, message, ...(fields.length > 0 ? { fields } : {}) } },
  };
}

/** Invalid arguments, one message naming every field. */
export function invalidArguments(tool: string, fields: FieldIssue[]): CallToolResult {
  return errorResult('invalid_arguments', `invalid arguments for ${tool}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, fields);
}

/**
 * What a REST route would have answered for `err`, as a tool error: an ApiError (400 naming the
 * field, 404), a service that did not answer (503), or an unexpected failure ("internal error",
 * with no detail: the log has it).
 */
export function errorFromException(err: unknown): { result: CallToolResult; status: number; fields: FieldIssue[] } {
  const body = toErrorBody(err);
  const fields = Array.isArray(body.details) ? (body.details as FieldIssue[]).filter((d) => typeof d?.field === 'string') : [];
  const code = body.statusCode === 400 ? 'invalid_arguments' : body.statusCode === 404 ? 'not_found' : body.statusCode >= 500 ? 'unavailable' : 'refused';
  return { result: errorResult(code, body.message, fields), status: body.statusCode, fields };
}
