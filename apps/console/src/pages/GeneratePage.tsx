import { Alert, Button, Card, Checkbox, Group, Loader, NumberInput, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api, ApiFailure, unwrap } from '../api/client';
import { toConstraints } from '../components/generate/constraints';
import { GenerationView } from '../components/generate/GenerationView';

/** What a failed generation means, by status; the API's own message follows. */
const FAILURE_TITLES: Record<number, string> = {
  400: 'The request was refused',
  413: 'The prompt is too long',
  422: 'Nothing matches the prompt',
  502: 'The model did not produce a valid workflow',
  503: 'No generator is available',
  504: 'The generator did not answer in time',
};

const failureTitle = (error: Error) => (error instanceof ApiFailure ? (FAILURE_TITLES[error.status] ?? `Failed (${error.status})`) : 'Failed');

/** A sentence → a drafted workflow (DAG, explanation, missing tools) → stored in the catalog on Apply. */
export default function GeneratePage() {
  const navigate = useNavigate();
  const [prompt, setPrompt] = useState('');
  const [offline, setOffline] = useState(false);
  const [maxSteps, setMaxSteps] = useState<number | string>('');
  const [tools, setTools] = useState('');

  const generate = useMutation({
    mutationFn: async () => {
      const constraints = toConstraints({ offline, maxSteps, tools });
      return unwrap(await api.POST('/api/v1/workflows/generate', { body: { prompt: prompt.trim(), ...(constraints ? { constraints } : {}) } }));
    },
  });
  const apply = useMutation({
    mutationFn: async (generationId: string) => {
      const stored = unwrap(await api.POST('/api/v1/workflows/generate/apply', { body: { generationId } }));
      const id = stored.id ?? stored.workflow?.id;
      if (!id) throw new Error('The gateway stored the draft but named no workflow id.');
      return id;
    },
    onSuccess: (id) => navigate(`/workflows/${encodeURIComponent(id)}`),
  });
  const generation = generate.data;

  function submit(e: FormEvent) {
    e.preventDefault();
    apply.reset(); // an error of the previous draft's apply does not belong to the next one
    generate.mutate();
  }

  return (
    <Stack>
      <Title order={1}>Generate a workflow</Title>
      <Text>Describe a task in words: the generator drafts a workflow from the registered tools and the tenant&apos;s workflows. Nothing is stored until you apply the draft.</Text>

      <Card withBorder component="form" aria-label="Generate" onSubmit={submit}>
        <Stack>
          <Textarea label="Task" description="What the workflow should do" placeholder="Clone the repository, run lint and tests in parallel, then open a pull request" value={prompt} onChange={(e) => setPrompt(e.currentTarget.value)} autosize minRows={3} maxRows={10} required />
          <Group align="flex-end">
            <NumberInput label="Max steps" description="optional" min={1} max={100} allowDecimal={false} value={maxSteps} onChange={setMaxSteps} w={140} />
            <TextInput label="Allowed tools" description="optional, comma-separated" placeholder="git.clone, npm.test" value={tools} onChange={(e) => setTools(e.currentTarget.value)} style={{ flex: 1 }} />
          </Group>
          <Checkbox label="Draft offline (no LLM)" checked={offline} onChange={(e) => setOffline(e.currentTarget.checked)} />
          <Group>
            <Button type="submit" loading={generate.isPending} disabled={prompt.trim().length === 0}>
              Generate
            </Button>
            {generate.isPending && (
              // A model answer takes seconds: say that work is under way.
              <Group gap="xs" role="status">
                <Loader size="sm" aria-hidden />
                <Text>Drafting the workflow; this can take a few seconds…</Text>
              </Group>
            )}
          </Group>
        </Stack>
      </Card>

      {generate.isError && (
        <Alert color="red" role="alert" title={failureTitle(generate.error)}>
          {generate.error.message}
        </Alert>
      )}

      {generation && !generate.isPending && (
        <>
          <GenerationView generation={generation} />
          <Card withBorder component="section" aria-label="Apply">
            <Group>
              <Button onClick={() => generation.id && apply.mutate(generation.id)} loading={apply.isPending} disabled={!generation.id || !generation.workflow}>
                Apply
              </Button>
              <Button variant="default" onClick={() => generation.workflow && navigate('/builder', { state: { draft: generation.workflow } })} disabled={!generation.workflow}>
                Open in builder
              </Button>
              <Text>
                Apply stores the draft in the catalog and opens it; the builder lets you change it first.
                {(generation.missingTools ?? []).length > 0 ? ' Steps calling a missing tool fail until the tool is registered.' : ''}
              </Text>
            </Group>
            {apply.isError && (
              <Alert color="red" role="alert" mt="sm" title="Not applied">
                {apply.error.message}
              </Alert>
            )}
          </Card>
        </>
      )}
    </Stack>
  );
}
