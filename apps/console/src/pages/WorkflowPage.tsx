import { Alert, Badge, Button, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { LoadFailure } from '../components/LoadFailure';
import { LayeredGraph } from '../components/graph/LayeredGraph';
import { workflowGraph } from '../components/graph/workflowGraph';
import { RunForm } from '../components/workflow/RunForm';
import { VersionDiff } from '../components/workflow/VersionDiff';
import { WorkflowActions } from '../components/workflow/WorkflowActions';
import { formatMs } from '../components/run/format';
import { Figure } from '../components/Figure';


/** One stored workflow: what it is, its DAG, its runs' figures, a run form, and its versions compared. */
export default function WorkflowPage() {
  const id = useParams().id ?? '';
  const path = { params: { path: { id } } };
  const workflow = useQuery({ queryKey: ['workflow', id], queryFn: async () => unwrap(await api.GET('/api/v1/workflows/{id}', path)) });
  const stats = useQuery({ queryKey: ['workflow', id, 'stats'], queryFn: async () => unwrap(await api.GET('/api/v1/workflows/{id}/stats', path)) });
  const versions = useInfiniteQuery({
    queryKey: ['workflow', id, 'versions'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => unwrap(await api.GET('/api/v1/workflows/{id}/versions', { params: { path: { id }, query: pageParam ? { cursor: pageParam } : {} } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const w = workflow.data;
  const graph = useMemo(() => (w ? workflowGraph(w) : null), [w]);

  if (workflow.isPending) return <Text>Loading…</Text>;
  if (workflow.isError || !w)
    return (
      <Stack>
        <Title order={1}>Workflow {id}</Title>
        <LoadFailure error={workflow.error} what="Workflow" />
      </Stack>
    );
  const s = stats.data;
  const allVersions = versions.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <Stack>
      <div>
        <Title order={1}>{w.name}</Title>
        <Text>{w.description}</Text>
        <Group gap="xs" mt="xs">
          <Badge variant="light">
            source: {w.source}
          </Badge>
          <Badge variant="light">
            version {w.version}
          </Badge>
          {w.category && (
            <Badge variant="light" color="gray">
              {w.category}
            </Badge>
          )}
          {(w.tags ?? []).map((t) => (
            <Badge key={t} variant="outline" color="gray" c="dark">
              {t}
            </Badge>
          ))}
        </Group>
      </div>
      <Group>
        <Button component={Link} to={`/workflows/${encodeURIComponent(w.id)}/edit`} variant="light">
          Edit in builder
        </Button>
      </Group>
      <WorkflowActions workflow={w} />

      {s && (s.total ?? 0) > 0 && (
        <section aria-labelledby="stats-heading">
          <Title order={2} id="stats-heading" size="h3" mb="xs">
            Runs so far
          </Title>
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Figure label="Runs" value={`${s.total}${s.truncated ? '+' : ''}`} />
            <Figure label="Success rate" value={s.successRate == null ? '—' : `${Math.round(s.successRate * 100)} %`} />
            <Figure label="Mean duration" value={s.meanDurationMs == null ? '—' : formatMs(s.meanDurationMs)} />
            <Figure label="By status" value={Object.entries(s.byStatus ?? {}).map(([k, n]) => `${k.toLowerCase()} ${n}`).join(', ') || '—'} />
          </SimpleGrid>
        </section>
      )}

      <section aria-labelledby="dag-heading">
        <Title order={2} id="dag-heading" size="h3" mb="xs">
          Steps
        </Title>
        {graph && <LayeredGraph label={`Steps of ${w.name} and their dependencies`} nodes={graph.nodes} edges={graph.edges} height={360} />}
      </section>

      <section aria-labelledby="run-heading">
        <Title order={2} id="run-heading" size="h3" mb="xs">
          Run it
        </Title>
        <RunForm key={`${w.id}@${w.version}`} workflowId={w.id} variables={w.variables} />
      </section>

      <section aria-labelledby="versions-heading">
        <Title order={2} id="versions-heading" size="h3" mb="xs">
          Versions
        </Title>
        {versions.isError && (
          <Alert color="red" role="alert">
            {versions.error.message}
          </Alert>
        )}
        {allVersions.length === 1 && <Text size="sm">Only one version so far.</Text>}
        {allVersions.length > 1 && <VersionDiff key={`${w.id}:${allVersions.length}`} versions={allVersions} />}
        {versions.hasNextPage && (
          <Button variant="default" mt="xs" onClick={() => versions.fetchNextPage()} loading={versions.isFetchingNextPage}>
            Older versions
          </Button>
        )}
      </section>
    </Stack>
  );
}
