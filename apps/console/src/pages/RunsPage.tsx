import { Alert, Badge, Button, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { formatMs, formatTime } from '../components/run/format';

const STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
type Status = (typeof STATUSES)[number];
const STATUS_COLOUR: Record<string, string> = { COMPLETED: 'green', FAILED: 'red', RUNNING: 'blue', PENDING: 'gray', CANCELLED: 'orange' };
const PAGE = 25;
const PICKER_SIZE = 50;

/**
 * Runs, per workflow (the API lists runs by workflow): pick a workflow (the first listed by
 * default) and a status; newest first, a page at a time. The choice lives in the URL
 * (`?workflow=…&status=…`), so a workflow's page can link to its runs.
 */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const [find, setFind] = useState('');
  const [q] = useDebouncedValue(find.trim(), 300);
  const workflows = useQuery({
    queryKey: ['workflows', 'picker', q],
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows', { params: { query: { limit: PICKER_SIZE, ...(q ? { q } : {}) } } })),
  });
  const choices = workflows.data?.items ?? [];
  const workflowId = params.get('workflow') ?? choices[0]?.id ?? '';
  const status = (STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as Status) : undefined;

  const runs = useInfiniteQuery({
    queryKey: ['runs', workflowId, status],
    enabled: workflowId !== '',
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/api/v1/workflows/{id}/executions', {
          params: { path: { id: workflowId }, query: { limit: PAGE, ...(status ? { status } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const choose = (key: 'workflow' | 'status', value: string) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(key, value);
      else next.delete(key);
      return next;
    });
  const options = choices.map((w) => ({ value: w.id, label: `${w.name} (${w.id})` }));
  // A workflow named in the URL stays selectable even when the search does not list it.
  if (workflowId && !options.some((o) => o.value === workflowId)) options.unshift({ value: workflowId, label: workflowId });
  const rows = runs.data?.pages.flatMap((p) => p.items ?? []) ?? [];
  const error = workflows.error ?? runs.error;

  return (
    <Stack>
      <Title order={1}>Runs</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Choose runs">
        <TextInput label="Find a workflow" description="by name or description" value={find} onChange={(e) => setFind(e.currentTarget.value)} />
        <NativeSelect label="Workflow" value={workflowId} onChange={(e) => choose('workflow', e.currentTarget.value)} data={options.length ? options : [{ value: '', label: 'no workflow' }]} />
        <NativeSelect label="Status" value={status ?? ''} onChange={(e) => choose('status', e.currentTarget.value)} data={[{ value: '', label: 'any' }, ...STATUSES.map((s) => ({ value: s, label: s.toLowerCase() }))]} />
      </Group>
      {error && (
        <Alert color="red" role="alert">
          {error.message}
        </Alert>
      )}
      {workflowId === '' ? (
        <Text>{workflows.isPending ? 'Loading…' : 'No workflow in the catalog yet.'}</Text>
      ) : runs.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 ? (
        <Text>No run{status ? ` with status ${status.toLowerCase()}` : ''} for this workflow.</Text>
      ) : (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Run</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Version</Table.Th>
              <Table.Th>Started</Table.Th>
              <Table.Th>Duration</Table.Th>
              <Table.Th>Speedup</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>
                  <Link to={`/runs/${encodeURIComponent(r.id ?? '')}`}>{r.id}</Link>
                </Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOUR[r.status ?? ''] ?? 'gray'} variant="light" c="dark">
                    {(r.status ?? '').toLowerCase()}
                  </Badge>
                </Table.Td>
                <Table.Td>{r.version ?? ''}</Table.Td>
                <Table.Td>{formatTime(r.startedAt)}</Table.Td>
                <Table.Td>{r.durationMs != null ? formatMs(r.durationMs) : '—'}</Table.Td>
                <Table.Td>{r.parallelSpeedup != null ? `×${r.parallelSpeedup.toFixed(2)}` : '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {runs.hasNextPage && (
        <div>
          <Button variant="default" onClick={() => runs.fetchNextPage()} loading={runs.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </Stack>
  );
}
