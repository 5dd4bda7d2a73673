import { Alert, Button, Checkbox, NativeSelect, Stack, Text, Textarea, TextInput } from '@mantine/core';
import type { ApiSchemas } from '@toolpath/api-client';
import { useMutation } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import { buildInput, initialValues, inputFields, type InputField, type RawValues } from './runInput';

type Variables = ApiSchemas['StoredWorkflow']['variables'];

function Field({ f, value, error, onChange }: { f: InputField; value: string | boolean; error?: string; onChange: (v: string | boolean) => void }) {
  // `required` marks the field (asterisk, aria-required); the form checks it itself (noValidate).
  const common = { label: f.label, description: f.description, error, required: f.required };
  switch (f.kind) {
    case 'boolean':
      return <Checkbox label={f.label} description={f.description} error={error} checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />;
    case 'enum':
      return (
        <NativeSelect
          {...common}
          value={String(value)}
          onChange={(e) => onChange(e.currentTarget.value)}
          data={[{ value: '', label: f.required ? 'Choose…' : '(none)' }, ...(f.options ?? []).map((o, i) => ({ value: String(i), label: typeof o === 'string' ? o : JSON.stringify(o) }))]}
        />
      );
    case 'json':
      return <Textarea {...common} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)} autosize minRows={3} styles={{ input: { fontFamily: 'monospace' } }} placeholder="JSON" />;
    case 'number':
    case 'integer':
      return <TextInput {...common} type="number" step={f.kind === 'integer' ? 1 : 'any'} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)} />;
    default:
      return <TextInput {...common} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)} />;
  }
}

/**
 * A run of a stored workflow: a form generated from its `variables` schema; once the gateway
 * accepts the run, the page moves to it.
 */
export function RunForm({ workflowId, variables }: { workflowId: string; variables: Variables }) {
  const fields = useMemo(() => inputFields(variables), [variables]);
  const [values, setValues] = useState<RawValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const navigate = useNavigate();
  const start = useMutation({
    mutationFn: async (input: Record<string, unknown>) => unwrap(await api.POST('/api/v1/workflows/{id}/executions', { params: { path: { id: workflowId } }, body: { input } })),
    onSuccess: (run) => navigate(`/runs/${encodeURIComponent(run.executionId)}`),
  });

  return (
    <form
      aria-label="Run input"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const built = buildInput(fields, values);
        setErrors(built.errors);
        if (Object.keys(built.errors).length === 0) start.mutate(built.input);
      }}
    >
      <Stack gap="sm" maw={560}>
        {fields.length === 0 && <Text size="sm">This workflow takes no input.</Text>}
        {fields.map((f) => (
          <Field key={f.name} f={f} value={values[f.name] ?? ''} error={errors[f.name]} onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))} />
        ))}
        {start.isError && (
          <Alert color="red" role="alert" title="The run was not started">
            {start.error.message}
          </Alert>
        )}
        <div>
          <Button type="submit" loading={start.isPending}>
            Run
          </Button>
        </div>
      </Stack>
    </form>
  );
}
