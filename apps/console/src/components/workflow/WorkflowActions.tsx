import { Alert, Button, Group, List, Modal, Text } from '@mantine/core';
import type { ApiSchemas } from '@toolpath/api-client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, unwrap } from '../../api/client';

type StoredWorkflow = ApiSchemas['StoredWorkflow'];

/** The definition alone: the catalog's bookkeeping (version, dates, origin) is not part of what is validated. */
export function definitionOf(w: StoredWorkflow): ApiSchemas['WorkflowDefinition'] {
  const { version: _v, createdAt: _c, updatedAt: _u, templateId: _t, generationId: _g, ...definition } = w;
  return definition;
}

/** Validate, Copy, Delete (confirmed first) and a link to the workflow's runs. */
export function WorkflowActions({ workflow }: { workflow: StoredWorkflow }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const id = { params: { path: { id: workflow.id } } };

  const validate = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/workflows/validate', { body: definitionOf(workflow) })),
  });
  const copy = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/workflows/{id}/copy', id)),
    onSuccess: (copied) => {
      void queries.invalidateQueries({ queryKey: ['workflows'] });
      navigate(`/workflows/${encodeURIComponent(copied.id)}`);
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/api/v1/workflows/{id}', id)),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['workflows'] });
      navigate('/workflows');
    },
  });
  const failure = copy.error ?? remove.error ?? validate.error;

  return (
    <>
      <Group>
        <Button variant="default" onClick={() => validate.mutate()} loading={validate.isPending}>
          Validate
        </Button>
        <Button variant="default" onClick={() => copy.mutate()} loading={copy.isPending}>
          Copy
        </Button>
        <Button color="red" variant="outline" onClick={() => setConfirming(true)}>
          Delete
        </Button>
        <Button component={Link} to={`/runs?workflow=${encodeURIComponent(workflow.id)}`} variant="subtle">
          Runs
        </Button>
      </Group>
      {failure && (
        <Alert color="red" role="alert" mt="sm">
          {failure.message}
        </Alert>
      )}
      {validate.data && (
        <Alert color={validate.data.valid ? 'green' : 'red'} mt="sm" title={validate.data.valid ? 'Valid' : `${validate.data.errors.length} error${validate.data.errors.length === 1 ? '' : 's'}`} aria-live="polite">
          {validate.data.valid ? (
            <Text size="sm">{`${validate.data.levels.length} level${validate.data.levels.length === 1 ? '' : 's'}: ${validate.data.levels.map((l) => l.join(' ∥ ')).join(' → ')}`}</Text>
          ) : (
            <List size="sm" aria-label="Validation errors">
              {validate.data.errors.map((e, i) => (
                <List.Item key={i}>
                  {e.stepId ? `step ${e.stepId}, ` : ''}
                  <code>{e.field}</code>: {e.message}
                </List.Item>
              ))}
            </List>
          )}
        </Alert>
      )}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Delete ${workflow.name}?`}>
        <Text size="sm" mb="md">
          The workflow leaves the catalog; its versions and runs are kept.
        </Text>
        <Group justify="end">
          <Button variant="default" onClick={() => setConfirming(false)}>
            Keep it
          </Button>
          <Button color="red" onClick={() => remove.mutate()} loading={remove.isPending}>
            Yes, delete
          </Button>
        </Group>
      </Modal>
    </>
  );
}
