/**
 * What a step can call, as buttons that add one: the built-in tools, the NATS-served tools with
 * their provider, the MCP tools under their server (with its connection state), and the tools the
 * agents seen have been calling. A filter narrows every list. Each list reads its own endpoint, so
 * one failing leaves the others.
 *
 *   <Palette onAdd={(tool) => …} />   // button "Add http.request", "Add mcp:files/read", …
 */
import { Alert, Badge, Button, Group, ScrollArea, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { providerLabel, STATE_COLOUR, type ToolResource } from '../library/resources';
import { useResources } from '../library/useResources';

export function Palette({ onAdd }: { onAdd: (tool: string) => void }) {
  const [filter, setFilter] = useState('');
  const { tools, mcps, agents } = useResources();

  const words = filter.trim().toLowerCase();
  const matches = (...texts: Array<string | undefined>) => !words || texts.some((t) => t?.toLowerCase().includes(words));
  const all = tools.data?.items ?? [];
  const shown = all.filter((t) => matches(t.name, t.description, t.server));
  const bySource = (source: ToolResource['source']) => shown.filter((t) => t.source === source);
  const servers = mcps.data ?? [];
  // MCP tools of a server the servers' list does not (yet) name still get a heading.
  const serverNames = [...new Set([...servers.map((s) => s.name), ...bySource('mcp').map((t) => t.server ?? '')])];

  return (
    <Stack component="section" aria-labelledby="palette-heading" gap="xs">
      <Title order={2} id="palette-heading" size="h4">
        Add a step
      </Title>
      <TextInput label="Filter tools" placeholder="name or description" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} />
      <ScrollArea.Autosize mah={560} type="auto">
        <Stack gap="sm">
          {tools.isError && (
            <Alert color="red" role="alert" title="The tools could not be listed">
              {tools.error.message}
            </Alert>
          )}
          {tools.isPending && <Text size="sm">Loading tools…</Text>}
          <ToolGroup title="Built-in tools" items={bySource('builtin')} onAdd={onAdd} />
          <ToolGroup title="NATS tools" items={bySource('nats')} onAdd={onAdd} detail={(t) => providerLabel(t.provider)} />
          {serverNames.map((name) => {
            const server = servers.find((s) => s.name === name);
            const items = bySource('mcp').filter((t) => (t.server ?? '') === name);
            if (items.length === 0 && !matches(name)) return null;
            return (
              <ToolGroup
                key={name || '(unnamed)'}
                title={`MCP: ${name || 'unnamed server'}`}
                badge={server && <Badge size="xs" variant="light" color={STATE_COLOUR[server.state]}>{server.state}</Badge>}
                items={items}
                onAdd={onAdd}
                empty={server?.lastError ?? 'no tools listed'}
              />
            );
          })}
          {(agents.data ?? [])
            .filter((a) => matches(a.agentId, ...a.tools.map((t) => t.tool)))
            .map((a) => (
              <ToolGroup
                key={a.agentId}
                title={`Agent ${a.agentId}`}
                items={a.tools.map((t) => all.find((x) => x.name === t.tool) ?? { name: t.tool, source: 'builtin' as const, description: `called ${t.count} times` })}
                onAdd={onAdd}
                addLabel={(t) => `Add ${t.name} (as agent ${a.agentId} calls it)`}
              />
            ))}
          {tools.data && shown.length === 0 && <Text size="sm">No tool matches.</Text>}
        </Stack>
      </ScrollArea.Autosize>
    </Stack>
  );
}

/** One titled list of tools, each an "Add" button. */
function ToolGroup({
  title,
  items,
  onAdd,
  detail,
  badge,
  empty,
  addLabel = (t) => `Add ${t.name}`,
}: {
  title: string;
  items: ToolResource[];
  onAdd: (tool: string) => void;
  detail?: (t: ToolResource) => string;
  badge?: ReactNode;
  empty?: string;
  addLabel?: (t: ToolResource) => string;
}) {
  if (items.length === 0 && !empty) return null;
  return (
    <div role="group" aria-label={title}>
      <Group gap={6} mb={4}>
        <Text fw={600} size="sm">
          {title}
        </Text>
        {badge}
      </Group>
      {items.length === 0 && (
        <Text size="sm" c="gray.7">
          {empty}
        </Text>
      )}
      <Stack gap={4}>
        {items.map((t) => (
          <Button
            key={t.name}
            variant="default"
            size="compact-sm"
            justify="flex-start"
            fullWidth
            onClick={() => onAdd(t.name)}
            aria-label={addLabel(t)}
            title={[t.description, detail?.(t)].filter(Boolean).join(' · ') || undefined}
            styles={{ label: { overflow: 'hidden', textOverflow: 'ellipsis' } }}
          >
            {t.name}
          </Button>
        ))}
      </Stack>
    </div>
  );
}
