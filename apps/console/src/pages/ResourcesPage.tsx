import { Alert, Badge, Card, Group, List, Stack, Table, Text, Title } from '@mantine/core';
import { formatTime } from '../components/run/format';
import { providerLabel, STATE_COLOUR, type AgentActivity, type McpServer, type ToolResource } from '../components/library/resources';
import { useResources } from '../components/library/useResources';

/**
 * What workflows can be built with: every tool a step can name (built-ins, NATS providers that
 * are alive, MCP tools), the configured MCP servers with their state and tools, and the agents
 * seen calling tools. Each section reads its own endpoint, so one failing leaves the others.
 */
export default function ResourcesPage() {
  const { tools, mcps, agents } = useResources();
  const toolItems = tools.data?.items ?? [];

  return (
    <Stack>
      <Title order={1}>Resources</Title>

      <Stack component="section" aria-labelledby="tools-heading" gap="xs">
        <Title order={2} id="tools-heading">
          Tools
        </Title>
        <Failure query={tools} title="The tools could not be listed" />
        {(tools.data?.warnings ?? []).map((w, i) => (
          <Alert key={i} color="yellow" title={`Some ${w.source} tools are missing${w.server ? ` (server ${w.server})` : ''}`}>
            {w.message}
          </Alert>
        ))}
        {tools.isPending ? <Text>Loading…</Text> : tools.data && <ToolsTable tools={toolItems} />}
      </Stack>

      <Stack component="section" aria-labelledby="mcps-heading" gap="xs">
        <Title order={2} id="mcps-heading">
          MCP servers
        </Title>
        <Failure query={mcps} title="The MCP servers could not be listed" />
        {mcps.isPending ? (
          <Text>Loading…</Text>
        ) : mcps.data?.length === 0 ? (
          <Text>No MCP server is configured (TOOLPATH_MCP_SERVERS).</Text>
        ) : (
          mcps.data?.map((s) => <McpServerCard key={s.name} server={s} tools={toolItems.filter((t) => t.source === 'mcp' && t.server === s.name)} />)
        )}
      </Stack>

      <Stack component="section" aria-labelledby="agents-heading" gap="xs">
        <Title order={2} id="agents-heading">
          Agents
        </Title>
        <Text size="sm">Agents seen in tool calls over the last days, with their most used tools and when each was last seen.</Text>
        <Failure query={agents} title="The agents could not be listed" />
        {agents.isPending ? <Text>Loading…</Text> : agents.data && <AgentsTable agents={agents.data} />}
      </Stack>
    </Stack>
  );
}

function Failure({ query, title }: { query: { isError: boolean; error: Error | null }; title: string }) {
  if (!query.isError) return null;
  return (
    <Alert color="red" role="alert" title={title}>
      {query.error?.message}
    </Alert>
  );
}

function ToolsTable({ tools }: { tools: ToolResource[] }) {
  if (tools.length === 0) return <Text>No tool is available.</Text>;
  return (
    <Table striped aria-labelledby="tools-heading">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Name</Table.Th>
          <Table.Th>Source</Table.Th>
          <Table.Th>Provider</Table.Th>
          <Table.Th>Description</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {tools.map((t) => (
          <Table.Tr key={`${t.source}:${t.name}`}>
            <Table.Td>
              <Text ff="monospace" size="sm">
                {t.name}
              </Text>
            </Table.Td>
            <Table.Td>{t.source}</Table.Td>
            <Table.Td>
              {/* NATS tools are listed only while their provider heartbeats: say until when. */}
              {t.source === 'nats' ? `${providerLabel(t.provider)}${t.expiresAt ? `, alive until ${new Date(t.expiresAt).toLocaleString()}` : ''}` : (t.server ?? '')}
            </Table.Td>
            <Table.Td>{t.description ?? ''}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function McpServerCard({ server, tools }: { server: McpServer; tools: ToolResource[] }) {
  const headingId = `mcp-${server.name}`;
  return (
    <Card withBorder padding="sm" component="article" aria-labelledby={headingId}>
      <Stack gap={6}>
        <Group gap="xs">
          <Title order={3} size="h5" id={headingId}>
            {server.name}
          </Title>
          <Badge variant="light" color={STATE_COLOUR[server.state] ?? 'gray'}>
            {server.state}
          </Badge>
        </Group>
        <Text size="sm">
          {server.transport}: <Text span ff="monospace" size="sm">{server.target}</Text>
        </Text>
        <Text size="sm">
          {server.toolCount === null ? 'Tools not listed yet' : `${server.toolCount} tools`}
          {server.connectedAt ? ` · connected ${new Date(server.connectedAt).toLocaleString()}` : ''}
          {server.failures > 0 ? ` · ${server.failures} failed attempts in a row` : ''}
        </Text>
        {server.lastError && (
          <Alert color="red" role="alert" title={`${server.name}: last error`}>
            {server.lastError}
          </Alert>
        )}
        {tools.length > 0 && (
          <List size="sm" aria-label={`Tools of ${server.name}`}>
            {tools.map((t) => (
              <List.Item key={t.name}>
                <Text span ff="monospace" size="sm">
                  {t.name}
                </Text>
                {t.description ? ` — ${t.description}` : ''}
              </List.Item>
            ))}
          </List>
        )}
      </Stack>
    </Card>
  );
}

function AgentsTable({ agents }: { agents: AgentActivity[] }) {
  if (agents.length === 0) return <Text>No agent has called a tool lately.</Text>;
  return (
    <Table striped aria-labelledby="agents-heading">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Agent</Table.Th>
          <Table.Th>Calls</Table.Th>
          <Table.Th>Failed</Table.Th>
          <Table.Th>Success rate</Table.Th>
          <Table.Th>Most used tools</Table.Th>
          <Table.Th>Last seen</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {agents.map((a) => (
          <Table.Tr key={a.agentId}>
            <Table.Td>{a.agentId}</Table.Td>
            <Table.Td>{a.events}</Table.Td>
            <Table.Td>{a.failed}</Table.Td>
            <Table.Td>{a.successRate === null ? '—' : `${Math.round(a.successRate * 100)}%`}</Table.Td>
            <Table.Td>{a.tools.map((t) => `${t.tool} (${t.count})`).join(', ')}</Table.Td>
            <Table.Td>{a.lastSeenAt ? <time dateTime={a.lastSeenAt}>{formatTime(a.lastSeenAt)}</time> : '—'}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
