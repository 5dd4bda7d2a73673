import { Code, Text } from '@mantine/core';

/** A labelled JSON value, pretty-printed in a scrolling block; `undefined` says nothing was recorded. */
export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return (
    <div>
      <Text size="sm" fw={600}>
        {label}
      </Text>
      <Code block style={{ maxHeight: 300, overflow: 'auto' }}>
        {value === undefined ? '(none recorded)' : JSON.stringify(value, null, 2)}
      </Code>
    </div>
  );
}
