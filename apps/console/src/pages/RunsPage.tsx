import { Alert, Anchor, Badge, Button, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { formatMs, formatTime } from '../components/run/format';

const STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
type Status = (typeof STATUSES)[number];
const STATUS_COLOUR: Record<string, string> = { COMPLETED: 'green', FAILED: 'red', RUNNING: 'blue', PENDING: 'gray', CANCELLED: 'orange' };
/** Time filters: runs that ended within the last … (a run still going counts as ending now). */
const SINCE: Record<string, { label: string; ms: number }> = {
  '1h': { label: 'last hour', ms: 3600_000 },
  '24h': { label: 'last 24 hours', ms: 24 * 3600_000 },
  '7d': { label: 'last 7 days', ms: 7 * 24 * 3600_000 },
  '30d': { label: 'last 30 days', ms: 30 * 24 * 3600_000 },
};
const PAGE = 50;
/** Pages kept on screen: past them, "Older runs" starts a fresh list there (rows rendered stay bounded). */
const MAX_PAGES = 10;
const PICKER_SIZE = 50;

/**
 * Every run of the tenant, newest first (running ones on top, then the most recently finished),
 * filtered by workflow, status and time, a page at a time. The filters and the position live in
 * the URL (`?workflow=…&status=…&since=…&after=…`), so a workflow's page links to its runs and a
 * list can be shared. Nothing is counted: with 100,000 runs the page reads 50 at a time, and it
 * never renders more than MAX_PAGES pages.
 */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const [find, setFind] = useState('');
  const [q] = useDebouncedValue(find.trim(), 300);
  const workflows = useQuery({
    queryKey: ['workflows', 'picker', q],
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows', { params: { query: { limit: PICKER_SIZE, ...(q ? { q } : {}) } } })),
  });
  const workflowId = params.get('workflow') ?? '';
  const status = (STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as Status) : undefined;
  const since = SINCE[params.get('since') ?? ''] ? (params.get('since') as string) : '';
  const after = params.get('after') ?? undefined;
  // Fixed when the filter is chosen, so the pages of one list share one window.
  const from = useMemo(() => (since ? Date.now() - SINCE[since].ms : undefined), [since]);

  const runs = useInfiniteQuery({
    queryKey: ['runs', 'all', workflowId, status, from, after],
    initialPageParam: after,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/api/v1/executions', {
          params: {
            query: {
              limit: PAGE,
              ...(workflowId ? { workflowId } : {}),
              ...(status ? { status } : {}),
              ...(from !== undefined ? { from: String(from) } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const choose = (changes: Record<string, string>) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      for (const [key, value] of Object.entries(changes)) {
        if (value) next.set(key, value);
        else next.delete(key);
      }
      return next;
    });
  // A new filter starts the list from the newest run again.
  const filter = (key: string, value: string) => choose({ [key]: value, after: '' });
  const options = [{ value: '', label: 'any workflow' }, ...(workflows.data?.items ?? []).map((w) => ({ value: w.id, label: `${w.name} (${w.id})` }))];
  // A workflow named in the URL stays selectable even when the search does not list it.
  if (workflowId && !options.some((o) => o.value === workflowId)) options.splice(1, 0, { value: workflowId, label: workflowId });
  const pages = runs.data?.pages ?? [];
  const seen = new Set<string>();
  // A run that finishes while the list is read can show on two pages (live, then recorded): once here.
  const rows = pages.flatMap((p) => p.items ?? []).filter((r) => !seen.has(r.id ?? '') && seen.add(r.id ?? ''));
  const error = workflows.error ?? runs.error;
  const full = pages.length >= MAX_PAGES;
  const olderCursor = pages[pages.length - 1]?.nextCursor ?? undefined;

  return (
    <Stack>
      <Title order={1}>Runs</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Filter runs">
        <TextInput label="Find a workflow" description="narrows the workflow list" value={find} onChange={(e) => setFind(e.currentTarget.value)} />
        <NativeSelect label="Workflow" value={workflowId} onChange={(e) => filter('workflow', e.currentTarget.value)} data={options} />
        <NativeSelect label="Status" value={status ?? ''} onChange={(e) => filter('status', e.currentTarget.value)} data={[{ value: '', label: 'any' }, ...STATUSES.map((s) => ({ value: s, label: s.toLowerCase() }))]} />
        <NativeSelect
          label="Ended"
          value={since}
          onChange={(e) => filter('since', e.currentTarget.value)}
          data={[{ value: '', label: 'any time' }, ...Object.entries(SINCE).map(([value, s]) => ({ value, label: s.label }))]}
        />
      </Group>
      {after && (
        <Text size="sm">
          Older runs, from where the previous list stopped.{' '}
          <Anchor component="button" type="button" onClick={() => choose({ after: '' })}>
            Back to the newest runs
          </Anchor>
        </Text>
      )}
      {error && (
        <Alert color="red" role="alert">
          {error.message}
        </Alert>
      )}
      {runs.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 && !runs.hasNextPage ? (
        <Text>No run{status ? ` with status ${status.toLowerCase()}` : ''}{workflowId ? ' of this workflow' : ''}{since ? ` that ended in the ${SINCE[since].label}` : ''}.</Text>
      ) : (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Run</Table.Th>
              <Table.Th>Workflow</Table.Th>
              <Table.Th>Status</Table.Th>
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
                  {r.workflowId ? (
                    <Link to={`/workflows/${encodeURIComponent(r.workflowId)}`}>
                      {r.workflowId}
                      {r.version != null ? ` v${r.version}` : ''}
                    </Link>
                  ) : (
                    'inline'
                  )}
                </Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOUR[r.status ?? ''] ?? 'gray'} variant="light">
                    {(r.status ?? '').toLowerCase()}
                  </Badge>
                </Table.Td>
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
          {full && olderCursor ? (
            <Button variant="default" onClick={() => choose({ after: olderCursor })}>
              Older runs
            </Button>
          ) : (
            <Button variant="default" onClick={() => runs.fetchNextPage()} loading={runs.isFetchingNextPage}>
              Load more
            </Button>
          )}
        </div>
      )}
    </Stack>
  );
}
