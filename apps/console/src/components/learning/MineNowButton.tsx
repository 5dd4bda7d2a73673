import { Alert, Button, Group, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';

/** How long the gateway holds the request open for the run to end; past it the run goes on and the page says so. */
const WAIT_MS = 30_000;

/**
 * Runs the analyzer now instead of waiting for its schedule (every minute by default): what was
 * just imported or recorded becomes patterns and the process map while the person looks. When
 * the run ends, every learned view the console holds is read again.
 */
export function MineNowButton() {
  const client = useQueryClient();
  const mine = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/analyzer/runs', { body: { waitMs: WAIT_MS } })),
    // Patterns, the process map, variants and the overview's figures all change: read again what is shown.
    onSuccess: () => client.invalidateQueries(),
  });
  const run = mine.data;
  return (
    <Group align="center" gap="sm">
      <Button variant="default" onClick={() => mine.mutate()} loading={mine.isPending}>
        Mine now
      </Button>
      {run && (
        <Text size="sm" role="status">
          {run.status === 'running'
            ? 'The analyzer is still mining; the patterns appear when it ends.'
            : run.status === 'failed'
              ? `The run failed: ${run.error ?? 'no reason given'}`
              : run.status === 'skipped'
                ? 'Another analyzer was mining; nothing more to do now.'
                : `Mined ${run.tenant?.events ?? 0} events: ${run.tenant?.sessionsClosed ?? 0} sessions closed, ${run.tenant?.patterns ?? 0} patterns (${run.tenant?.patternsChanged ?? 0} changed).`}
        </Text>
      )}
      {mine.isError && (
        <Alert color="red" role="alert" title="The analyzer could not be run">
          {mine.error.message}
        </Alert>
      )}
    </Group>
  );
}
