import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { MAX_EVENTS_PER_BATCH, ToolEventInputSchema, ToolEventSchema } from '@toolpath/contracts';
import { workflowDefinitionJsonSchema } from '@toolpath/workflow';
import { learningSchemas } from '../learning/learning.openapi';
import { StartInlineRunBody, StartWorkflowRunBody } from '../executions/executions.schemas';
import { librarySchemas } from '../library/library.openapi';
import { eventTimelineSchemas } from '../events/events.openapi';
import { openapiSchema, type JsonSchema } from './zod-openapi';
import { ref } from './openapi-refs';



/** Contract schemas rendered for OpenAPI: the same zod objects that validate requests. */
function contractSchemas(): Record<string, JsonSchema> {
  const event = openapiSchema(ToolEventSchema);
  // Over REST the key's tenant, the spec version and a fresh eventId are filled in when left out.
  const input = openapiSchema(ToolEventInputSchema);
  const fieldIssue = { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['field', 'message'] };
  return {
    ToolEvent: event,
    ToolEventInput: input,
    FieldIssue: fieldIssue,
    ApiError: {
      type: 'object',
      required: ['statusCode', 'error', 'message'],
      properties: {
        statusCode: { type: 'integer' },
        error: { type: 'string' },
        message: { type: 'string' },
        details: { oneOf: [{ type: 'array', items: { $ref: '#/components/schemas/FieldIssue' } }, { type: 'object' }] },
      },
    },
    SubmitEventsResult: {
      type: 'object',
      properties: {
        accepted: { type: 'integer' },
        eventIds: { type: 'array', items: { type: 'string' } },
        duplicates: { type: 'integer', description: 'accepted events the stream had already seen (same eventId)' },
        errors: {
          type: 'array',
          maxItems: MAX_EVENTS_PER_BATCH,
          items: {
            type: 'object',
            properties: {
              index: { type: 'integer' },
              status: { type: 'integer' },
              reason: { type: 'string', enum: ['invalid_event', 'too_large', 'publish_failed'] },
              field: { type: 'string' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
    EventPage: {
      type: 'object',
      properties: { items: { type: 'array', items: { $ref: '#/components/schemas/ToolEvent' } }, nextCursor: { type: 'string', nullable: true } },
    },
    Session: {
      type: 'object',
      properties: {
        sessionId: { type: 'string' },
        intent: { type: 'string' },
        success: { type: 'boolean' },
        events: { type: 'array', items: { $ref: '#/components/schemas/ToolEvent' } },
      },
    },
    ...eventReadSchemas(),
    ...eventTimelineSchemas(),
    ...workflowSchemas(),
    ...learningSchemas(),
    ...librarySchemas(),
  };
}

const pageOf = (item: string): JsonSchema => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: { type: 'string', nullable: true } },
});

/** What the event routes read back: dead letters, session summaries and totals. */
function eventReadSchemas(): Record<string, JsonSchema> {
  const nullableString = { type: 'string', nullable: true };
  const nullableNumber = { type: 'number', nullable: true };
  const tally = {
    type: 'object',
    required: ['total', 'successful', 'failed', 'successRate', 'avgDurationMs'],
    properties: { total: { type: 'integer' }, successful: { type: 'integer' }, failed: { type: 'integer' }, successRate: nullableNumber, avgDurationMs: nullableNumber },
  };
  return {
    RejectedEvent: {
      type: 'object',
      required: ['id', 'tenantId', 'subject', 'reason', 'field', 'message', 'issues', 'eventId', 'receivedAt', 'streamSeq', 'consumer', 'rawBytes', 'rawPreview', 'rawTruncated'],
      properties: {
        id: { type: 'string' },
        tenantId: nullableString,
        subject: { type: 'string' },
        reason: { type: 'string' },
        field: nullableString,
        message: { type: 'string' },
        issues: { type: 'array', items: ref('FieldIssue') },
        eventId: nullableString,
        receivedAt: { type: 'string', format: 'date-time' },
        streamSeq: { type: 'integer' },
        consumer: { type: 'string', description: 'the recorder (refused at the door) or the consumer that gave up after its tries' },
        attempts: { type: 'integer' },
        rawBytes: { type: 'integer' },
        rawPreview: { type: 'string', description: 'the first 16 KiB of the bytes received' },
        rawTruncated: { type: 'boolean' },
      },
    },
    RejectedEventPage: pageOf('RejectedEvent'),
    SessionSummary: {
      type: 'object',
      required: ['sessionId', 'ended', 'events', 'toolCalls', 'failedCalls', 'tools', 'agents', 'firstStartedAt', 'lastStartedAt'],
      properties: {
        sessionId: { type: 'string' },
        intent: { type: 'string' },
        success: { type: 'boolean' },
        ended: { type: 'boolean' },
        events: { type: 'integer' },
        toolCalls: { type: 'integer' },
        failedCalls: { type: 'integer' },
        tools: { type: 'array', items: { type: 'string' } },
        agents: { type: 'array', items: { type: 'string' }, description: 'the agentIds that sent its events, sorted' },
        firstStartedAt: { type: 'string', format: 'date-time' },
        lastStartedAt: { type: 'string', format: 'date-time' },
      },
    },
    SessionSummaryPage: pageOf('SessionSummary'),
    EventTally: tally,
    EventStats: {
      type: 'object',
      required: ['overall', 'last24h', 'byTool', 'byIntent'],
      properties: {
        overall: ref('EventTally'),
        last24h: ref('EventTally'),
        byTool: { type: 'array', items: { allOf: [ref('EventTally'), { type: 'object', required: ['tool'], properties: { tool: { type: 'string' } } }] } },
        byIntent: { type: 'array', items: { allOf: [ref('EventTally'), { type: 'object', required: ['intent'], properties: { intent: { type: 'string' } } }] } },
      },
    },
  };
}

/**
 * The definition's own properties plus `extra`, in one object (an allOf would let the
 * definition's `additionalProperties: false` forbid the added fields).
 */
function definitionPlus(definition: JsonSchema, extra: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return {
    ...definition,
    required: [...new Set([...((definition.required as string[] | undefined) ?? []), ...required])],
    properties: { ...(definition.properties as Record<string, JsonSchema>), ...extra },
  };
}

/** What storing adds to a definition. */
const storedFields: Record<string, JsonSchema> = {
  id: { type: 'string' },
  version: { type: 'integer', minimum: 1 },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  templateId: { type: 'string', description: 'the template it was made from' },
  generationId: { type: 'string', description: 'the generation that drafted it' },
};

/** The workflow definition (from `@toolpath/workflow`) and the catalog and run shapes around it. */
function workflowSchemas(): Record<string, JsonSchema> {
  // The definition's JSON Schema is draft 2020-12; OpenAPI 3.0 wants neither $schema nor $id.
  const { $schema: _schema, $id: _id, ...definition } = workflowDefinitionJsonSchema();
  const dateTime = { type: 'string', format: 'date-time' };
  const nullableTime = { type: 'string', format: 'date-time', nullable: true };
  const status = { type: 'string', enum: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] };
  const validationError = {
    type: 'object',
    required: ['field', 'message', 'code'],
    properties: {
      stepId: { type: 'string' },
      field: { type: 'string' },
      message: { type: 'string' },
      code: { type: 'string' },
      position: { type: 'integer' },
      cycle: { type: 'array', items: { type: 'string' } },
    },
  };
  return {
    WorkflowDefinition: definition,
    StoredWorkflow: definitionPlus(definition, storedFields, ['id', 'version', 'createdAt', 'updatedAt']),
    // A version is immutable: it has the time it was made and no update time.
    WorkflowVersion: definitionPlus(definition, storedFields, ['id', 'version', 'createdAt']),
    WorkflowUpdate: definitionPlus(definition, { expectedVersion: { type: 'integer', minimum: 1, description: 'answer 409 unless the workflow is at this version' } }, []),
    Template: definitionPlus(definition, { summary: ref('TemplateSummary') }, ['id', 'summary']),
    WorkflowVersionPage: pageOf('WorkflowVersion'),
    WorkflowPage: { type: 'object', properties: { items: { type: 'array', items: ref('StoredWorkflow') }, nextCursor: { type: 'string', nullable: true } } },
    WorkflowValidationError: validationError,
    WorkflowValidation: {
      type: 'object',
      required: ['valid', 'errors', 'levels'],
      properties: {
        valid: { type: 'boolean' },
        errors: { type: 'array', items: ref('WorkflowValidationError') },
        levels: { type: 'array', items: { type: 'array', items: { type: 'string' } }, description: 'step ids that can run in parallel, level by level' },
      },
    },
    WorkflowStats: {
      type: 'object',
      properties: {
        workflowId: { type: 'string' },
        total: { type: 'integer' },
        byStatus: { type: 'object', additionalProperties: { type: 'integer' } },
        meanDurationMs: { type: 'number', nullable: true },
        successRate: { type: 'number', nullable: true },
        truncated: { type: 'boolean' },
      },
    },
    // The run bodies as their zod schemas validate them; the inline definition is checked by the
    // workflow library (its JSON Schema), so it is referenced rather than left open.
    StartRunRequest: openapiSchema(StartWorkflowRunBody),
    StartInlineRunRequest: (() => {
      const inline = openapiSchema(StartInlineRunBody);
      return { ...inline, properties: { ...(inline.properties as object), definition: ref('WorkflowDefinition') } };
    })(),
    RunAccepted: { type: 'object', required: ['executionId', 'status'], properties: { executionId: { type: 'string' }, status } },
    ExecutionStep: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        tool: { type: 'string' },
        status: { type: 'string' },
        attempts: { type: 'integer' },
        startedAt: nullableTime,
        endedAt: nullableTime,
        durationMs: { type: 'number', nullable: true },
        result: {},
        error: { type: 'string' },
      },
    },
    Execution: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        workflowId: { type: 'string' },
        version: { type: 'integer' },
        status,
        input: { type: 'object', additionalProperties: true },
        steps: { type: 'array', items: ref('ExecutionStep') },
        startedAt: nullableTime,
        endedAt: nullableTime,
        durationMs: { type: 'number', nullable: true },
        parallelSpeedup: { type: 'number', nullable: true },
        error: { type: 'string' },
      },
    },
    ExecutionPage: { type: 'object', properties: { items: { type: 'array', items: ref('Execution') }, nextCursor: { type: 'string', nullable: true } } },
    ExecutionUpdate: {
      type: 'object',
      properties: {
        executionId: { type: 'string' },
        tenantId: { type: 'string' },
        kind: { type: 'string', enum: ['step', 'run'] },
        stepId: { type: 'string' },
        status: { type: 'string' },
        attempt: { type: 'integer' },
        at: dateTime,
        durationMs: { type: 'number' },
        error: { type: 'string' },
      },
    },
  };
}

