import { Alert, Anchor, Badge, Button, Group, NativeSelect, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { percent, duration } from '../components/figures';
import { MineNowButton } from '../components/learning/MineNowButton';

const SORTS = [
  { value: 'score', label: 'score (support × success rate)' },
  { value: 'support', label: 'support' },
  { value: 'confidence', label: 'confidence' },
  { value: 'lastSeen', label: 'last seen' },
] as const;
type Sort = (typeof SORTS)[number]['value'];

const PAGE = 25;
const INTENTS_SHOWN = 2;

/** The most frequent intents of a pattern's sessions, the rest counted. */
function topIntents(intents: Array<{ text?: string; count?: number }> | undefined): string {
  if (!intents?.length) return '–';
  const shown = intents.slice(0, INTENTS_SHOWN).map((i) => `${i.text ?? ''} (${i.count ?? 0})`);
  const more = intents.length - INTENTS_SHOWN;
  return more > 0 ? `${shown.join('; ')}; +${more} more` : shown.join('; ');
}


/** The mined patterns: recurring tool sequences, ordered on the server, read a page at a time. */
export default function PatternsPage() {
  const [sort, setSort] = useState<Sort>('score');
  const list = useInfiniteQuery({
    queryKey: ['patterns', sort],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => unwrap(await api.GET('/api/v1/patterns', { params: { query: { sort, limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items ?? []) ?? [];

  return (
    <Stack>
      <Title order={1}>Patterns</Title>
      <Text>Tool sequences that recur across sessions (other calls may sit between their steps), with how often they succeed. Open one to see its learned workflow and promote it to the catalog.</Text>
      <Group align="end" justify="space-between">
        <NativeSelect label="Sort by" value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)} data={SORTS.map((s) => ({ value: s.value, label: s.label }))} />
        <MineNowButton />
      </Group>
      {list.isError && (
        <Alert color="red" role="alert" title="The patterns could not be read">
          {list.error.message}
        </Alert>
      )}
      {list.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 ? (
        <Text>No pattern mined yet: patterns appear once sessions that share a sequence of tools have closed.</Text>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table striped highlightOnHover aria-label="Patterns">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tools</Table.Th>
                <Table.Th>Support</Table.Th>
                <Table.Th>Success rate</Table.Th>
                <Table.Th>Confidence</Table.Th>
                <Table.Th>p95 duration</Table.Th>
                <Table.Th>Top intents</Table.Th>
                <Table.Th>Last seen</Table.Th>
                <Table.Th>Promoted</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/patterns/${encodeURIComponent(p.id)}`}>
                      {p.tools.join(' → ')}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{p.support}</Table.Td>
                  <Table.Td>{percent(p.successRate)}</Table.Td>
                  <Table.Td>{percent(p.confidence)}</Table.Td>
                  <Table.Td>{duration(p.p95DurationMs)}</Table.Td>
                  <Table.Td>{topIntents(p.intents)}</Table.Td>
                  <Table.Td>{p.lastSeenAt ? new Date(p.lastSeenAt).toLocaleString() : '–'}</Table.Td>
                  <Table.Td>
                    {p.promotedWorkflowId ? (
                      <Anchor component={Link} to={`/workflows/${encodeURIComponent(p.promotedWorkflowId)}`}>
                        <Badge variant="light" color="green" style={{ cursor: 'pointer' }}>
                          workflow
                        </Badge>
                      </Anchor>
                    ) : (
                      'no'
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && (
        <div>
          <Button variant="default" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </Stack>
  );
}
