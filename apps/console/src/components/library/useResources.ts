import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { AgentActivity, McpServer, ToolListing } from './resources';

/**
 * The three resources listings (tools, MCP servers, agents), each its own query so one failing
 * leaves the others; the Resources page and the builder's palette share them (and their cache).
 */
export function useResources() {
  const tools = useQuery({
    queryKey: ['resources', 'tools'],
    queryFn: async () => unwrap(await api.GET('/api/v1/workflows/resources/tools')) as unknown as ToolListing,
  });
  const mcps = useQuery({
    queryKey: ['resources', 'mcps'],
    queryFn: async () => (unwrap(await api.GET('/api/v1/workflows/resources/mcps')).items ?? []) as McpServer[],
  });
  const agents = useQuery({
    queryKey: ['resources', 'agents'],
    queryFn: async () => (unwrap(await api.GET('/api/v1/workflows/resources/agents')).items ?? []) as unknown as AgentActivity[],
  });
  return { tools, mcps, agents };
}
