import { Accordion, Badge, Group, Stack, Text } from '@mantine/core';
import { formatMs, formatTime } from './format';
import type { RunStep } from './runState';
import { JsonBlock } from '../JsonBlock';

const STATUS_COLOUR: Record<string, string> = { COMPLETED: 'green', FAILED: 'red', RUNNING: 'blue', CANCELLED: 'orange', SKIPPED: 'gray' };

/**
 * Each step of a run, one accordion item: its status and attempts in the header, and inside its
 * times, its parameters (as the definition writes them, templates not yet filled in), its result
 * and its error.
 */
export function StepAccordion({ steps, parameters }: { steps: RunStep[]; parameters: Record<string, Record<string, unknown> | undefined> }) {
  return (
    <Accordion multiple variant="separated">
      {steps.map((s) => {
        const id = s.id ?? '';
        return (
          <Accordion.Item key={id} value={id}>
            <Accordion.Control>
              <Group gap="xs">
                <Text fw={600}>{id}</Text>
                <Text size="sm">{s.tool}</Text>
                <Badge color={STATUS_COLOUR[s.status ?? ''] ?? 'gray'} variant="light">
                  {(s.status ?? 'PENDING').toLowerCase()}
                </Badge>
                <Text size="sm">{`${s.attempts ?? 0} attempt${s.attempts === 1 ? '' : 's'}`}</Text>
              </Group>
            </Accordion.Control>
            <Accordion.Panel>
              <Stack gap="xs">
                <Text size="sm">
                  {`Started ${formatTime(s.startedAt)} · ended ${formatTime(s.endedAt)}`}
                  {s.durationMs != null ? ` · ${formatMs(s.durationMs)}` : ''}
                </Text>
                {parameters[id] !== undefined && <JsonBlock label="Input parameters (as defined)" value={parameters[id]} />}
                {s.result !== undefined && <JsonBlock label="Result" value={s.result} />}
                {s.error && (
                  <div>
                    <Text size="sm" fw={600}>
                      Error
                    </Text>
                    <Text size="sm" c="red.9" style={{ whiteSpace: 'pre-wrap' }}>
                      {s.error}
                    </Text>
                  </div>
                )}
              </Stack>
            </Accordion.Panel>
          </Accordion.Item>
        );
      })}
    </Accordion>
  );
}
