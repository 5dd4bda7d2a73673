import { Alert, Badge, Button, Code, Group, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { LoadFailure } from '../components/LoadFailure';
import { LayeredGraph, type NodeTone } from '../components/graph/LayeredGraph';
import { workflowGraph } from '../components/graph/workflowGraph';
import { formatMs, formatTime } from '../components/run/format';
import { Gantt } from '../components/run/Gantt';
import { applyUpdate, criticalPath, isLive, stepTone, type Run } from '../components/run/runState';
import { followRun } from '../components/run/runStream';
import { StepAccordion } from '../components/run/StepAccordion';

const STATUS_COLOUR: Record<string, string> = { COMPLETED: 'green', FAILED: 'red', RUNNING: 'blue', PENDING: 'gray', CANCELLED: 'orange' };
const POLL_MS = 2000;

/** One run, live: each run id gets a fresh view (its stream, its fallback to polling). */
export default function RunPage() {
  const id = useParams().id ?? '';
  return <RunView key={id} id={id} />;
}

function RunView({ id }: { id: string }) {
  const queries = useQueryClient();
  const navigate = useNavigate();
  const key = useMemo(() => ['execution', id], [id]);
  // The stream broke: read the run every 2 s instead, until it ends.
  const [polling, setPolling] = useState(false);
  const run = useQuery({
    queryKey: key,
    queryFn: async () => unwrap(await api.GET('/api/v1/executions/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (polling && isLive(q.state.data) ? POLL_MS : false),
  });

  // Follow a run that was live when first read; decided once, so the stream stays open until its
  // `end` (the final run, with its speedup) even after an update already said the run ended.
  const [follow, setFollow] = useState<boolean | null>(null);
  if (follow === null && run.data) setFollow(isLive(run.data));
  useEffect(() => {
    if (!follow || polling) return;
    return followRun(id, {
      onState: (r) => queries.setQueryData(key, r),
      onUpdate: (u) => queries.setQueryData<Run>(key, (old) => (old ? applyUpdate(old, u) : old)),
      onEnd: (r) => (r ? queries.setQueryData(key, r) : void queries.invalidateQueries({ queryKey: key })),
      onError: () => setPolling(true),
    });
  }, [follow, polling, id, key, queries]);

  const r = run.data;
  const workflowId = r?.workflowId;
  const version = r?.version;
  // The run carries no definition: its workflow's version gives the edges and the parameters.
  const definition = useQuery({
    queryKey: ['workflow', workflowId, 'version', version],
    enabled: !!workflowId && version != null,
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows/{id}/versions/{version}', { params: { path: { id: workflowId!, version: version! } } })),
    staleTime: Infinity,
  });
  const def = definition.data;

  const steps = useMemo(() => r?.steps ?? [], [r]);
  const tones = useMemo(() => Object.fromEntries(steps.map((s) => [s.id ?? '', stepTone(s.status)])) as Record<string, NodeTone>, [steps]);
  const graph = useMemo(() => workflowGraph(def ?? { steps: steps.map((s) => ({ id: s.id ?? '', tool: s.tool ?? '' })) }, tones), [def, steps, tones]);
  const critical = useMemo(() => criticalPath(steps, Object.fromEntries((def?.steps ?? []).map((s) => [s.id, s.dependsOn]))), [steps, def]);
  const parameters = useMemo(() => Object.fromEntries((def?.steps ?? []).map((s) => [s.id, s.parameters])), [def]);

  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/executions/{id}/cancel', { params: { path: { id } } })),
    onSuccess: (after) => queries.setQueryData(key, after),
  });
  const again = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/workflows/{id}/executions', { params: { path: { id: workflowId! } }, body: { input: r?.input ?? {} } })),
    onSuccess: (started) => navigate(`/runs/${encodeURIComponent(started.executionId)}`),
  });

  if (run.isPending) return <Text>Loading…</Text>;
  if (run.isError || !r)
    return (
      <Stack>
        <Title order={1}>Run {id}</Title>
        <LoadFailure error={run.error} what="Run" />
      </Stack>
    );
  const live = isLive(r);
  const failure = cancel.error ?? again.error;

  return (
    <Stack>
      <div>
        <Title order={1}>Run {id}</Title>
        <Group gap="xs" mt="xs">
          <Badge color={STATUS_COLOUR[r.status ?? ''] ?? 'gray'} variant="light" aria-label={`status ${(r.status ?? '').toLowerCase()}`}>
            {(r.status ?? '').toLowerCase()}
          </Badge>
          {workflowId && (
            <Text size="sm">
              of <Link to={`/workflows/${encodeURIComponent(workflowId)}`}>{workflowId}</Link>
              {version != null ? ` version ${version}` : ''}
            </Text>
          )}
          {!workflowId && <Text size="sm">an inline definition</Text>}
          <Text size="sm" aria-live="polite">
            {live ? (polling ? 'live updates lost: reading every 2 s' : follow ? 'live' : '') : ''}
          </Text>
        </Group>
        <Text size="sm" mt="xs">
          {`Started ${formatTime(r.startedAt)} · ended ${formatTime(r.endedAt)}`}
          {r.durationMs != null ? ` · ${formatMs(r.durationMs)}` : ''}
          {r.parallelSpeedup != null ? ` · parallel speedup ×${r.parallelSpeedup.toFixed(2)}` : ''}
        </Text>
      </div>
      <Group>
        {live && (
          <Button color="red" variant="outline" onClick={() => cancel.mutate()} loading={cancel.isPending}>
            Cancel
          </Button>
        )}
        {workflowId && (
          <Button variant="default" onClick={() => again.mutate()} loading={again.isPending}>
            Run again
          </Button>
        )}
      </Group>
      {r.error && (
        <Alert color="red" title="The run failed">
          {r.error}
        </Alert>
      )}
      {failure && (
        <Alert color="red" role="alert">
          {failure.message}
        </Alert>
      )}

      <section aria-labelledby="run-dag-heading">
        <Title order={2} id="run-dag-heading" size="h3" mb="xs">
          Steps by state
        </Title>
        <LayeredGraph label="Steps of the run, coloured by state" nodes={graph.nodes} edges={graph.edges} height={320} />
      </section>

      <section aria-labelledby="run-gantt-heading">
        <Title order={2} id="run-gantt-heading" size="h3" mb="xs">
          Timeline
        </Title>
        <Gantt run={r} critical={critical} />
      </section>

      <section aria-labelledby="run-steps-heading">
        <Title order={2} id="run-steps-heading" size="h3" mb="xs">
          Steps
        </Title>
        <StepAccordion steps={steps} parameters={parameters} />
      </section>

      <section aria-labelledby="run-input-heading">
        <Title order={2} id="run-input-heading" size="h3" mb="xs">
          Input
        </Title>
        <Code block>{JSON.stringify(r.input ?? {}, null, 2)}</Code>
      </section>
    </Stack>
  );
}
