import { Alert, Group, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { TemplateCard } from '../components/library/TemplateCard';

/**
 * The template gallery: built-in workflows to copy into the catalog. The words typed are searched
 * on the server (name, description, tags, tools); the category narrows the cards at once, in the
 * page, since the gallery is small and the list already names every category.
 */
export default function TemplatesPage() {
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  // One request per pause in typing, not per key.
  const [query] = useDebouncedValue(q.trim(), 300);
  const list = useQuery({
    queryKey: ['templates', query],
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows/templates', { params: { query: query ? { q: query } : {} } })),
    placeholderData: keepPreviousData,
  });
  const categories = (list.data?.categories ?? []).flatMap((c) => (c.category ? [{ value: c.category, label: `${c.category} (${c.count ?? 0})` }] : []));
  // Keep the chosen category offered even when a search leaves none of its templates.
  if (category && !categories.some((c) => c.value === category)) categories.push({ value: category, label: `${category} (0)` });
  const cards = (list.data?.items ?? []).filter((t) => !category || t.category === category);

  return (
    <Stack>
      <Title order={1}>Templates</Title>
      <Group align="end" wrap="wrap" role="search" aria-label="Filter templates">
        <TextInput label="Search" description="in name, description, tags or tools" value={q} onChange={(e) => setQ(e.currentTarget.value)} />
        <NativeSelect label="Category" value={category} onChange={(e) => setCategory(e.currentTarget.value)} data={[{ value: '', label: 'all' }, ...categories]} />
      </Group>
      {list.isError && (
        <Alert color="red" role="alert" title="The templates could not be read">
          {list.error.message}
        </Alert>
      )}
      {list.isPending ? (
        <Text>Loading…</Text>
      ) : cards.length === 0 ? (
        <Text>No template matches.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {cards.map((t) => (
            <TemplateCard key={t.id} template={t} />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
