import { Alert, Badge, Button, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { formatTime } from '../components/run/format';

/** Sessions per page (the API allows up to 200). */
const PAGE = 50;
const TOOLS_SHOWN = 4;

type Summary = { ended: boolean; success?: boolean };

function Outcome({ s }: { s: Summary }) {
  if (!s.ended) return <Badge color="blue" variant="light">open</Badge>;
  if (s.success === true) return <Badge color="green" variant="light">succeeded</Badge>;
  if (s.success === false) return <Badge color="red" variant="light">✕ failed</Badge>;
  return <Badge color="gray" variant="light">ended</Badge>;
}

/** The outcome filter: the API's `success`, or any. */
const OUTCOMES = [
  { value: '', label: 'Any' },
  { value: 'true', label: 'Succeeded' },
  { value: 'false', label: 'Failed' },
];

/**
 * Sessions, most recently active first, searched on the server: by intent (a case-insensitive
 * substring, plain text), by agent and by outcome, a page at a time. Typing waits 300 ms before
 * asking, so a word is one request, not one per key.
 */
export default function SessionsPage() {
  const [intent, setIntent] = useState('');
  const [agent, setAgent] = useState('');
  const [outcome, setOutcome] = useState('');
  const [filters] = useDebouncedValue({ intent: intent.trim(), agentId: agent.trim() }, 300);
  const sessions = useInfiniteQuery({
    queryKey: ['sessions', 'search', filters.intent, filters.agentId, outcome],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/api/v1/sessions', {
          params: {
            query: {
              limit: PAGE,
              ...(filters.intent ? { intent: filters.intent } : {}),
              ...(filters.agentId ? { agentId: filters.agentId } : {}),
              ...(outcome ? { success: outcome as 'true' | 'false' } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = sessions.data?.pages.flatMap((p) => p.items) ?? [];
  const searching = filters.intent !== '' || filters.agentId !== '' || outcome !== '';

  return (
    <Stack>
      <Title order={1}>Sessions</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Search sessions">
        <TextInput label="Search by intent" description="Part of the intent, any case" value={intent} onChange={(e) => setIntent(e.currentTarget.value)} />
        <TextInput label="Agent" description="Exact agentId" value={agent} onChange={(e) => setAgent(e.currentTarget.value)} />
        <NativeSelect label="Outcome" description="Open sessions have none" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)} data={OUTCOMES} />
      </Group>
      {sessions.error && (
        <Alert color="red" role="alert">
          {sessions.error.message}
        </Alert>
      )}
      {sessions.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 && !sessions.hasNextPage ? (
        <Text>{searching ? 'No session matches.' : 'No session recorded yet.'}</Text>
      ) : (
        <>
          <Text size="sm" aria-live="polite">
            {`${rows.length} ${searching ? 'matching ' : ''}sessions${sessions.hasNextPage ? ' so far' : ''}, most recently active first.`}
          </Text>
          <Table striped highlightOnHover aria-label="Sessions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Session</Table.Th>
                <Table.Th>Intent</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Calls</Table.Th>
                <Table.Th>Failed</Table.Th>
                <Table.Th>Tools</Table.Th>
                <Table.Th>Agents</Table.Th>
                <Table.Th>First call</Table.Th>
                <Table.Th>Last call</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((s) => (
                <Table.Tr key={s.sessionId}>
                  <Table.Td>
                    <Link to={`/sessions/${encodeURIComponent(s.sessionId)}`}>{s.sessionId}</Link>
                  </Table.Td>
                  <Table.Td>{s.intent ?? '—'}</Table.Td>
                  <Table.Td>
                    <Outcome s={s} />
                  </Table.Td>
                  <Table.Td>{s.toolCalls}</Table.Td>
                  <Table.Td>{s.failedCalls}</Table.Td>
                  <Table.Td title={s.tools.join(', ')}>
                    {s.tools.slice(0, TOOLS_SHOWN).join(', ')}
                    {s.tools.length > TOOLS_SHOWN ? ` +${s.tools.length - TOOLS_SHOWN} more` : ''}
                  </Table.Td>
                  <Table.Td>{s.agents.join(', ') || '—'}</Table.Td>
                  <Table.Td>{formatTime(s.firstStartedAt)}</Table.Td>
                  <Table.Td>{formatTime(s.lastStartedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
      {sessions.hasNextPage && (
        <div>
          {/* A page of a rare search may come back short: the server reads a bounded number of events per page. */}
          <Button variant="default" onClick={() => sessions.fetchNextPage()} loading={sessions.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </Stack>
  );
}
