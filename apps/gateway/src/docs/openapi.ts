import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { MAX_EVENTS_PER_BATCH, ToolEventInputSchema, ToolEventSchema } from '@toolpath/contracts';
import { workflowDefinitionJsonSchema } from '@toolpath/workflow';
import { learningSchemas } from '../learning/learning.openapi';
import { librarySchemas } from '../library/library.openapi';

type JsonSchema = Record<string, unknown>;

const openapi = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** Contract schemas rendered for OpenAPI: the same zod objects that validate requests. */
function contractSchemas(): Record<string, JsonSchema> {
  const event = openapi(ToolEventSchema);
  // Over REST the key's tenant, the spec version and a fresh eventId are filled in when left out.
  const input = openapi(ToolEventInputSchema);
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
    ...workflowSchemas(),
    ...learningSchemas(),
    ...librarySchemas(),
  };
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

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
  const input = { type: 'object', additionalProperties: true, description: "the run's input, checked against the workflow's variables" };
  const idempotencyKey = { type: 'string', minLength: 1, maxLength: 256, description: 'the same key (per tenant) returns the same run' };
  return {
    WorkflowDefinition: definition,
    // The definition's own properties plus what storing adds, in one object: an allOf would let
    // the definition's `additionalProperties: false` forbid the stored fields.
    StoredWorkflow: {
      ...definition,
      required: [...new Set([...((definition.required as string[] | undefined) ?? []), 'id', 'version', 'createdAt', 'updatedAt'])],
      properties: {
        ...(definition.properties as Record<string, JsonSchema>),
        id: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        createdAt: dateTime,
        updatedAt: dateTime,
        templateId: { type: 'string', description: 'the template it was made from' },
        generationId: { type: 'string', description: 'the generation that drafted it' },
      },
    },
    WorkflowPage: { type: 'object', properties: { items: { type: 'array', items: schemaRef('StoredWorkflow') }, nextCursor: { type: 'string', nullable: true } } },
    WorkflowValidationError: validationError,
    WorkflowValidation: {
      type: 'object',
      required: ['valid', 'errors', 'levels'],
      properties: {
        valid: { type: 'boolean' },
        errors: { type: 'array', items: schemaRef('WorkflowValidationError') },
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
    StartRunRequest: { type: 'object', additionalProperties: false, properties: { input, idempotencyKey } },
    StartInlineRunRequest: { type: 'object', additionalProperties: false, required: ['definition'], properties: { definition: schemaRef('WorkflowDefinition'), input, idempotencyKey } },
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
        steps: { type: 'array', items: schemaRef('ExecutionStep') },
        startedAt: nullableTime,
        endedAt: nullableTime,
        durationMs: { type: 'number', nullable: true },
        parallelSpeedup: { type: 'number', nullable: true },
        error: { type: 'string' },
      },
    },
    ExecutionPage: { type: 'object', properties: { items: { type: 'array', items: schemaRef('Execution') }, nextCursor: { type: 'string', nullable: true } } },
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
