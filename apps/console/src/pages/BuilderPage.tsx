import { Alert, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { Viewport } from '@xyflow/react';
import { useLocation, useParams } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { Builder } from '../components/builder/Builder';
import { getCanvas, type CanvasPosition } from '../components/builder/canvasApi';
import type { Definition } from '../components/builder/definition';
import { initialPositions } from '../components/builder/initialPositions';
import { definitionOf } from '../components/workflow/WorkflowActions';

/** What a new workflow starts as when the builder is opened without a draft. */
const EMPTY: Definition = { name: 'Untitled workflow', description: '', source: 'user', steps: [] };

/**
 * The visual builder. `/workflows/:id/edit` edits a stored workflow (saved as a new version with
 * the node positions); `/builder` edits a draft handed over in the router state
 * (`navigate('/builder', { state: { draft } })`, from Generate) or an empty one, saved as a new
 * workflow.
 */
export default function BuilderPage() {
  const id = useParams().id;
  const draft = (useLocation().state as { draft?: Definition } | null)?.draft;
  return id ? <StoredWorkflowBuilder id={id} /> : <DraftBuilder draft={{ ...EMPTY, ...draft }} />;
}

interface Opened {
  definition: Definition;
  version?: number;
  positions: Record<string, CanvasPosition>;
  viewport: Viewport | null;
  /** Why the stored positions could not be read (the layout is computed instead). */
  canvasWarning?: string;
}

function StoredWorkflowBuilder({ id }: { id: string }) {
  const opened = useQuery({
    // Not under ['workflow', id]: saving refreshes those, and must not reload what is being edited.
    queryKey: ['builder', 'workflow', id],
    queryFn: async (): Promise<Opened> => {
      const [workflow, canvas] = await Promise.all([
        api.GET('/api/v1/workflows/{id}', { params: { path: { id } } }).then(unwrap),
        getCanvas(id).then(
          (c) => ({ canvas: c, warning: undefined }),
          (err: Error) => ({ canvas: null, warning: err.message }),
        ),
      ]);
      const definition = definitionOf(workflow);
      return {
        definition,
        version: workflow.version,
        positions: await initialPositions(definition, canvas.canvas?.nodes ?? {}),
        viewport: canvas.canvas?.viewport ?? null,
        ...(canvas.warning ? { canvasWarning: canvas.warning } : {}),
      };
    },
    // What is being edited is not refreshed under the author's hands.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    gcTime: 0,
  });
  if (opened.isPending) return <Text>Loading…</Text>;
  if (opened.isError)
    return (
      <Stack>
        <Title order={1}>Edit workflow {id}</Title>
        <Alert color="red" role="alert">
          {opened.error.message}
        </Alert>
      </Stack>
    );
  const o = opened.data;
  return (
    <Stack>
      {o.canvasWarning && (
        <Alert color="yellow" c="dark.9" title="The stored node positions could not be read">
          {o.canvasWarning}; the steps are laid out afresh.
        </Alert>
      )}
      <Builder key={`${id}@${o.version}`} workflowId={id} version={o.version} initial={o.definition} initialPositions={o.positions} viewport={o.viewport} />
    </Stack>
  );
}

function DraftBuilder({ draft }: { draft: Definition }) {
  const laid = useQuery({
    queryKey: ['builder', 'draft', JSON.stringify(draft)],
    queryFn: () => initialPositions(draft, {}),
    staleTime: Infinity,
    gcTime: 0,
  });
  if (laid.isPending) return <Text>Loading…</Text>;
  return <Builder initial={draft} initialPositions={laid.data ?? {}} viewport={null} />;
}
