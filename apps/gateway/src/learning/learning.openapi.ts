import type { JsonSchema } from '../docs/zod-openapi';
import { ref } from '../docs/openapi-refs';

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

const toolCount = { type: 'object', required: ['tool', 'count'], properties: { tool: { type: 'string' }, count: { type: 'integer' } } };

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
      stepRepeats: {
        type: 'array',
        description: 'per step, the calls of its tool in a row (a loop counts as one step): mean and max over the supporting sessions',
        items: { type: 'object', required: ['mean', 'max'], properties: { mean: { type: 'number' }, max: { type: 'integer' } } },
      },
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
    PatternPage: { type: 'object', properties: { items: { type: 'array', items: ref('Pattern') }, nextCursor: { type: 'string', nullable: true } } },
    PatternDetail: {
      allOf: [
        ref('Pattern'),
        {
          type: 'object',
          properties: {
            workflow: ref('WorkflowDefinition'),
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
    Promotion: { type: 'object', properties: { patternId: { type: 'string' }, created: { type: 'boolean' }, workflow: ref('StoredWorkflow') } },
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
        workflow: ref('WorkflowDefinition'),
        procedure: {
          type: 'object',
          description:
            'present when the suggestion is the whole procedure that past sessions with the most similar intents followed (not yet a learned pattern; its workflow is a draft without parameters)',
          properties: {
            followedBy: { type: 'integer', description: 'similar sessions that made exactly these calls' },
            neighbours: { type: 'integer', description: 'similar sessions considered' },
            expectedOverlap: { type: 'number', description: 'weighted mean Jaccard overlap of its tools with theirs' },
          },
        },
      },
    },
    Suggestions: {
      type: 'object',
      properties: {
        items: { type: 'array', items: ref('Suggestion') },
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
    FlowBasis: {
      type: 'object',
      required: ['source', 'exact', 'from', 'to', 'notes'],
      description: 'how the answer was computed, and whether it is exact',
      properties: {
        source: {
          type: 'string',
          enum: ['all', 'user', 'agent', 'intent', 'time-buckets', 'recent-sessions'],
          description: "all: the tenant's graph; user/agent/intent: that value's own aggregate; time-buckets: hour/day/month/year aggregates; recent-sessions: a scan of the most recently closed sessions",
        },
        exact: { type: 'boolean', description: 'false when approximate or incomplete (`notes` say why)' },
        from: { ...dateTime, nullable: true, description: 'start of the time range counted (session start times), wider than asked when time buckets were used' },
        to: { ...dateTime, nullable: true, description: 'end of the time range counted (exclusive)' },
        notes: { type: 'array', items: { type: 'string' } },
      },
    },
    FlowStats: {
      type: 'object',
      required: ['sessions', 'activities', 'edges', 'starts', 'ends', 'basis'],
      properties: {
        sessions: { type: 'integer', description: 'closed sessions counted (with at least one call)' },
        activities: { type: 'array', items: toolCount, description: 'occurrences per tool, most frequent first' },
        edges: {
          type: 'array',
          description: 'directly-follows edges, most frequent first',
          items: {
            type: 'object',
            required: ['from', 'to', 'count', 'meanGapMs', 'p95GapMs'],
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              count: { type: 'integer', description: 'times a call of `to` directly follows a call of `from` in a session' },
              meanGapMs: { type: 'number', description: 'mean of to.startedAt − (from.startedAt + from.durationMs), floored at 0' },
              p95GapMs: { type: 'number', description: '95th percentile of the same gap (sketch)' },
            },
          },
        },
        starts: { type: 'array', items: toolCount, description: 'first tool per session' },
        ends: { type: 'array', items: toolCount, description: 'last tool per session' },
        basis: ref('FlowBasis'),
      },
    },
    Variant: {
      type: 'object',
      required: ['variantId', 'tools', 'length', 'count', 'share', 'successful', 'failed', 'successRate', 'meanDurationMs', 'exact'],
      properties: {
        variantId: { type: 'string', description: 'derived from the tool sequence (stable)' },
        tools: { type: 'array', items: { type: 'string' }, description: 'the sequence (its first 100 tools)' },
        length: { type: 'integer', description: 'calls in the whole sequence' },
        count: { type: 'integer', description: 'sessions with exactly this sequence' },
        share: { type: 'number', description: 'count / sessions' },
        successful: { type: 'integer' },
        failed: { type: 'integer' },
        successRate: { type: 'number' },
        meanDurationMs: { type: 'number', description: 'mean session duration' },
        exact: { type: 'boolean', description: 'false when earlier sessions of this variant may be missing (first listed after the table was cut)' },
      },
    },
    VariantPage: {
      type: 'object',
      required: ['items', 'nextCursor', 'sessions', 'otherSessions', 'basis'],
      properties: {
        items: { type: 'array', items: ref('Variant') },
        nextCursor: { type: 'string', nullable: true },
        sessions: { type: 'integer', description: 'sessions the answer covers' },
        otherSessions: { type: 'integer', description: 'of those, sessions of variants no longer listed (bounded table)' },
        basis: ref('FlowBasis'),
      },
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
        lastRun: { allOf: [ref('AnalyzerRun')], nullable: true },
        watermark: { type: 'integer', description: 'highest stream sequence counted for this tenant' },
      },
    },
  };
}
