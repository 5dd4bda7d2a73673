import { Alert, Badge, Group, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiFailure, api, unwrap } from '../api/client';
import { CallAccordion } from '../components/session/CallAccordion';
import { SessionTimeline } from '../components/session/SessionTimeline';
import type { ToolCall } from '../components/session/timeline';


/** One session: its intent and outcome, its tool calls on a time line, then each call in full. */
export default function SessionPage() {
  const id = useParams().id ?? '';
  const session = useQuery({
    queryKey: ['session', id],
    queryFn: async () => unwrap(await api.GET('/api/v1/sessions/{id}', { params: { path: { id } } })),
  });
  const events = useMemo(() => session.data?.events ?? [], [session.data]);
  const calls = useMemo(() => events.filter((e): e is ToolCall => e.kind === 'tool_call'), [events]);

  if (session.isPending) return <Text>Loading…</Text>;
  if (session.isError || !session.data) {
    const missing = session.error instanceof ApiFailure && session.error.status === 404;
    return (
      <Stack>
        <Title order={1}>Session {id}</Title>
        <Alert color={missing ? 'gray' : 'red'} role="alert" title={missing ? 'No such session' : undefined}>
          {missing ? 'No events were recorded for this session id.' : (session.error?.message ?? 'not found')}
        </Alert>
        <Text>
          <Link to="/sessions">Back to the sessions</Link>
        </Text>
      </Stack>
    );
  }
  const s = session.data;
  const ended = events.some((e) => e.kind === 'session_end');
  const failed = calls.filter((c) => !c.success).length;

  return (
    <Stack>
      <div>
        <Title order={1}>{s.intent ? s.intent : `Session ${id}`}</Title>
        <Group gap="xs" mt="xs">
          {s.success === true ? (
            <Badge color="green" variant="light" aria-label="outcome succeeded">
              succeeded
            </Badge>
          ) : s.success === false ? (
            <Badge color="red" variant="light" aria-label="outcome failed">
              ✕ failed
            </Badge>
          ) : (
            <Badge color="gray" variant="light" aria-label="outcome not recorded">
              {ended ? 'no outcome recorded' : 'open'}
            </Badge>
          )}
          <Text size="sm">{`session ${id} · ${calls.length} call${calls.length === 1 ? '' : 's'}, ${failed} failed${ended ? ' · ended' : ''}`}</Text>
        </Group>
      </div>

      <section aria-labelledby="session-timeline-heading">
        <Title order={2} id="session-timeline-heading" size="h3" mb="xs">
          Timeline
        </Title>
        <SessionTimeline events={events} />
      </section>

      <section aria-labelledby="session-calls-heading">
        <Title order={2} id="session-calls-heading" size="h3" mb="xs">
          Calls
        </Title>
        {calls.length === 0 ? <Text>No tool call recorded.</Text> : <CallAccordion calls={calls} />}
      </section>
    </Stack>
  );
}
