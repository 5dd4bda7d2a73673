import type { ToolDefinition } from './executions';

/**
 * The tools the executor runs itself (docs/EXECUTOR.md "Tools"), described the way providers
 * announce theirs in the registry, so that listings and the generator's prompt treat them alike.
 * The executor's implementations are the authority on behaviour; keep these descriptions in step.
 */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  {
    name: 'http.request',
    description:
      'Calls an http or https URL (fetch a page, call a web API: GET, POST, PUT, PATCH, DELETE) and returns ' +
      '{ status, headers, body } (JSON bodies parsed). Only hosts on the ' +
      "executor's allow list are reached; redirects are not followed; 5xx and 429 are retryable failures.",
    inputSchema: {
      type: 'object',
      properties: {
        url: { type: 'string', description: 'absolute http or https URL' },
        method: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], default: 'GET' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        body: { description: 'string, or any JSON value (sent as application/json)' },
        timeoutMs: { type: 'integer', minimum: 1 },
      },
      required: ['url'],
    },
  },
  {
    name: 'core.delay',
    description: 'Waits (pauses, sleeps) the given number of milliseconds, e.g. to wait some seconds between two steps, and returns { sleptMs }.',
    inputSchema: { type: 'object', properties: { ms: { type: 'number', minimum: 0 } }, required: ['ms'] },
  },
  {
    name: 'core.transform',
    description:
      'Returns its "value" parameter after templating: reshapes data between steps, e.g. ' +
      '{ "value": { "title": "{{ steps.fetch.result.title }}" } }.',
    inputSchema: { type: 'object', properties: { value: { description: 'any JSON value; templates are rendered first' } }, required: ['value'] },
  },
  {
    name: 'workflow.run',
    description: 'Runs another workflow (inline definition) as one step and returns { executionId, status, results } when it ends.',
    inputSchema: {
      type: 'object',
      properties: {
        definition: { type: 'object', description: 'a workflow definition v1' },
        input: { type: 'object', description: "the child run's input" },
      },
      required: ['definition'],
    },
  },
];

export const BUILTIN_TOOL_NAMES: ReadonlySet<string> = new Set(BUILTIN_TOOLS.map((t) => t.name));
