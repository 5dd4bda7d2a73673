import { Alert, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, unwrap } from '../../api/client';
import { LayeredGraph } from '../graph/LayeredGraph';
import { workflowGraph } from '../graph/workflowGraph';

/** A template's steps as a DAG, read only when asked for (the list carries no steps). */
export function TemplatePreview({ id, name }: { id: string; name: string }) {
  const template = useQuery({
    queryKey: ['template', id],
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows/templates/{id}', { params: { path: { id } } })),
  });
  const graph = useMemo(() => (template.data ? workflowGraph(template.data) : null), [template.data]);
  if (template.isError)
    return (
      <Alert color="red" role="alert" title="The template could not be read">
        {template.error.message}
      </Alert>
    );
  if (!graph) return <Text size="sm">Loading…</Text>;
  return <LayeredGraph label={`Steps of ${name} and their dependencies`} nodes={graph.nodes} edges={graph.edges} height={280} />;
}
