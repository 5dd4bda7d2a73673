import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MAX_EVENTS_PER_BATCH, type Page } from '@toolpath/contracts';
import { InvalidCursorError, type EventStats, type SessionSummary } from '@toolpath/event-store';
import { ApiError, ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { ref, errorResponses } from '../docs/openapi-refs';
import { EventReadsService } from './event-reads.service';
import { eventView, rejectedView } from './event-views';
import { ListEventsQuery, PageQuery, RecentSessionsQuery, SessionIdParam } from './events.schemas';
import { SubmitEventsService, type SubmitResult } from './submit-events.service';

@ApiTags('events')
@ApiBearerAuth()
@errorResponses()
@Controller()
export class EventsController {
  constructor(
    private readonly submitEvents: SubmitEventsService,
    private readonly reads: EventReadsService,
  ) {}

  @Post('events')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit one tool-call event or a batch',
    description: `One event object, or an array of up to ${MAX_EVENTS_PER_BATCH}. tenantId comes from the API key (a different one is refused); specVersion and eventId are filled in when left out. 202 means the event stream has acknowledged each accepted event; invalid items are listed in errors with their index and field.`,
  })
  @ApiBody({ schema: { oneOf: [ref('ToolEventInput'), { type: 'array', maxItems: MAX_EVENTS_PER_BATCH, items: ref('ToolEventInput') }] } })
  @ApiResponse({ status: 202, schema: ref('SubmitEventsResult') })
  async submit(@Tenant() tenantId: string, @Body() body: unknown): Promise<SubmitResult> {
    return this.submitEvents.submit(tenantId, body);
  }

  @Get('events')
  @ApiOperation({ summary: 'List events, newest first (cursor pagination)' })
  @ApiQuery({ name: 'sessionId', required: false })
  @ApiQuery({ name: 'tool', required: false })
  @ApiQuery({ name: 'kind', required: false, enum: ['tool_call', 'session_end'] })
  @ApiQuery({ name: 'success', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'userId', required: false })
  @ApiQuery({ name: 'agentId', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'ISO-8601 or epoch ms, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO-8601 or epoch ms, exclusive' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiResponse({ status: 200, schema: ref('EventPage') })
  async list(@Tenant() tenantId: string, @Query(new ZodValidationPipe(ListEventsQuery)) q: ListEventsQuery): Promise<Page<Record<string, unknown>>> {
    const { limit, cursor, ...filter } = q;
    const page = await withCursor(() => this.reads.reader.list(tenantId, filter, limit, cursor));
    return { items: page.items.map(eventView), nextCursor: page.nextCursor };
  }

  @Get('events/rejected')
  @ApiOperation({
    summary: "Dead letters: events the recorder refused, or that a consumer (recorder, analyzer) failed to process after its bounded tries, with the reason, the field, the consumer, the attempts and the bytes as received (this tenant's only)",
  })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'cursor', required: false })
  async rejected(@Tenant() tenantId: string, @Query(new ZodValidationPipe(PageQuery)) q: { limit: number; cursor?: string }): Promise<Page<Record<string, unknown>>> {
    const page = await withCursor(() => this.reads.reader.listRejected(tenantId, q.limit, q.cursor));
    return { items: page.items.map(rejectedView), nextCursor: page.nextCursor };
  }

  @Get('sessions/recent')
  @ApiOperation({ summary: 'The most recently active sessions with a summary of each' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 20 } })
  async recent(@Tenant() tenantId: string, @Query(new ZodValidationPipe(RecentSessionsQuery)) q: { limit: number }): Promise<Page<SessionSummary>> {
    return { items: await this.reads.reader.recentSessions(tenantId, q.limit), nextCursor: null };
  }

  @Get('sessions/:id')
  @ApiOperation({ summary: "A session's events in order (seq, then startedAt), with its intent and outcome" })
  @ApiParam({ name: 'id', description: 'sessionId' })
  @ApiResponse({ status: 200, schema: ref('Session') })
  async session(@Tenant() tenantId: string, @Param('id', new ZodValidationPipe(SessionIdParam)) sessionId: string) {
    const rows = await this.reads.reader.session(tenantId, sessionId);
    if (rows.length === 0) throw new ApiError(404, `no events for session "${sessionId}"`, [{ field: 'id', message: 'unknown session' }]);
    const end = rows.find((r) => r.kind === 'session_end');
    const intent = end?.intent ?? rows.find((r) => r.intent)?.intent;
    return { sessionId, ...(intent !== undefined ? { intent } : {}), ...(end ? { success: end.success } : {}), events: rows.map(eventView) };
  }

  @Get('stats')
  @ApiOperation({ summary: 'Totals, success rate and mean duration: overall, last 24 h, by tool, by intent' })
  async stats(@Tenant() tenantId: string): Promise<EventStats> {
    return this.reads.reader.stats(tenantId);
  }
}

async function withCursor<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new ApiError(400, err.message, [{ field: 'cursor', message: err.message }]);
    throw err;
  }
}
