import { GenerateBodySchema } from '@toolpath/contracts';
import { openapiSchema, type JsonSchema } from '../docs/zod-openapi';
import { ref } from '../docs/openapi-refs';


const strings = { type: 'array', items: { type: 'string' } };
const dateTime = { type: 'string', format: 'date-time' };

/** OpenAPI components of the generation, template and search routes. */
export function librarySchemas(): Record<string, JsonSchema> {
  return {
    GenerateRequest: openapiSchema(GenerateBodySchema),
    Generation: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'generation id, for apply' },
        workflow: ref('WorkflowDefinition'),
        explanation: { type: 'string' },
        toolsUsed: { ...strings, description: 'existing tools the draft calls' },
        missingTools: {
          type: 'array',
          description: 'tools the draft would need that do not exist; its steps call "missing:<name>"',
          items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string' }, stepIds: strings } },
        },
        reusedWorkflows: {
          type: 'array',
          items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, source: { type: 'string' }, successRate: { type: 'number', nullable: true }, runs: { type: 'integer' } } },
        },
        warnings: strings,
        offline: { type: 'boolean', description: 'drafted by the offline planner (no LLM)' },
        model: { type: 'string', nullable: true },
        usage: { type: 'object', nullable: true, properties: { promptTokens: { type: 'integer' }, completionTokens: { type: 'integer' }, totalTokens: { type: 'integer' } } },
        rounds: { type: 'integer', description: 'model calls: the first answer plus repair rounds' },
        durationMs: { type: 'number' },
        llmMs: { type: 'number', description: 'part of durationMs spent waiting for the model' },
        createdAt: dateTime,
      },
    },
    ApplyGenerationRequest: {
      type: 'object',
      description: 'exactly one of the two',
      properties: { generationId: { type: 'string' }, workflow: ref('WorkflowDefinition') },
    },
    AppliedGeneration: {
      type: 'object',
      properties: { id: { type: 'string' }, generationId: { type: 'string' }, workflow: ref('StoredWorkflow'), warnings: strings },
    },
    TemplateSummary: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        category: { type: 'string' },
        tags: strings,
        tools: strings,
        variables: strings,
        requiredVariables: strings,
        steps: { type: 'integer' },
      },
    },
    TemplateList: {
      type: 'object',
      properties: {
        items: { type: 'array', items: ref('TemplateSummary') },
        nextCursor: { type: 'string', nullable: true },
        categories: { type: 'array', items: { type: 'object', properties: { category: { type: 'string' }, count: { type: 'integer' } } } },
      },
    },
    InstantiateTemplateRequest: {
      type: 'object',
      properties: {
        variables: { type: 'object', additionalProperties: true, description: "values for the template's variables" },
        name: { type: 'string' },
        description: { type: 'string' },
        tags: strings,
      },
    },
    WorkflowSearchPage: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['workflow', 'template'] },
              id: { type: 'string' },
              name: { type: 'string' },
              description: { type: 'string' },
              category: { type: 'string' },
              tags: strings,
              source: { type: 'string' },
              tools: strings,
              version: { type: 'integer' },
              updatedAt: dateTime,
              templateId: { type: 'string' },
              score: { type: 'number' },
              matchedTools: strings,
              coverage: { type: 'number', nullable: true },
            },
          },
        },
        nextCursor: { type: 'string', nullable: true },
        truncated: { type: 'boolean' },
      },
    },
  };
}
