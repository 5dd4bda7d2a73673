/**
 * The builder itself, once what it edits is loaded: the palette, the canvas, the selected step's
 * panel, live validation, and Save.
 *
 *   <Builder workflowId="w1" version={3} initial={definition} initialPositions={positions} viewport={null} />   // a stored workflow: saves a new version
 *   <Builder initial={draft} initialPositions={positions} viewport={null} />                                  // a draft: saves a new workflow, then opens it
 *
 * A definition with errors is never sent: Save stays disabled and says why. Should the gateway
 * refuse it all the same, its errors are pinned on the nodes like validation's.
 */
import { Alert, Anchor, Button, Grid, Group, List, NativeSelect, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Viewport } from '@xyflow/react';
import { useCallback, useMemo, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { BuilderCanvas } from './BuilderCanvas';
import type { CanvasPosition } from './canvasApi';
import { addStep, connect, disconnect, errorsByStep, removeStep, renameStep, sameDefinition, updateStep, type Definition, type Step } from './definition';
import { placeNew } from './initialPositions';
import { Palette } from './Palette';
import { saveWorkflow, SaveRefused, type FieldProblem } from './saveWorkflow';
import { StepPanel } from './StepPanel';
import { useLiveValidation } from './useLiveValidation';

export interface BuilderProps {
  /** The stored workflow edited; absent for a draft. */
  workflowId?: string;
  version?: number;
  initial: Definition;
  initialPositions: Record<string, CanvasPosition>;
  viewport: Viewport | null;
}

/** A step's parameters as typed: an object, or what is wrong with the text. */
function parseParameters(text: string): { value: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'The parameters must be a JSON object: { "name": value, … }' };
    return { value: value as Record<string, unknown> };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function Builder({ workflowId, version: loadedVersion, initial, initialPositions, viewport: initialViewport }: BuilderProps) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [definition, setDefinition] = useState(initial);
  const [baseline, setBaseline] = useState(initial);
  const [version, setVersion] = useState(loadedVersion);
  const [positions, setPositions] = useState(initialPositions);
  const [savedPositions, setSavedPositions] = useState(() => JSON.stringify(initialPositions));
  const [selected, setSelected] = useState<string | null>(initial.steps[0]?.id ?? null);
  const [paramTexts, setParamTexts] = useState<Record<string, string>>({});
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});
  const [refused, setRefused] = useState<FieldProblem[]>([]);
  const viewport = useRef<Viewport | null>(initialViewport);
  const validation = useLiveValidation(definition);

  /** Every edit of the definition goes through here: the gateway's last refusal no longer applies. */
  const edit = useCallback((change: (d: Definition) => Definition) => {
    setDefinition(change);
    setRefused([]);
  }, []);

  const onAdd = (tool: string) => {
    const { definition: next, id } = addStep(definition, tool);
    edit(() => next);
    setPositions((p) => ({ ...p, [id]: placeNew(p, selected) }));
    setSelected(id);
  };
  const onDelete = useCallback(
    (id: string) => {
      edit((d) => removeStep(d, id));
      setSelected((s) => (s === id ? null : s));
      setParamErrors(({ [id]: _gone, ...rest }) => rest);
    },
    [edit],
  );
  const onConnect = useCallback((source: string, target: string) => edit((d) => connect(d, source, target)), [edit]);
  const onDisconnect = useCallback((source: string, target: string) => edit((d) => disconnect(d, source, target)), [edit]);
  const onMove = useCallback((id: string, p: CanvasPosition) => setPositions((all) => ({ ...all, [id]: p })), []);
  const onRename = (from: string, to: string) => {
    edit((d) => renameStep(d, from, to));
    const move = <T,>(r: Record<string, T>) => (from in r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k === from ? to : k, v])) : r);
    setPositions(move);
    setParamTexts(move);
    setParamErrors(move);
    setSelected(to);
  };
  const onParamsText = (id: string, text: string) => {
    setParamTexts((t) => ({ ...t, [id]: text }));
    const parsed = parseParameters(text);
    if ('error' in parsed) {
      setParamErrors((e) => ({ ...e, [id]: parsed.error }));
      return;
    }
    setParamErrors(({ [id]: _fixed, ...rest }) => rest);
    edit((d) => updateStep(d, id, { parameters: parsed.value }));
  };

  // What is wrong, by step: the gateway's validation, its refusal of a save, and parameters that are not JSON yet.
  const problems = useMemo(() => {
    const byStep = errorsByStep(definition, [...(validation.report?.errors ?? []), ...refused]);
    for (const [id, message] of Object.entries(paramErrors)) byStep.set(id, [...(byStep.get(id) ?? []), `parameters: ${message}`]);
    return byStep;
  }, [definition, validation.report, refused, paramErrors]);
  const errorCounts = useMemo(() => new Map([...problems].filter(([id]) => id).map(([id, list]) => [id, list.length])), [problems]);
  const general = problems.get('') ?? [];
  const total = [...problems.values()].reduce((n, list) => n + list.length, 0);

  const changed = !sameDefinition(definition, baseline);
  const moved = JSON.stringify(positions) !== savedPositions;
  const save = useMutation({
    mutationFn: () => saveWorkflow({ id: workflowId, expectedVersion: version, definition, definitionChanged: changed || !workflowId, positions, ...(viewport.current ? { viewport: viewport.current } : {}) }),
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ['workflow', saved.id] });
      void queries.invalidateQueries({ queryKey: ['workflows'] });
      if (!workflowId) {
        navigate(`/workflows/${encodeURIComponent(saved.id)}`);
        return;
      }
      setBaseline(definition);
      setSavedPositions(JSON.stringify(positions));
      if (saved.workflow) setVersion(saved.workflow.version);
    },
    onError: (err) => {
      if (err instanceof SaveRefused && err.status === 400) setRefused(err.details);
    },
  });

  const blocked =
    Object.keys(paramErrors).length > 0
      ? `The parameters of ${Object.keys(paramErrors).join(', ')} are not a JSON object yet.`
      : validation.error
        ? `The definition could not be checked: ${validation.error.message}`
        : !validation.current
          ? 'Checking the definition…'
          : total > 0
            ? `${plural(total, 'error')} to fix first.`
            : workflowId && !changed && !moved
              ? 'Nothing has changed since the last save.'
              : null;

  const step = definition.steps.find((s) => s.id === selected) ?? null;
  const saveLabel = workflowId ? 'Save as new version' : 'Save to the catalog';

  return (
    <Stack>
      <Group justify="space-between" align="flex-start" className="nokey">
        <div>
          <Title order={1}>{workflowId ? `Edit ${baseline.name}` : 'New workflow'}</Title>
          <Text size="sm">
            {workflowId ? (
              <>
                Version {version} ·{' '}
                <Anchor component={Link} to={`/workflows/${encodeURIComponent(workflowId)}`}>
                  open the workflow
                </Anchor>
              </>
            ) : (
              'Not in the catalog until saved.'
            )}
          </Text>
        </div>
        <Stack gap={4} align="flex-end">
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={Boolean(blocked)} aria-describedby="save-state">
            {saveLabel}
          </Button>
          <Text size="sm" id="save-state" role="status" c={blocked && total > 0 ? 'red.8' : undefined}>
            {blocked ?? (validation.current ? 'Valid: ready to save.' : '')}
          </Text>
        </Stack>
      </Group>

      {save.isError && (
        <Alert color="red" role="alert" title={save.error instanceof SaveRefused && save.error.status === 409 ? 'Someone saved another version meanwhile' : 'Not saved'}>
          {save.error.message}
        </Alert>
      )}
      {save.isSuccess && !save.isPending && workflowId && (
        <Alert color="green" title={`Saved${save.data.workflow ? ` as version ${save.data.workflow.version}` : ' (positions only)'}`} c="dark.9">
          {save.data.canvasError ? `The node positions were not saved: ${save.data.canvasError}` : 'The definition and the node positions are stored.'}
        </Alert>
      )}

      <Group grow align="flex-start">
        <TextInput label="Name" value={definition.name} onChange={(e) => {
            const name = e.currentTarget.value; // read now: the updater runs later, when the event is gone
            edit((d) => ({ ...d, name }));
          }} />
        <Textarea label="Description" autosize minRows={1} maxRows={4} value={definition.description} onChange={(e) => {
            const description = e.currentTarget.value;
            edit((d) => ({ ...d, description }));
          }} />
      </Group>

      {general.length > 0 && (
        <Alert color="red" title="Errors of the workflow">
          <List size="sm" aria-label="Errors of the workflow">
            {general.map((e, i) => (
              <List.Item key={i}>{e}</List.Item>
            ))}
          </List>
        </Alert>
      )}

      <Grid>
        {/* "nokey": Delete or Backspace on a focused button here is not the canvas's delete key. */}
        <Grid.Col span={{ base: 12, md: 3 }} className="nokey">
          <Palette onAdd={onAdd} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="xs" component="section" aria-labelledby="canvas-heading">
            <Title order={2} id="canvas-heading" size="h4">
              Steps
            </Title>
            <NativeSelect
              label="Selected step"
              value={selected ?? ''}
              data={[{ value: '', label: definition.steps.length ? 'none' : 'no step yet: add one from the list' }, ...definition.steps.map((s) => ({ value: s.id, label: `${s.id} (${s.tool})${errorCounts.get(s.id) ? ` · ${plural(errorCounts.get(s.id) ?? 0, 'error')}` : ''}` }))]}
              onChange={(e) => setSelected(e.currentTarget.value || null)}
            />
            <BuilderCanvas
              label={`Steps of ${definition.name || 'the workflow'}: drag from a step's right edge to another to make it wait; select and press Delete to remove`}
              steps={definition.steps}
              positions={positions}
              selected={selected}
              errorCounts={errorCounts}
              defaultViewport={initialViewport ?? undefined}
              onMove={onMove}
              onSelect={setSelected}
              onConnect={onConnect}
              onDisconnect={onDisconnect}
              onDelete={onDelete}
              onViewport={(v) => (viewport.current = v)}
            />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }} className="nokey">
          {step ? (
            <StepPanel
              key={step.id}
              step={step}
              definition={definition}
              errors={problems.get(step.id) ?? []}
              paramsText={paramTexts[step.id] ?? JSON.stringify(step.parameters ?? {}, null, 2)}
              paramsError={paramErrors[step.id] ?? null}
              onRename={(to) => onRename(step.id, to)}
              onChange={(patch: Partial<Step>) => edit((d) => updateStep(d, step.id, patch))}
              onParamsText={(text) => onParamsText(step.id, text)}
              onConnect={(dep) => onConnect(dep, step.id)}
              onDisconnect={(dep) => onDisconnect(dep, step.id)}
              onDelete={() => onDelete(step.id)}
            />
          ) : (
            <Text size="sm">Select a step (on the canvas or in the list) to edit it, or add one.</Text>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
