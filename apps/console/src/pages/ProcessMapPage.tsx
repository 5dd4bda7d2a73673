import { Alert, Anchor, Button, Grid, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { percent } from '../components/figures';
import { LayeredGraph } from '../components/graph/LayeredGraph';
import { processMapGraph } from '../components/process/processMapGraph';
import { TransitionsTable } from '../components/process/TransitionsTable';

interface Filters {
  userId: string;
  agentId: string;
  intent: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { userId: '', agentId: '', intent: '', from: '', to: '' };
/** More than this many tools makes an unreadable map: the most frequent ones are drawn, all are tabled. */
const MAX_NODES = 40;
const VARIANTS_PAGE = 20;


/** The filters as the API takes them: empty ones left out, local date-times as ISO-8601. */
function toQuery(f: Filters) {
  return {
    ...(f.userId.trim() ? { userId: f.userId.trim() } : {}),
    ...(f.agentId.trim() ? { agentId: f.agentId.trim() } : {}),
    ...(f.intent.trim() ? { intent: f.intent.trim() } : {}),
    ...(f.from ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to ? { to: new Date(f.to).toISOString() } : {}),
  };
}

/** The process map: which tool directly follows which in closed sessions, and the whole-session variants. */
export default function ProcessMapPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const query = useMemo(() => toQuery(applied), [applied]);

  const flow = useQuery({ queryKey: ['stats', 'flow', query], queryFn: async () => unwrap(await api.GET('/api/v1/stats/flow', { params: { query } })) });
  const variants = useInfiniteQuery({
    queryKey: ['stats', 'variants', query],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => unwrap(await api.GET('/api/v1/stats/variants', { params: { query: { ...query, limit: VARIANTS_PAGE, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

  const graph = useMemo(() => processMapGraph(flow.data ?? { activities: [], edges: [] }, MAX_NODES), [flow.data]);

  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setDraft((f) => ({ ...f, [k]: value }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(draft);
  };
  const variantRows = variants.data?.pages.flatMap((p) => p.items) ?? [];
  const firstVariants = variants.data?.pages[0];

  return (
    <Stack>
      <Title order={1}>Process map</Title>
      <form onSubmit={submit} role="search" aria-label="Filter sessions">
        <Group align="end" wrap="wrap">
          <TextInput label="User" value={draft.userId} onChange={set('userId')} />
          <TextInput label="Agent" value={draft.agentId} onChange={set('agentId')} />
          <TextInput label="Intent" value={draft.intent} onChange={set('intent')} />
          <TextInput label="From" type="datetime-local" value={draft.from} onChange={set('from')} />
          <TextInput label="To" type="datetime-local" value={draft.to} onChange={set('to')} />
          <Button type="submit">Apply</Button>
          <Button
            variant="default"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
            }}
          >
            Clear
          </Button>
        </Group>
      </form>

      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <Title order={2} size="h4">
              Directly-follows graph
            </Title>
            {flow.isError && (
              <Alert color="red" role="alert" title="The process map could not be read">
                {flow.error.message}
              </Alert>
            )}
            {flow.data && (
              <>
                <Text>
                  {flow.data.sessions} sessions, {flow.data.activities.length} tools
                  {flow.data.activities.length > MAX_NODES ? ` (the ${MAX_NODES} most frequent drawn)` : ''}. Edges: times one call directly follows the other, and the mean gap.
                  {graph.edges.some((e) => e.layout === false) ? ' Many transitions: the map is laid out along each tool’s most frequent ones.' : ''}
                </Text>
                {!flow.data.basis.exact && (
                  <Alert color="yellow" title="Approximate">
                    {flow.data.basis.notes.join(' ') || 'Counted from a sample of recent sessions or time buckets.'}
                  </Alert>
                )}
                {flow.data.activities.length === 0 ? (
                  <Text>No closed session matches.</Text>
                ) : (
                  <LayeredGraph label="Process map: tools and the transitions between them" nodes={graph.nodes} edges={graph.edges} height={480} />
                )}
                {/* Other filters start again at the first page (a refetch of the same ones does not). */}
                <TransitionsTable key={JSON.stringify(query)} edges={flow.data.edges} />
              </>
            )}
            {flow.isPending && <Text>Loading…</Text>}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <Title order={2} size="h4">
              Variants
            </Title>
            {variants.isError && (
              <Alert color="red" role="alert" title="The variants could not be read">
                {variants.error.message}
              </Alert>
            )}
            {firstVariants && (
              <Text>
                {firstVariants.sessions} sessions{firstVariants.otherSessions > 0 ? `, ${firstVariants.otherSessions} of them in rare variants not listed` : ''}.
              </Text>
            )}
            {variants.data && variantRows.length === 0 && <Text>No variant.</Text>}
            {variantRows.length > 0 && (
              <Table aria-label="Variants">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Tools</Table.Th>
                    <Table.Th>Sessions</Table.Th>
                    <Table.Th>Share</Table.Th>
                    <Table.Th>Success</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {variantRows.map((v) => (
                    <Table.Tr key={v.variantId}>
                      <Table.Td>
                        {v.tools.join(' → ')}
                        {v.length > v.tools.length ? ` … (${v.length} calls)` : ''}
                      </Table.Td>
                      <Table.Td>{v.count}</Table.Td>
                      <Table.Td>{percent(v.share)}</Table.Td>
                      <Table.Td>{percent(v.successRate)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {variants.hasNextPage && (
              <div>
                <Button variant="default" onClick={() => variants.fetchNextPage()} loading={variants.isFetchingNextPage}>
                  More variants
                </Button>
              </div>
            )}
            <Text size="sm">
              Variants are whole sessions&apos; tool sequences; recurring sub-sequences are{' '}
              <Anchor component={Link} to="/patterns">
                patterns
              </Anchor>
              .
            </Text>
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
