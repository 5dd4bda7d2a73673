import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MAX_EVENTS_PER_BATCH, type Page } from '@toolpath/contracts';
import { InvalidCursorError, MAX_TIMELINE_BUCKETS, SESSION_SEARCH_SCAN_LIMIT, ToolEventReader, type EventStats, type EventTimeline, type SessionSummary } from '@toolpath/event-store';
import { ApiError, ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { ref, errorResponses } from '../docs/openapi-refs';
import { RequiredBodyPipe } from '../common/required-body.pipe';
import { ApiZodParam, ApiZodQuery } from '../docs/zod-openapi';
import { eventView, rejectedView } from './event-views';
import { ListEventsQuery, PageQuery, RecentSessionsQuery, SearchSessionsQuery, SessionIdParam, TimelineQuery } from './events.schemas';
import { timelineRange } from './timeline-range';
import { SubmitEventsService, type SubmitResult } from './submit-events.service';

@ApiTags('events')
@ApiBearerAuth()
@errorResponses()
@Controller()
export class EventsController {
  constructor(
    private readonly submitEvents: SubmitEventsService,
    private readonly reads: ToolEventReader,
  ) {}

  @Post('events')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit one tool-call event or a batch',
    description: `One event object, or an array of up to ${MAX_EVENTS_PER_BATCH}. tenantId comes from the API key (a different one is refused); specVersion and eventId are filled in when left out. 202 means the event stream has acknowledged each accepted event; invalid items are listed in errors with their index and field.`,
  })
  @ApiBody({ schema: { oneOf: [ref('ToolEventInput'), { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_BATCH, items: ref('ToolEventInput') }] } })
  @ApiResponse({ status: 202, schema: ref('SubmitEventsResult') })
  @ApiResponse({ status: 413, description: `Over ${MAX_EVENTS_PER_BATCH} events, or over the body limit in bytes`, schema: ref('ApiError') })
  async submit(@Tenant() tenantId: string, @Body(RequiredBodyPipe) body: unknown): Promise<SubmitResult> {
    return this.submitEvents.submit(tenantId, body);
  }

  @Get('events')
  @ApiOperation({ summary: 'List events, newest first (cursor pagination)' })
  @ApiZodQuery(ListEventsQuery)
  @ApiResponse({ status: 200, schema: ref('EventPage') })
  async list(@Tenant() tenantId: string, @Query(new ZodValidationPipe(ListEventsQuery)) q: ListEventsQuery): Promise<Page<Record<string, unknown>>> {
    const { limit, cursor, ...filter } = q;
    const page = await withCursor(() => this.reads.list(tenantId, filter, limit, cursor));
    return { items: page.items.map(eventView), nextCursor: page.nextCursor };
  }

  @Get('events/rejected')
  @ApiOperation({
    summary: "Dead letters: events the recorder refused, or that a consumer (recorder, analyzer) failed to process after its bounded tries, with the reason, the field, the consumer, the attempts and the bytes as received (this tenant's only)",
  })
  @ApiZodQuery(PageQuery)
  @ApiResponse({ status: 200, schema: ref('RejectedEventPage') })
  async rejected(@Tenant() tenantId: string, @Query(new ZodValidationPipe(PageQuery)) q: { limit: number; cursor?: string }): Promise<Page<Record<string, unknown>>> {
    const page = await withCursor(() => this.reads.listRejected(tenantId, q.limit, q.cursor));
    return { items: page.items.map(rejectedView), nextCursor: page.nextCursor };
  }

  @Get('sessions/recent')
  @ApiOperation({ summary: 'The most recently active sessions with a summary of each' })
  @ApiZodQuery(RecentSessionsQuery)
  @ApiResponse({ status: 200, schema: ref('SessionSummaryPage') })
  async recent(@Tenant() tenantId: string, @Query(new ZodValidationPipe(RecentSessionsQuery)) q: { limit: number }): Promise<Page<SessionSummary>> {
    return { items: await this.reads.recentSessions(tenantId, q.limit), nextCursor: null };
  }

  @Get('sessions')
  @ApiOperation({
    summary: 'Search sessions by intent, agent and outcome, most recently active first (cursor pagination)',
    description: `Sessions in the order of their newest event (then sessionId, descending). \`intent\` matches a case-insensitive substring of the session's intent (its session_end's, else its events'); the text is plain, never a pattern. A page reads at most ${SESSION_SEARCH_SCAN_LIMIT} events, so a rare match may give a short or even empty page with a \`nextCursor\`: follow it until it is null.`,
  })
  @ApiZodQuery(SearchSessionsQuery)
  @ApiResponse({ status: 200, schema: ref('SessionSummaryPage') })
  async search(@Tenant() tenantId: string, @Query(new ZodValidationPipe(SearchSessionsQuery)) q: SearchSessionsQuery): Promise<Page<SessionSummary>> {
    const { limit, cursor, ...filter } = q;
    return withCursor(() => this.reads.searchSessions(tenantId, filter, limit, cursor));
  }

  @Get('sessions/:id')
  @ApiOperation({ summary: "A session's events in order (seq, then startedAt), with its intent and outcome" })
  @ApiZodParam('id', SessionIdParam, 'sessionId')
  @ApiResponse({ status: 200, schema: ref('Session') })
  @ApiResponse({ status: 404, description: 'No events of this session for this tenant', schema: ref('ApiError') })
  async session(@Tenant() tenantId: string, @Param('id', new ZodValidationPipe(SessionIdParam)) sessionId: string) {
    const rows = await this.reads.session(tenantId, sessionId);
    if (rows.length === 0) throw new ApiError(404, `no events for session "${sessionId}"`, [{ field: 'id', message: 'unknown session' }]);
    const end = rows.find((r) => r.kind === 'session_end');
    const intent = end?.intent ?? rows.find((r) => r.intent)?.intent;
    return { sessionId, ...(intent !== undefined ? { intent } : {}), ...(end ? { success: end.success } : {}), events: rows.map(eventView) };
  }

  @Get('stats')
  @ApiOperation({ summary: 'Totals, success rate and mean duration: overall, last 24 h, by tool, by intent' })
  @ApiResponse({ status: 200, schema: ref('EventStats') })
  async stats(@Tenant() tenantId: string): Promise<EventStats> {
    return this.reads.stats(tenantId);
  }

  @Get('stats/timeline')
  @ApiOperation({
    summary: 'Tool calls, failures and active sessions per UTC hour or day',
    description: `The range is widened to whole buckets and holds at most ${MAX_TIMELINE_BUCKETS} of them (a longer one is a 400 naming \`from\`; \`to\` not after \`from\` is a 400 naming \`to\`).`,
  })
  @ApiZodQuery(TimelineQuery)
  @ApiResponse({ status: 200, schema: ref('EventTimeline') })
  async timeline(@Tenant() tenantId: string, @Query(new ZodValidationPipe(TimelineQuery)) q: TimelineQuery): Promise<EventTimeline> {
    return this.reads.timeline(tenantId, q.bucket, timelineRange(q.bucket, q.from, q.to, Date.now()));
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
