import { Alert, Badge, Button, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';

const SOURCES = ['user', 'learned', 'generated', 'template'] as const;
type Source = (typeof SOURCES)[number];

interface Filters {
  q: string;
  source: Source | '';
  category: string;
  tag: string;
  tool: string;
}

const PAGE = 25;

/** The catalog: stored workflows, newest first, filtered on the server and read a page at a time. */
export default function WorkflowsPage() {
  const [filters, setFilters] = useState<Filters>({ q: '', source: '', category: '', tag: '', tool: '' });
  // One request per pause in typing, not per key.
  const [applied] = useDebouncedValue(filters, 300);
  const list = useInfiniteQuery({
    queryKey: ['workflows', applied],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => {
      const query = {
        limit: PAGE,
        ...(applied.q.trim() ? { q: applied.q.trim() } : {}),
        ...(applied.source ? { source: applied.source } : {}),
        ...(applied.category.trim() ? { category: applied.category.trim() } : {}),
        ...(applied.tag.trim() ? { tag: applied.tag.trim() } : {}),
        ...(applied.tool.trim() ? { tool: applied.tool.trim() } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
      };
      return unwrap(await api.GET('/api/v1/workflows', { params: { query } }));
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setFilters((f) => ({ ...f, [k]: value }));
  };
  const rows = list.data?.pages.flatMap((p) => p.items ?? []) ?? [];

  return (
    <Stack>
      <Title order={1}>Workflows</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Filter workflows">
        <TextInput label="Search" description="in name or description" value={filters.q} onChange={set('q')} />
        <NativeSelect label="Source" value={filters.source} onChange={set('source')} data={[{ value: '', label: 'any' }, ...SOURCES.map((s) => ({ value: s, label: s }))]} />
        <TextInput label="Category" value={filters.category} onChange={set('category')} />
        <TextInput label="Tag" value={filters.tag} onChange={set('tag')} />
        <TextInput label="Tool" description="a tool one of its steps calls" value={filters.tool} onChange={set('tool')} />
      </Group>
      {list.isError && (
        <Alert color="red" role="alert" title="The catalog could not be read">
          {list.error.message}
        </Alert>
      )}
      {list.isPending ? (
        <Text>Loading…</Text>
      ) : rows.length === 0 ? (
        <Text>No workflow matches.</Text>
      ) : (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Source</Table.Th>
              <Table.Th>Category</Table.Th>
              <Table.Th>Tags</Table.Th>
              <Table.Th>Steps</Table.Th>
              <Table.Th>Version</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((w) => (
              <Table.Tr key={w.id}>
                <Table.Td>
                  <Link to={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                  <Text size="xs" c="gray.7" lineClamp={1}>
                    {w.description}
                  </Text>
                </Table.Td>
                <Table.Td>{w.source}</Table.Td>
                <Table.Td>{w.category ?? ''}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {(w.tags ?? []).map((t) => (
                      <Badge key={t} variant="light" color="gray">
                        {t}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{w.steps.length}</Table.Td>
                <Table.Td>{w.version}</Table.Td>
                <Table.Td>{new Date(w.updatedAt).toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {list.hasNextPage && (
        <div>
          <Button variant="default" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </Stack>
  );
}
