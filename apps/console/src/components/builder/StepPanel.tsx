/**
 * The side panel of the builder for the selected step: its id, tool, dependencies, parameters
 * (JSON with template completion), condition, timeout, retry and what a failure does, with the
 * errors validation pinned on it. Every control is labelled and reachable by keyboard; a
 * dependency can be added and removed here as well as on the canvas.
 *
 *   <StepPanel step={step} definition={definition} errors={['steps[0].tool: …']} paramsText={text} paramsError={null}
 *              onRename={…} onChange={(patch) => …} onParamsText={…} onConnect={…} onDisconnect={…} onDelete={…} />
 */
import { ActionIcon, Alert, Button, Group, List, NativeSelect, NumberInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { dependencyCandidates, inputNames, STEP_ID, upstreamOf, type Definition, type Step } from './definition';
import { ParamsEditor } from './ParamsEditor';

export interface StepPanelProps {
  step: Step;
  definition: Definition;
  errors: string[];
  paramsText: string;
  paramsError: string | null;
  onRename: (to: string) => void;
  onChange: (patch: Partial<Step>) => void;
  onParamsText: (text: string) => void;
  onConnect: (dependency: string) => void;
  onDisconnect: (dependency: string) => void;
  onDelete: () => void;
}

const DEFAULT_BACKOFF = { type: 'fixed' as const, delayMs: 1000 };

/** NumberInput's value → a whole number, or undefined when cleared. */
const whole = (v: number | string): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined);

