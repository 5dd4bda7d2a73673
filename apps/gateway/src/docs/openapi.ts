import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { MAX_EVENTS_PER_BATCH, ToolEventInputSchema, ToolEventSchema } from '@toolpath/contracts';

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
  };
}

/** Serves the UI at `/docs` and the document at `/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Toolpath API')
    .setDescription('Records tool calls, learns the workflows they form, and runs them. Every route but /health, /metrics and /docs needs `Authorization: Bearer <api key>`.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...contractSchemas() } as never };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
