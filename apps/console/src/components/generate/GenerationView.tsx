import { Alert, Anchor, Badge, Group, List, Stack, Table, Text, Title } from '@mantine/core';
import type { components } from '@toolpath/api-client';
import { useMemo } from 'react';
import { Link } from 'react-router-dom';
import { LayeredGraph, type NodeTone } from '../graph/LayeredGraph';
import { workflowGraph } from '../graph/workflowGraph';
import { percent } from '../figures';

export type Generation = components['schemas']['Generation'];


/** Step ids that call a tool that does not exist: listed by the API, or calling "missing:<name>". */
export function missingStepIds(g: Generation): Set<string> {
  const ids = new Set<string>((g.missingTools ?? []).flatMap((m) => m.stepIds ?? []));
  for (const s of g.workflow?.steps ?? []) if (s.tool.startsWith('missing:')) ids.add(s.id);
  return ids;
}

/** A generated draft: its DAG (missing-tool steps in the 'failed' tone), why it looks so, what it reuses, what it lacks. */
export function GenerationView({ generation: g }: { generation: Generation }) {
  const graph = useMemo(() => {
    if (!g.workflow) return null;
    const tones: Record<string, NodeTone> = {};
    for (const id of missingStepIds(g)) tones[id] = 'failed';
    return workflowGraph(g.workflow, tones);
  }, [g]);
  const missing = g.missingTools ?? [];
  const reused = g.reusedWorkflows ?? [];
  const warnings = g.warnings ?? [];

  return (
    <Stack component="section" aria-label="Draft">
      <Title order={2}>{g.workflow?.name ?? 'Draft'}</Title>
      <Group gap="xs">
        <Badge variant="light" color={g.offline ? 'gray' : 'blue'}>
          {g.offline ? 'offline planner' : (g.model ?? 'model')}
        </Badge>
        {g.usage?.totalTokens !== undefined && <Text size="sm">{g.usage.totalTokens} tokens</Text>}
        {g.rounds !== undefined && g.rounds > 1 && <Text size="sm">{g.rounds} model rounds (repaired)</Text>}
        {g.durationMs !== undefined && <Text size="sm">{Math.round(g.durationMs / 100) / 10} s</Text>}
      </Group>
      {g.workflow?.description && <Text>{g.workflow.description}</Text>}

      {graph ? (
        <>
          <Text>Solid arrows: a step waits for another. Dashed arrows: a parameter reads another step&apos;s result. Red steps call a tool that does not exist yet.</Text>
          <LayeredGraph label={`Draft workflow: ${(g.workflow?.steps ?? []).map((s) => s.id).join(', ')}`} nodes={graph.nodes} edges={graph.edges} height={360} />
        </>
      ) : (
        <Text>The answer carries no draft.</Text>
      )}

      {g.explanation && (
        <>
          <Title order={3}>Explanation</Title>
          <Text style={{ whiteSpace: 'pre-wrap' }}>{g.explanation}</Text>
        </>
      )}

      {missing.length > 0 && (
        <>
          <Title order={3}>Missing tools</Title>
          <Table aria-label="Missing tools">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tool</Table.Th>
                <Table.Th>Why it is needed</Table.Th>
                <Table.Th>Steps</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {missing.map((m, i) => (
                <Table.Tr key={`${m.name}-${i}`}>
                  <Table.Td style={{ fontFamily: 'monospace' }}>{m.name}</Table.Td>
                  <Table.Td>{m.reason ?? '–'}</Table.Td>
                  <Table.Td>{(m.stepIds ?? []).join(', ') || '–'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}

      {(g.toolsUsed ?? []).length > 0 && (
        <Text>
          <strong>Tools used:</strong> {(g.toolsUsed ?? []).join(', ')}
        </Text>
      )}

      {reused.length > 0 && (
        <>
          <Title order={3}>Reused workflows</Title>
          <List>
            {reused.map((w, i) => (
              <List.Item key={w.id ?? i}>
                {w.id ? (
                  <Anchor component={Link} to={`/workflows/${encodeURIComponent(w.id)}`}>
                    {w.name ?? w.id}
                  </Anchor>
                ) : (
                  (w.name ?? 'unnamed')
                )}{' '}
                ({w.source ?? 'catalog'}, success {percent(w.successRate)}, {w.runs ?? 0} runs)
              </List.Item>
            ))}
          </List>
        </>
      )}

      {warnings.length > 0 && (
        <Alert color="yellow" title="Warnings" c="dark.9">
          <List>
            {warnings.map((w, i) => (
              <List.Item key={i}>{w}</List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Stack>
  );
}