export function StepPanel({ step, definition, errors, paramsText, paramsError, onRename, onChange, onParamsText, onConnect, onDisconnect, onDelete }: StepPanelProps) {
  const [idText, setIdText] = useState(step.id);
  const others = definition.steps.map((s) => s.id).filter((id) => id !== step.id);
  const idProblem = !STEP_ID.test(idText) ? 'letters, digits, "_" and "-", 1 to 64 of them' : others.includes(idText) ? 'another step has this id' : null;
  const commitId = () => {
    if (!idProblem && idText !== step.id) onRename(idText);
  };
  const candidates = dependencyCandidates(definition, step.id);
  const failure = step.onFailure === undefined ? 'abort' : typeof step.onFailure === 'string' ? step.onFailure : 'fallback';
  const fallback = typeof step.onFailure === 'object' ? step.onFailure.fallback : '';
  const paramsErrorId = `params-error-${step.id}`;

  return (
    <Stack component="section" aria-labelledby="step-heading" gap="sm">
      <Group justify="space-between">
        <Title order={2} id="step-heading" size="h4">
          Step {step.id}
        </Title>
        <Button color="red" variant="outline" size="compact-sm" onClick={onDelete}>
          Delete step {step.id}
        </Button>
      </Group>

      {errors.length > 0 && (
        <Alert color="red" title={`${errors.length} error${errors.length === 1 ? '' : 's'} in this step`}>
          <List size="sm" aria-label={`Errors of ${step.id}`}>
            {errors.map((e, i) => (
              <List.Item key={i}>{e}</List.Item>
            ))}
          </List>
        </Alert>
      )}

      <TextInput
        label="Step id"
        value={idText}
        onChange={(e) => setIdText(e.currentTarget.value)}
        onBlur={commitId}
        onKeyDown={(e) => e.key === 'Enter' && commitId()}
        error={idProblem}
        description="Renaming updates the dependencies on it; templates reading it keep the text typed."
      />
      <TextInput label="Tool" value={step.tool} onChange={(e) => onChange({ tool: e.currentTarget.value })} />

      <div>
        <Text size="sm" fw={500} id="deps-label">
          Depends on
        </Text>
        {(step.dependsOn ?? []).length === 0 ? (
          <Text size="sm" c="gray.7">
            nothing: it starts with the run
          </Text>
        ) : (
          <List size="sm" aria-labelledby="deps-label">
            {(step.dependsOn ?? []).map((dep) => (
              <List.Item key={dep}>
                <Group gap={4}>
                  <code>{dep}</code>
                  <ActionIcon variant="subtle" color="red" size="sm" aria-label={`Remove dependency on ${dep}`} onClick={() => onDisconnect(dep)}>
                    ×
                  </ActionIcon>
                </Group>
              </List.Item>
            ))}
          </List>
        )}
        {candidates.length > 0 && (
          <NativeSelect
            mt={4}
            label="Add a dependency"
            value=""
            data={[{ value: '', label: 'choose a step…' }, ...candidates.map((c) => ({ value: c, label: c }))]}
            onChange={(e) => e.currentTarget.value && onConnect(e.currentTarget.value)}
          />
        )}
      </div>

      <div>
        <Text size="sm" fw={500} component="div">
          Parameters (JSON)
        </Text>
        <Text size="xs" c="gray.7" mb={4}>
          Type <code>{'{{'}</code> for the run input and the results of the steps upstream (Ctrl+Space lists them).
        </Text>
        <ParamsEditor
          key={step.id}
          label={`Parameters of ${step.id}`}
          initial={paramsText}
          onChange={onParamsText}
          scope={() => ({ inputs: inputNames(definition), upstream: upstreamOf(definition, step.id) })}
          describedBy={paramsError ? paramsErrorId : undefined}
          invalid={Boolean(paramsError)}
        />
        {paramsError && (
          <Text size="sm" c="red.8" id={paramsErrorId} role="alert">
            {paramsError}
          </Text>
        )}
      </div>

      <TextInput
        label="Condition"
        description="Run only when true, e.g. steps.check.result.count > 0; otherwise skipped"
        value={step.condition ?? ''}
        onChange={(e) => onChange({ condition: e.currentTarget.value || undefined })}
      />
      <NumberInput label="Timeout (ms)" description="empty: the executor's default" min={1} allowDecimal={false} value={step.timeoutMs ?? ''} onChange={(v) => onChange({ timeoutMs: whole(v) })} />

      <Group grow align="flex-start">
        <NumberInput
          label="Attempts in all"
          description="empty: no retry"
          min={1}
          allowDecimal={false}
          value={step.retry?.maxAttempts ?? ''}
          onChange={(v) => {
            const maxAttempts = whole(v);
            onChange({ retry: maxAttempts === undefined ? undefined : { ...step.retry, maxAttempts, backoff: step.retry?.backoff ?? DEFAULT_BACKOFF } });
          }}
        />
        {step.retry && (
          <NativeSelect
            label="Backoff"
            value={step.retry.backoff.type}
            data={['fixed', 'exponential']}
            onChange={(e) => step.retry && onChange({ retry: { ...step.retry, backoff: { ...step.retry.backoff, type: e.currentTarget.value as 'fixed' | 'exponential' } } })}
          />
        )}
      </Group>
      {step.retry && (
        <Group grow align="flex-start">
          <NumberInput
            label="Delay before the first retry (ms)"
            min={0}
            allowDecimal={false}
            value={step.retry.backoff.delayMs}
            onChange={(v) => step.retry && onChange({ retry: { ...step.retry, backoff: { ...step.retry.backoff, delayMs: whole(v) ?? 0 } } })}
          />
          {step.retry.backoff.type === 'exponential' && (
            <NumberInput
              label="Longest delay (ms)"
              min={0}
              allowDecimal={false}
              value={step.retry.backoff.maxDelayMs ?? ''}
              onChange={(v) => {
                if (!step.retry) return;
                const { maxDelayMs: _old, ...backoff } = step.retry.backoff;
                const maxDelayMs = whole(v);
                onChange({ retry: { ...step.retry, backoff: maxDelayMs === undefined ? backoff : { ...backoff, maxDelayMs } } });
              }}
            />
          )}
        </Group>
      )}

      <Group grow align="flex-start">
        <NativeSelect
          label="On failure"
          value={failure}
          data={[
            { value: 'abort', label: 'abort the run' },
            { value: 'continue', label: 'continue without its dependents' },
            ...(others.length ? [{ value: 'fallback', label: 'run a fallback step' }] : []),
          ]}
          onChange={(e) => {
            const v = e.currentTarget.value;
            onChange({ onFailure: v === 'abort' ? undefined : v === 'continue' ? 'continue' : { fallback: fallback || others[0] } });
          }}
        />
        {failure === 'fallback' && (
          <NativeSelect label="Fallback step" value={fallback} data={others.includes(fallback) ? others : [fallback, ...others]} onChange={(e) => onChange({ onFailure: { fallback: e.currentTarget.value } })} />
        )}
      </Group>
    </Stack>
  );
}
