import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionView, FieldIssue, Suggestion } from '@toolpath/contracts';
import { APP_CONFIG } from '@toolpath/platform';
import { ExecutionsService } from '../executions/executions.service';
import type { GatewayConfig } from '../gateway.config';
import { AnalyzerClient } from '../learning/analyzer.client';
import { LibraryService } from '../library/library.service';
import { McpServerMetrics } from './mcp-server.metrics';
import type { McpCallContext, McpCallExtras, McpToolProvider } from './mcp-tool-provider';
import { errorFromException, errorResult, invalidArguments, okResult } from './tool-results';
import { GetExecutionArgs, RunArgs, SearchArgs, SuggestArgs, inputSchemaOf, parseArgs } from './toolpath-tool-arguments';
import { workflowResourceUri } from './workflow-resources';
import { WorkflowRunWaiter } from './workflow-run-waiter';
import { WorkflowToolCatalog } from './workflow-tool-catalog';

const BUILTIN: Tool[] = [
  {
    name: 'suggest_workflows',
    title: 'Suggest workflows',
    description:
      'Workflows worth running for what you are about to do (intent) or after the tools you already called, each with its reasons (support, success rate, matching intents). Catalog workflows come first; learned ones above the confidence threshold. Also the usual next tools after `tools`.',
    inputSchema: inputSchemaOf(SuggestArgs),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'search_workflows',
    title: 'Search workflows',
    description: "Search Toolpath's workflow catalog by text, category, tag and tools (match all or any of `tools`).",
    inputSchema: inputSchemaOf(SearchArgs),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'run_workflow',
    title: 'Run a workflow',
    description:
      'Runs a catalog workflow with `input` and waits up to `waitMs` for it: its result (each step with its status and result), or the execution id while it is still running (read it later with get_execution). Reports progress per finished step when the call asks for progress.',
    inputSchema: inputSchemaOf(RunArgs),
    annotations: { readOnlyHint: false, openWorldHint: true },
  },
  {
    name: 'get_execution',
    title: 'Get an execution',
    description: 'A run of a workflow: its status, steps (status, attempts, result, error) and timing.',
    inputSchema: inputSchemaOf(GetExecutionArgs),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
];

/**
 * Toolpath's own tools on its MCP server: suggest, search, run and read runs, and each chosen
 * catalog workflow as a tool of its own (WorkflowToolCatalog). Every call answers a result: bad
 * input and failures of the services behind are tool errors naming the field or the service.
 */
@Injectable()
export class ToolpathToolProvider implements McpToolProvider {
  private readonly log = new Logger('McpToolpathTools');

  constructor(
    private readonly analyzer: AnalyzerClient,
    private readonly library: LibraryService,
    private readonly executions: ExecutionsService,
    private readonly waiter: WorkflowRunWaiter,
    private readonly workflowTools: WorkflowToolCatalog,
    private readonly metrics: McpServerMetrics,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {
    workflowTools.reserve(BUILTIN.map((t) => t.name));
  }

  async listTools(ctx: McpCallContext): Promise<Tool[]> {
    return [...BUILTIN, ...(await this.workflowTools.tools(ctx.tenantId)).map((e) => e.tool)];
  }

  onListChanged(tenantId: string, listener: () => void): () => void {
    return this.workflowTools.watch(tenantId, listener);
  }

  async callTool(ctx: McpCallContext, name: string, args: Record<string, unknown>, extras: McpCallExtras): Promise<CallToolResult | undefined> {
    try {
      switch (name) {
        case 'suggest_workflows':
          return await this.suggest(ctx, args);
        case 'search_workflows':
          return await this.search(ctx, args);
        case 'run_workflow': {
          const parsed = parseArgs(RunArgs, args);
          if (!parsed.ok) return this.invalid(name, parsed.fields);
          const { workflowId, input, waitMs } = parsed.value;
          return await this.run(ctx, name, workflowId, input, waitMs ?? this.config.GATEWAY_MCP_RUN_WAIT_MS, extras, 'input');
        }
        case 'get_execution': {
          const parsed = parseArgs(GetExecutionArgs, args);
          if (!parsed.ok) return this.invalid(name, parsed.fields);
          return okResult(executionResult(await this.executions.get(ctx.tenantId, parsed.value.executionId), true));
        }
      }
      // `<server>__<tool>` is another provider's (a workflow tool's name never has "__"): no catalog lookup.
      if (name.includes('__')) return undefined;
      const entry = await this.workflowTools.byName(ctx.tenantId, name);
      if (!entry) return undefined;
      // A workflow tool's arguments are the run's input: fields are named as the caller wrote them.
      return await this.run(ctx, name, entry.workflowId, args, this.config.GATEWAY_MCP_RUN_WAIT_MS, extras, '');
    } catch (err) {
      return this.failed(name, err);
    }
  }

  private async suggest(ctx: McpCallContext, args: Record<string, unknown>): Promise<CallToolResult> {
    const parsed = parseArgs(SuggestArgs, args);
    if (!parsed.ok) return this.invalid('suggest_workflows', parsed.fields);
    const { intent, tools, userId, agentId, limit } = parsed.value;
    const view = await this.analyzer.suggest(ctx.tenantId, {
      ...(intent !== undefined ? { intent } : {}),
      ...(tools !== undefined ? { tools: tools.slice(-100) } : {}),
      ...(userId !== undefined ? { userId } : {}),
      ...(agentId !== undefined ? { agentId } : {}),
      limit,
    });
    return okResult({ items: view.items.map((s) => this.suggestionOut(ctx.tenantId, s)), nextSteps: view.nextSteps });
  }

  private suggestionOut(tenantId: string, s: Suggestion): Record<string, unknown> {
    const mcpTool = s.workflowId ? this.workflowTools.cachedNameOf(tenantId, s.workflowId) : undefined;
    return {
      ...(s.workflowId ? { workflowId: s.workflowId, resource: workflowResourceUri(s.workflowId) } : {}),
      ...(s.patternId ? { patternId: s.patternId } : {}),
      ...(mcpTool ? { mcpTool } : {}),
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
      source: s.source,
      score: s.score,
      confidence: s.confidence,
      tools: s.tools,
      matchedSteps: s.matchedSteps,
      ...(s.nextTool ? { nextTool: s.nextTool } : {}),
      reasons: s.reasons,
      ...(s.workflowId ? {} : { workflow: s.workflow }),
    };
  }

  private async search(ctx: McpCallContext, args: Record<string, unknown>): Promise<CallToolResult> {
    const parsed = parseArgs(SearchArgs, args);
    if (!parsed.ok) return this.invalid('search_workflows', parsed.fields);
    const page = await this.library.searchWorkflows(ctx.tenantId, parsed.value);
    return okResult({
      items: page.items.map((h) => {
        const mcpTool = h.kind === 'workflow' ? this.workflowTools.cachedNameOf(ctx.tenantId, h.id) : undefined;
        return {
          kind: h.kind,
          id: h.id,
          ...(h.kind === 'workflow' ? { resource: workflowResourceUri(h.id) } : {}),
          ...(mcpTool ? { mcpTool } : {}),
          name: h.name,
          description: h.description,
          ...(h.category ? { category: h.category } : {}),
          tags: h.tags,
          source: h.source,
          tools: h.tools,
          score: h.score,
          matchedTools: h.matchedTools,
          coverage: h.coverage,
        };
      }),
      truncated: page.truncated,
    });
  }

  /** Starts the stored workflow (checked as POST /workflows/:id/run checks it) and waits for it. */
  private async run(
    ctx: McpCallContext,
    tool: string,
    workflowId: string,
    input: Record<string, unknown>,
    waitMs: number,
    extras: McpCallExtras,
    inputField: 'input' | '',
  ): Promise<CallToolResult> {
    let executionId: string;
    try {
      ({ executionId } = await this.executions.startStored(ctx.tenantId, workflowId, { input }));
    } catch (err) {
      const { result, status, fields } = errorFromException(err);
      if (status !== 400) return this.failed(tool, err);
      const named = inputField === 'input' ? fields : fields.map((f) => ({ ...f, field: f.field.replace(/^input\.?/, '') || '(arguments)' }));
      return inputField === 'input' ? this.counted(result) : this.invalid(tool, named);
    }
    let waited: Awaited<ReturnType<WorkflowRunWaiter['wait']>>;
    try {
      waited = await this.waiter.wait(ctx.tenantId, executionId, waitMs, extras);
    } catch (err) {
      // The run was started: whatever failed while waiting, the caller keeps its id.
      const { result } = errorFromException(err);
      const message = `the run ${executionId} started, but reading it failed: ${result.content[0]?.type === 'text' ? result.content[0].text : 'error'}`;
      this.log.warn(message);
      return errorResult('unavailable', message, [], { executionId });
    }
    const { view, finished } = waited;
    const out = executionResult(view, finished);
    if (finished && view.status !== 'COMPLETED') {
      return errorResult('run_failed', `the run ${executionId} ended ${view.status}${view.error ? `: ${view.error}` : ''}`, [], out);
    }
    return okResult(out);
  }

  private invalid(tool: string, fields: FieldIssue[]): CallToolResult {
    return this.counted(invalidArguments(tool, fields));
  }

  private counted(result: CallToolResult): CallToolResult {
    this.metrics.badInput.inc({ reason: 'invalid_arguments' });
    return result;
  }

  private failed(tool: string, err: unknown): CallToolResult {
    const { result, status } = errorFromException(err);
    if (status >= 500) this.log.warn(`${tool} failed: ${(err as Error)?.message ?? String(err)}`);
    if (status === 400) this.metrics.badInput.inc({ reason: 'invalid_arguments' });
    return result;
  }
}

/** A run as a tool result: `finished` false while it goes on (read it again with get_execution). */
function executionResult(view: ExecutionView, finished: boolean): Record<string, unknown> {
  return {
    executionId: view.id,
    status: view.status,
    finished,
    ...(view.workflowId ? { workflowId: view.workflowId, version: view.version } : {}),
    startedAt: view.startedAt,
    endedAt: view.endedAt,
    durationMs: view.durationMs,
    ...(view.error ? { error: view.error } : {}),
    steps: view.steps.map((s) => ({
      id: s.id,
      tool: s.tool,
      status: s.status,
      attempts: s.attempts,
      durationMs: s.durationMs,
      ...(s.result !== undefined ? { result: s.result } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
    ...(finished ? {} : { hint: `still running: call get_execution with executionId "${view.id}"` }),
  };
}
