import { Accordion, Badge, Code, Group, Stack, Text } from '@mantine/core';
import { formatMs } from '../run/format';
import { startMs, type ToolCall } from './timeline';
import { JsonBlock } from '../JsonBlock';


/**
 * Each tool call of a session, numbered as on the timeline: its outcome and duration in the header,
 * and inside its start, its parameters, its result and its error, the JSON as recorded.
 */
export function CallAccordion({ calls }: { calls: readonly ToolCall[] }) {
  return (
    <Accordion multiple variant="separated">
      {calls.map((c, i) => {
        const start = startMs(c);
        return (
          <Accordion.Item key={`${i}-${c.eventId}`} value={`${i}-${c.eventId}`}>
            <Accordion.Control>
              <Group gap="xs">
                <Text fw={600}>{`${i + 1}. ${c.tool}`}</Text>
                {c.success ? (
                  <Badge color="green" variant="light">
                    succeeded
                  </Badge>
                ) : (
                  <Badge color="red" variant="light">
                    ✕ failed
                  </Badge>
                )}
                <Text size="sm">{formatMs(c.durationMs)}</Text>
              </Group>
            </Accordion.Control>
            <Accordion.Panel>
              <Stack gap="xs">
                <Text size="sm">{`Started ${Number.isFinite(start) ? new Date(start).toLocaleString() : '—'}${c.stepId ? ` · step ${c.stepId}` : ''}`}</Text>
                <JsonBlock label="Parameters" value={c.parameters} />
                <JsonBlock label="Result" value={c.result} />
                {c.error !== undefined && (
                  <div>
                    <Text size="sm" fw={600}>
                      Error
                    </Text>
                    <Code block c="red.9" style={{ whiteSpace: 'pre-wrap' }}>
                      {c.error}
                    </Code>
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
