type JsonSchema = Record<string, unknown>;

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dateTime = { type: 'string', format: 'date-time' };
const counts = { type: 'object', additionalProperties: { type: 'integer' } };
const nullableNumber = { type: 'number', nullable: true };
const tally = {
  total: { type: 'integer' },
  successful: { type: 'integer' },
  failed: { type: 'integer' },
  successRate: nullableNumber,
  meanDurationMs: nullableNumber,
};

/** OpenAPI components of the learning routes (patterns, runs, suggestions, stats). */
export function learningSchemas(): Record<string, JsonSchema> {
  const pattern = {
    type: 'object',
    required: ['id', 'tools', 'support', 'successRate', 'meanDurationMs', 'p95DurationMs', 'score', 'confidence'],
    properties: {
      id: { type: 'string' },
      tools: { type: 'array', items: { type: 'string' }, description: 'tool names in order' },
      support: { type: 'integer', description: 'distinct sessions containing the sequence' },
      successRate: { type: 'number', description: 'of the sessions (session_end) where known, else of the steps' },
      stepSuccessRate: { type: 'number' },
      sessionSuccessRate: nullableNumber,
      meanDurationMs: { type: 'number' },
      p95DurationMs: { type: 'number' },
      score: { type: 'number', description: 'support × successRate' },
      confidence: { type: 'number', description: 'Wilson lower bound (95%) of the success rate' },
      intents: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, count: { type: 'integer' } } } },
      supportByUser: counts,
      supportByAgent: counts,
      firstSeenAt: dateTime,
      lastSeenAt: dateTime,
      promotedWorkflowId: { type: 'string', nullable: true },
    },
  };
  const run = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      mode: { type: 'string', enum: ['incremental', 'full'] },
      trigger: { type: 'string', enum: ['schedule', 'request'] },
      status: { type: 'string', enum: ['running', 'completed', 'failed', 'skipped'] },
      startedAt: dateTime,
      endedAt: { ...dateTime, nullable: true },
      durationMs: { type: 'integer', nullable: true },
      eventsRead: { type: 'integer', description: "this tenant's events the run read (never other tenants' figures)" },
      invalidEvents: { type: 'integer', description: 'of those, invalid ones (skipped; the recorder dead-letters them)' },
      alreadyCounted: { type: 'integer', description: 'of those, redelivered events skipped by the watermark' },
      tenant: {
        type: 'object',
        description: "this tenant's share",
        properties: { events: { type: 'integer' }, sessionsClosed: { type: 'integer' }, patterns: { type: 'integer' }, patternsChanged: { type: 'integer' } },
      },
      error: { type: 'string' },
    },
  };
  return {
    Pattern: pattern,
    PatternPage: { type: 'object', properties: { items: { type: 'array', items: schemaRef('Pattern') }, nextCursor: { type: 'string', nullable: true } } },
    PatternDetail: {
      allOf: [
        schemaRef('Pattern'),
        {
          type: 'object',
          properties: {
            workflow: schemaRef('WorkflowDefinition'),
            bindings: { type: 'array', items: { type: 'object', properties: { stepId: { type: 'string' }, parameter: { type: 'string' }, from: { type: 'string' } } } },
            parallelGroups: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
            examples: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  sessionId: { type: 'string' },
                  steps: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { tool: { type: 'string' }, parameters: { type: 'object' }, result: {}, success: { type: 'boolean' }, durationMs: { type: 'number' }, startedAt: dateTime },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
    Promotion: { type: 'object', properties: { patternId: { type: 'string' }, created: { type: 'boolean' }, workflow: schemaRef('StoredWorkflow') } },
    AnalyzerRun: run,
    Suggestion: {
      type: 'object',
      properties: {
        workflowId: { type: 'string', description: 'catalog id (user workflows and promoted patterns)' },
        patternId: { type: 'string' },
        source: { type: 'string', enum: ['user', 'learned', 'generated', 'template'] },
        name: { type: 'string' },
        description: { type: 'string' },
        score: { type: 'number' },
        confidence: nullableNumber,
        tools: { type: 'array', items: { type: 'string' } },
        matchedSteps: { type: 'integer', description: 'first steps of the workflow matching the last tools called' },
        nextTool: { type: 'string' },
        reasons: { type: 'array', items: { type: 'string' } },
        workflow: schemaRef('WorkflowDefinition'),
      },
    },
    Suggestions: {
      type: 'object',
      properties: {
        items: { type: 'array', items: schemaRef('Suggestion') },
        nextSteps: {
          type: 'array',
          items: { type: 'object', properties: { tool: { type: 'string' }, probability: { type: 'number' }, support: { type: 'integer' } } },
        },
      },
    },
    PatternStats: {
      type: 'object',
      properties: { items: { type: 'array', items: { type: 'object', properties: { patternId: { type: 'string' }, tools: { type: 'array', items: { type: 'string' } }, ...tally } } } },
    },
    IntentStats: {
      type: 'object',
      properties: { items: { type: 'array', items: { type: 'object', properties: { intent: { type: 'string' }, topPatternIds: { type: 'array', items: { type: 'string' } }, ...tally } } } },
    },
    LearningHealth: {
      type: 'object',
      properties: {
        totals: {
          type: 'object',
          properties: {
            ...tally,
            sessions: { type: 'integer' },
            events: { type: 'integer' },
            patterns: { type: 'integer' },
            promoted: { type: 'integer' },
            intents: { type: 'integer' },
            openSessions: { type: 'integer' },
          },
        },
        last24h: { type: 'object', properties: { ...tally, sessions: { type: 'integer' } } },
        topCandidates: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              patternId: { type: 'string' },
              tools: { type: 'array', items: { type: 'string' } },
              score: { type: 'number' },
              confidence: { type: 'number' },
              support: { type: 'integer' },
              successRate: { type: 'number' },
            },
          },
        },
        lastRun: { allOf: [schemaRef('AnalyzerRun')], nullable: true },
        watermark: { type: 'integer', description: 'highest stream sequence counted for this tenant' },
      },
    },
  };
}
