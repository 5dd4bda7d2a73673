import { Alert, Badge, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { formatTime } from '../components/run/format';

/** Dark green on the light green badge: 7:1 (green-9 gives 3.8:1). */
const SUCCEEDED_TEXT = '#1b5e20';
/** How many recent sessions to load; the API allows up to 200. */
const SIZES = ['50', '100', '200'];
const TOOLS_SHOWN = 4;

type Summary = { ended: boolean; success?: boolean };

function Outcome({ s }: { s: Summary }) {
  if (!s.ended) return <Badge color="blue" variant="light" c="dark">open</Badge>;
  if (s.success === true) return <Badge color="green" variant="light" c={SUCCEEDED_TEXT}>succeeded</Badge>;
  if (s.success === false) return <Badge color="red" variant="light" c="red.9">✕ failed</Badge>;
  return <Badge color="gray" variant="light" c="dark">ended</Badge>;
}

/**
 * The most recently active sessions. The API has no search by intent, so the search filters the
 * sessions loaded here (case-insensitive substring of the intent); the note says so.
 */
export default function SessionsPage() {
  const [size, setSize] = useState('100');
  const [search, setSearch] = useState('');
  const recent = useQuery({
    queryKey: ['sessions', 'recent', size],
    queryFn: async () => unwrap(await api.GET('/api/v1/sessions/recent', { params: { query: { limit: Number(size) } } })),
  });
  const all = recent.data?.items ?? [];
  const needle = search.trim().toLowerCase();
  const rows = needle ? all.filter((s) => (s.intent ?? '').toLowerCase().includes(needle)) : all;

  return (
    <Stack>
      <Title order={1}>Sessions</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Search sessions">
        <TextInput
          label="Search by intent"
          description={`Searches the intents of the ${all.length || size} most recent sessions loaded, not older ones.`}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
        />
        <NativeSelect label="Recent sessions to load" value={size} onChange={(e) => setSize(e.currentTarget.value)} data={SIZES} />
      </Group>
      {recent.error && (
        <Alert color="red" role="alert">
          {recent.error.message}
        </Alert>
      )}
      {recent.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 ? (
        <Text>{all.length === 0 ? 'No session recorded yet.' : `No recent session has an intent containing “${search.trim()}”.`}</Text>
      ) : (
        <>
          <Text size="sm" aria-live="polite">
            {needle ? `${rows.length} of ${all.length} sessions match.` : `${all.length} sessions, most recently active first.`}
          </Text>
          <Table striped highlightOnHover aria-label="Recent sessions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Session</Table.Th>
                <Table.Th>Intent</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Calls</Table.Th>
                <Table.Th>Failed</Table.Th>
                <Table.Th>Tools</Table.Th>
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
                  <Table.Td>{formatTime(s.firstStartedAt)}</Table.Td>
                  <Table.Td>{formatTime(s.lastStartedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Stack>
  );
}
