import { Alert, Anchor, Badge, Button, Card, Group, List, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { LayeredGraph } from '../components/graph/LayeredGraph';
import { workflowGraph } from '../components/graph/workflowGraph';
import { percent, duration } from '../components/figures';
import { Figure } from '../components/Figure';

const EXAMPLES = 5;



/** One mined pattern: its figures, the workflow learned from it as a DAG, sessions it came from, and promotion to the catalog. */
export default function PatternPage() {
  const { id = '' } = useParams();
  const queries = useQueryClient();
  const detail = useQuery({
    queryKey: ['patterns', id, 'detail'],
    queryFn: async () => unwrap(await api.GET('/api/v1/patterns/{id}', { params: { path: { id }, query: { examples: EXAMPLES } } })),
  });
  const promote = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/patterns/{id}/promote', { params: { path: { id } } })),
    // The list shows who is promoted, and this page's promotedWorkflowId changed.
    onSuccess: () => queries.invalidateQueries({ queryKey: ['patterns'] }),
  });
  const graph = useMemo(() => (detail.data?.workflow ? workflowGraph(detail.data.workflow) : null), [detail.data]);

  if (detail.isPending) return <Text>Loading…</Text>;
  if (detail.isError)
    return (
      <Stack>
        <Title order={1}>Pattern {id}</Title>
        <Alert color="red" role="alert" title="The pattern could not be read">
          {detail.error.message}
        </Alert>
      </Stack>
    );

  const p = detail.data;
  const promotedId = promote.data?.workflow?.id ?? p.promotedWorkflowId ?? null;
  const groups = (p.parallelGroups ?? []).filter((g) => g.length > 0);

  return (
    <Stack>
      <Title order={1}>{p.workflow?.name ?? `Pattern ${p.id}`}</Title>
      <Text>
        {p.tools.join(' → ')}
        {p.workflow?.description ? ` — ${p.workflow.description}` : ''}
      </Text>

      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Figure label="Support (sessions)" value={String(p.support)} />
        <Figure label="Success rate" value={percent(p.successRate)} />
        <Figure label="Confidence" value={percent(p.confidence)} />
        <Figure label="Mean duration" value={duration(p.meanDurationMs)} />
        <Figure label="p95 duration" value={duration(p.p95DurationMs)} />
        <Figure label="Last seen" value={p.lastSeenAt ? new Date(p.lastSeenAt).toLocaleString() : '–'} />
      </SimpleGrid>

      <Card withBorder component="section" aria-label="Catalog">
        {promotedId ? (
          <Group>
            <Badge color="green" variant="light">
              {promote.data?.created ? 'promoted now' : 'promoted'}
            </Badge>
            <Text>
              In the catalog as{' '}
              <Anchor component={Link} to={`/workflows/${encodeURIComponent(promotedId)}`}>
                {promote.data?.workflow?.name ?? promotedId}
              </Anchor>
              .
            </Text>
          </Group>
        ) : (
          <Group>
            <Button onClick={() => promote.mutate()} loading={promote.isPending} disabled={!p.workflow}>
              Promote to the catalog
            </Button>
            <Text>Stores the learned workflow as a catalog workflow that can be run and edited.</Text>
          </Group>
        )}
        {promote.isError && (
          <Alert color="red" role="alert" mt="sm" title="Not promoted">
            {promote.error.message}
          </Alert>
        )}
      </Card>

      <Title order={2} size="h3">
        Learned workflow
      </Title>
      {graph ? (
        <>
          <Text>Solid arrows: a step waits for another. Dashed arrows: a parameter reads another step&apos;s result (labelled with the parameter). Steps in one column can run in parallel.</Text>
          <LayeredGraph label={`Learned workflow of pattern ${p.id}: ${p.tools.join(', ')}`} nodes={graph.nodes} edges={graph.edges} height={360} />
          {groups.length > 0 && (
            <section aria-label="Parallel groups">
              <Title order={3} size="h5">
                Runs in {groups.length} stages
              </Title>
              <List type="ordered">
                {groups.map((g) => (
                  <List.Item key={g.join(',')}>
                    {g.join(', ')}
                    {g.length > 1 ? ' (in parallel)' : ''}
                  </List.Item>
                ))}
              </List>
            </section>
          )}
          {(p.bindings ?? []).length > 0 && (
            <Table aria-label="Data flow">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Step</Table.Th>
                  <Table.Th>Parameter</Table.Th>
                  <Table.Th>Comes from</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(p.bindings ?? []).map((b) => (
                  <Table.Tr key={`${b.stepId}.${b.parameter}`}>
                    <Table.Td>{b.stepId}</Table.Td>
                    <Table.Td>{b.parameter}</Table.Td>
                    <Table.Td style={{ fontFamily: 'monospace' }}>{b.from}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      ) : (
        <Text>No workflow was inferred for this pattern yet.</Text>
      )}

      <Title order={2} size="h3">
        Example sessions
      </Title>
      {(p.examples ?? []).length === 0 ? (
        <Text>No example session kept.</Text>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label="Example sessions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Session</Table.Th>
                <Table.Th>Calls</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(p.examples ?? []).map((ex) => (
                <Table.Tr key={ex.sessionId}>
                  <Table.Td style={{ fontFamily: 'monospace' }}>{ex.sessionId}</Table.Td>
                  <Table.Td>
                    {(ex.steps ?? []).map((s, i) => (
                      <span key={i}>
                        {i > 0 ? ' → ' : ''}
                        {s.tool} ({s.success === false ? 'failed' : 'ok'}, {duration(s.durationMs)})
                      </span>
                    ))}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {(p.intents ?? []).length > 0 && (
        <>
          <Title order={2} size="h3">
            Intents
          </Title>
          <List>
            {(p.intents ?? []).map((i) => (
              <List.Item key={i.text}>
                {i.text} ({i.count})
              </List.Item>
            ))}
          </List>
        </>
      )}
    </Stack>
  );
}