/** Serves the UI at `/docs` and the document at `/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Toolpath API')
    .setDescription(
      'Records tool calls, learns the workflows they form, and runs them. Every route but /health, /metrics and /docs needs `Authorization: Bearer <api key>`. The BullMQ dashboard is at /queues (same keys; a browser can open /queues?key=<api key> once, which sets a cookie for /queues only).',
    )
    .setVersion('1')
    .addBearerAuth()
    // Declared so the UI shows the groups in the order a new user meets them, each with a line.
    .addTag('events', 'Tool-call events in (REST; the SDKs publish over NATS), sessions and totals out')
    .addTag('learning', 'Mined patterns, their promotion to the catalog, analyzer runs, suggestions and learning statistics')
    .addTag('workflows', 'The workflow catalog: definitions, versions, validation, copies and search')
    .addTag('runs', 'Running workflows: start, follow (server-sent events), cancel')
    .addTag('templates', 'Built-in workflow templates and their instantiation into the catalog')
    .addTag('generation', 'Workflows drafted from a sentence (LLM, or offline without OPENAI_API_KEY)')
    .addTag('resources', 'Tools, agents and MCP servers a step can use')
    .addTag('openai-compatible', 'Chat completions proxied to the configured LLM and recorded as sessions')
    .addTag('health', 'Readiness and liveness (no API key)')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...contractSchemas() } as never };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
