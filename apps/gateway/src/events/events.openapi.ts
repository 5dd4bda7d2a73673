import { MAX_TIMELINE_BUCKETS, TIMELINE_SCAN_LIMIT } from '@toolpath/event-store';
import type { JsonSchema } from '../docs/zod-openapi';
import { ref } from '../docs/openapi-refs';

const dateTime = { type: 'string', format: 'date-time' };

/** OpenAPI components of the event reads added for the console: the timeline. */
export function eventTimelineSchemas(): Record<string, JsonSchema> {
  return {
    TimelinePoint: {
      type: 'object',
      required: ['start', 'calls', 'failures', 'sessions'],
      properties: {
        start: { ...dateTime, description: 'the first instant of the UTC hour or day' },
        calls: { type: 'integer', minimum: 0, description: 'tool calls that started in it' },
        failures: { type: 'integer', minimum: 0, description: 'of those, the ones that failed' },
        sessions: { type: 'integer', minimum: 0, description: 'distinct sessions with an event in it' },
      },
    },
    EventTimeline: {
      type: 'object',
      required: ['bucket', 'from', 'to', 'buckets', 'countedFrom'],
      properties: {
        bucket: { type: 'string', enum: ['hour', 'day'] },
        from: { ...dateTime, description: 'the range asked for, widened to whole buckets' },
        to: dateTime,
        buckets: { type: 'array', maxItems: MAX_TIMELINE_BUCKETS, items: ref('TimelinePoint'), description: 'oldest first, one per bucket, empty ones included' },
        countedFrom: {
          ...dateTime,
          nullable: true,
          description: `null when every event of the range was counted; else only the newest ${TIMELINE_SCAN_LIMIT} were, and this is the oldest of them: earlier buckets are partial`,
        },
      },
    },
  };
}
