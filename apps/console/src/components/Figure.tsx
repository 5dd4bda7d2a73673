import { Card, Text } from '@mantine/core';

/** One headline figure in a card: its label, its value, and an optional line under it. */
export function Figure({ label, value, detail, size = 'md' }: { label: string; value: string; detail?: string; size?: 'md' | 'xl' }) {
  return (
    <Card withBorder padding="sm">
      <Text size="sm" c="gray.7">
        {label}
      </Text>
      <Text size={size} fw={700}>
        {value}
      </Text>
      {detail && (
        <Text size="sm" c="gray.7">
          {detail}
        </Text>
      )}
    </Card>
  );
}
