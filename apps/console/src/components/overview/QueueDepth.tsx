import { Anchor, Group, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, ApiFailure, unwrap } from '../../api/client';

/** Every few seconds: the depth is what an operator watches while runs go through. */
const REFRESH_MS = 5_000;
const SHOWN: Array<{ state: 'waiting' | 'prioritized' | 'active' | 'delayed' | 'failed' | 'completed'; label: string }> = [
  { state: 'waiting', label: 'Waiting' },
  { state: 'prioritized', label: 'Prioritized' },
  { state: 'active', label: 'Active' },
  { state: 'delayed', label: 'Delayed (retries, backoff)' },
  { state: 'failed', label: 'Failed' },
  { state: 'completed', label: 'Completed (kept)' },
];

/**
 * The executor's job queues by state (`GET /api/v1/stats/queues`), refreshed while shown. The
 * queues hold every tenant's jobs; a tenant the gateway does not let see them gets the reason.
 */
export function QueueDepth() {
  const depth = useQuery({
    queryKey: ['stats', 'queues'],
    queryFn: async () => unwrap(await api.GET('/api/v1/stats/queues')),
    refetchInterval: REFRESH_MS,
    // A refusal is an answer, not a fault to retry.
    retry: (count, err) => !(err instanceof ApiFailure && err.status === 403) && count < 2,
  });
  if (depth.error) {
    const refused = depth.error instanceof ApiFailure && depth.error.status === 403;
    return <Text role={refused ? undefined : 'alert'}>{refused ? `Queue depth is not shown to this tenant: ${depth.error.message}` : `The queues could not be read: ${depth.error.message}`}</Text>;
  }
  if (!depth.data) return <Text>Loading…</Text>;
  return (
    <>
      <Table aria-label="Jobs per queue and state" withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Queue</Table.Th>
            {SHOWN.map((s) => (
              <Table.Th key={s.state}>{s.label}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {depth.data.queues.map((q) => (
            <Table.Tr key={q.name}>
              <Table.Td>{q.name}</Table.Td>
              {SHOWN.map((s) => (
                <Table.Td key={s.state}>{q.counts[s.state].toLocaleString('en')}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Text size="sm">
          Jobs one by one, retried or removed: the <Anchor href="/queues">queue dashboard</Anchor>.
        </Text>
      </Group>
    </>
  );
}
