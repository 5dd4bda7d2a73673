import { Alert, Badge, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, unwrap } from '../../api/client';
import type { components } from '@toolpath/api-client';
import { TemplatePreview } from './TemplatePreview';

export type TemplateSummary = components['schemas']['TemplateSummary'];

/**
 * One template of the gallery. Instantiate opens a form for the variables the template requires
 * (the others stay run inputs of the copy); the copy lands in the catalog and the page moves to it.
 */
export function TemplateCard({ template }: { template: TemplateSummary }) {
  const navigate = useNavigate();
  const id = template.id ?? '';
  const name = template.name ?? id;
  const required = template.requiredVariables ?? [];
  const [open, setOpen] = useState<'form' | 'preview' | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const instantiate = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/workflows/templates/{id}/instantiate', { params: { path: { id } }, body: { variables: values } })),
    onSuccess: (w) => navigate(`/workflows/${encodeURIComponent(w.id)}`),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    instantiate.mutate();
  };
  const setValue = (variable: string, value: string) => setValues((s) => ({ ...s, [variable]: value }));
  const toggle = (what: 'form' | 'preview') => setOpen((o) => (o === what ? null : what));

  return (
    <Card withBorder padding="md" component="article" aria-labelledby={`template-${id}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="start">
          <Title order={2} size="h4" id={`template-${id}`}>
            {name}
          </Title>
          {template.category && (
            <Badge variant="light" color="blue">
              {template.category}
            </Badge>
          )}
        </Group>
        <Text size="sm">{template.description}</Text>
        {(template.tags ?? []).length > 0 && (
          <Group gap={4} aria-label="Tags">
            {(template.tags ?? []).map((t) => (
              <Badge key={t} variant="light" color="gray">
                {t}
              </Badge>
            ))}
          </Group>
        )}
        <Text size="xs">
          {template.steps ?? 0} steps · tools: {(template.tools ?? []).join(', ') || 'none'}
        </Text>
        <Text size="xs">Variables: {(template.variables ?? []).map((v) => (required.includes(v) ? `${v} (required)` : v)).join(', ') || 'none'}</Text>
        <Group gap="xs">
          <Button size="xs" onClick={() => toggle('form')} aria-expanded={open === 'form'} aria-label={`Instantiate ${name}`}>
            Instantiate
          </Button>
          <Button size="xs" variant="default" onClick={() => toggle('preview')} aria-expanded={open === 'preview'} aria-label={`Preview ${name}`}>
            Preview
          </Button>
        </Group>
        {open === 'form' && (
          <form onSubmit={submit} aria-label={`Instantiate ${name}`}>
            <Stack gap="xs">
              {required.length === 0 && <Text size="sm">No variable is required: the copy keeps its variables as run inputs.</Text>}
              {required.map((v) => (
                <TextInput key={v} label={v} required value={values[v] ?? ''} onChange={(e) => setValue(v, e.currentTarget.value)} />
              ))}
              {instantiate.isError && (
                <Alert color="red" role="alert" title="The template could not be instantiated">
                  {instantiate.error.message}
                </Alert>
              )}
              <div>
                <Button type="submit" size="xs" loading={instantiate.isPending}>
                  Create workflow
                </Button>
              </div>
            </Stack>
          </form>
        )}
        {open === 'preview' && <TemplatePreview id={id} name={name} />}
      </Stack>
    </Card>
  );
}
