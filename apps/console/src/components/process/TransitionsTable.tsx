/**
 * The process map's transitions as a table, a page of PAGE_SIZE rows at a time: a map of 2,000
 * transitions would otherwise put 10,000 cells in the page while its graph is being drawn.
 *
 *   <TransitionsTable edges={flow.edges} />
 *
 * Rows in the order given (the API sends the most frequent first). Going back to the first page
 * when the rows change is the caller's: give it a `key` that changes with the filters.
 */
import { Button, Group, Table, Text } from '@mantine/core';
import { useState } from 'react';
import type { ApiSchemas } from '@toolpath/api-client';
import { duration } from '../figures';

export const PAGE_SIZE = 50;

const count = new Intl.NumberFormat('en');

export function TransitionsTable({ edges }: { edges: ApiSchemas['FlowStats']['edges'] }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(edges.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const rows = edges.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const first = current * PAGE_SIZE + 1;
  return (
    <>
      <Table.ScrollContainer minWidth={480} mah={360}>
        <Table aria-label="Transitions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>From</Table.Th>
              <Table.Th>To</Table.Th>
              <Table.Th>Count</Table.Th>
              <Table.Th>Mean gap</Table.Th>
              <Table.Th>p95 gap</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((e) => (
              <Table.Tr key={`${e.from}->${e.to}`}>
                <Table.Td>{e.from}</Table.Td>
                <Table.Td>{e.to}</Table.Td>
                <Table.Td>{e.count}</Table.Td>
                <Table.Td>{duration(e.meanGapMs)}</Table.Td>
                <Table.Td>{duration(e.p95GapMs)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {pages > 1 && (
        <Group justify="space-between" role="navigation" aria-label="Pages of transitions">
          <Text size="sm" aria-live="polite">
            Transitions {count.format(first)}–{count.format(first + rows.length - 1)} of {count.format(edges.length)}
          </Text>
          <Group gap="xs">
            <Button variant="default" size="xs" disabled={current === 0} onClick={() => setPage(current - 1)}>
              Previous transitions
            </Button>
            <Button variant="default" size="xs" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
              Next transitions
            </Button>
          </Group>
        </Group>
      )}
    </>
  );
}
