import { Alert, Anchor, Badge, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { QueueDepth } from '../components/overview/QueueDepth';
import { percent, duration } from '../components/figures';
import { Figure } from '../components/Figure';
import { TimelineChart, type TimelineBucket } from '../components/overview/TimelineChart';

/** "1 pattern", "3 patterns". */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;


const TOP = 8;


/** GET /health: terminus's answer (200), or the 503 that wraps it in `details`. */
interface HealthAnswer {
  status?: string;
  service?: string;
  message?: string;
  details?: Record<string, { status?: string; latencyMs?: number; message?: string }>;
}

/** One card with its heading, and what went wrong when its request failed. */
function Section({ title, error, children }: { title: string; error?: Error | null; children: ReactNode }) {
  return (
    <Card withBorder component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {error ? (
        <Alert color="red" role="alert">
          {error.message}
        </Alert>
      ) : (
        children
      )}
    </Card>
  );
}

/** A plain horizontal bar: share of the largest value in the table. */
function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <div role="img" aria-label={label} style={{ background: '#e9ecef', borderRadius: 3, height: 8, minWidth: 60 }}>
      <div style={{ width: `${max > 0 ? (100 * value) / max : 0}%`, background: '#1971c2', height: 8, borderRadius: 3 }} />
    </div>
  );
}


/** What has been recorded and learned, at a glance: events, tools, intents, sessions, the analyzer and the services. */
export default function OverviewPage() {
  const [bucket, setBucket] = useState<TimelineBucket>('hour');
  const timeline = useQuery({
    queryKey: ['stats', 'timeline', bucket],
    // The API's default range: the last 24 hours, or the last 30 days.
    queryFn: async () => unwrap(await api.GET('/api/v1/stats/timeline', { params: { query: { bucket } } })),
  });
  const stats = useQuery({ queryKey: ['stats'], queryFn: async () => unwrap(await api.GET('/api/v1/stats')) });
  const recent = useQuery({ queryKey: ['sessions', 'recent'], queryFn: async () => unwrap(await api.GET('/api/v1/sessions/recent', { params: { query: { limit: 10 } } })) });
  const learning = useQuery({ queryKey: ['stats', 'health'], queryFn: async () => unwrap(await api.GET('/api/v1/stats/health')) });
  const health = useQuery({
    queryKey: ['health', 'ready'],
    // A 503 still carries which dependency is down: show it rather than an error.
    queryFn: async () => {
      const answer = await api.GET('/health', { parseAs: 'json' });
      const body = (answer.data ?? answer.error) as HealthAnswer | undefined;
      if (answer.response.ok) return body ?? {};
      if (body?.details) return { ...(body.details as HealthAnswer), message: body.message, status: 'error' };
      throw new Error(`health check answered ${answer.response.status}`);
    },
    refetchInterval: 15_000,
  });

  const s = stats.data;
  const byTool = s?.byTool ?? [];
  const topTools = [...byTool].sort((a, b) => b.total - a.total).slice(0, TOP);
  const failingTools = byTool.filter((t) => t.failed > 0).sort((a, b) => b.failed - a.failed || (a.successRate ?? 1) - (b.successRate ?? 1)).slice(0, TOP);
  const slowestTools = byTool.filter((t) => t.avgDurationMs !== null).sort((a, b) => (b.avgDurationMs ?? 0) - (a.avgDurationMs ?? 0)).slice(0, 5);
  const topIntents = [...(s?.byIntent ?? [])].sort((a, b) => b.total - a.total).slice(0, TOP);
  const maxCalls = topTools[0]?.total ?? 0;
  const l = learning.data;

  return (
    <Stack>
      <Title order={1}>Overview</Title>
      {stats.error && (
        <Alert color="red" role="alert" title="Statistics could not be read">
          {stats.error.message}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <Figure size="xl" label="Events" value={s ? String(s.overall.total) : '…'} detail={s ? `${s.overall.failed} failed` : undefined} />
        <Figure size="xl" label="Success rate" value={s ? percent(s.overall.successRate) : '…'} detail={s ? `mean ${duration(s.overall.avgDurationMs)}` : undefined} />
        <Figure size="xl" label="Events, last 24 h" value={s ? String(s.last24h.total) : '…'} detail={s ? `${s.last24h.failed} failed` : undefined} />
        <Figure size="xl" label="Success rate, last 24 h" value={s ? percent(s.last24h.successRate) : '…'} />
      </SimpleGrid>

      <Section title="Events over time" error={timeline.error}>
        <Stack gap="xs">
          <SegmentedControl
            aria-label="Events per"
            value={bucket}
            onChange={(v) => setBucket(v as TimelineBucket)}
            data={[
              { value: 'hour', label: 'Per hour, last 24 h' },
              { value: 'day', label: 'Per day, last 30 days' },
            ]}
            style={{ alignSelf: 'flex-start' }}
          />
          {timeline.data ? (
            <>
              <TimelineChart points={timeline.data.buckets} bucket={timeline.data.bucket} />
              {timeline.data.countedFrom && (
                <Text size="sm">Only the newest events were counted, back to {new Date(timeline.data.countedFrom).toLocaleString()}: earlier bars are partial.</Text>
              )}
            </>
          ) : (
            <Text>…</Text>
          )}
        </Stack>
      </Section>

      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section title="Top tools">
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tool</Table.Th>
                <Table.Th>Calls</Table.Th>
                <Table.Th>Success</Table.Th>
                <Table.Th style={{ width: '30%' }}>Share</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {topTools.map((t) => (
                <Table.Tr key={t.tool}>
                  <Table.Td>{t.tool}</Table.Td>
                  <Table.Td>{t.total}</Table.Td>
                  <Table.Td>{percent(t.successRate)}</Table.Td>
                  <Table.Td>
                    <Bar value={t.total} max={maxCalls} label={`${t.total} calls`} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {s && topTools.length === 0 && <Text>No tool call recorded yet.</Text>}
        </Section>

        <Section title="Failing tools">
          {failingTools.length === 0 ? (
            <Text>{s ? 'No failed call.' : '…'}</Text>
          ) : (
            <Table aria-label="Failing tools">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Tool</Table.Th>
                  <Table.Th>Failed</Table.Th>
                  <Table.Th>Calls</Table.Th>
                  <Table.Th>Success</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {failingTools.map((t) => (
                  <Table.Tr key={t.tool}>
                    <Table.Td>{t.tool}</Table.Td>
                    <Table.Td>
                      <Badge color="red" variant="light">
                        {t.failed}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{t.total}</Table.Td>
                    <Table.Td>{percent(t.successRate)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Section>

        <Section title="Slowest tools">
          {slowestTools.length === 0 ? (
            <Text>{s ? 'No durations recorded.' : '…'}</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Tool</Table.Th>
                  <Table.Th>Mean duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {slowestTools.map((t) => (
                  <Table.Tr key={t.tool}>
                    <Table.Td>{t.tool}</Table.Td>
                    <Table.Td>{duration(t.avgDurationMs)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Section>

        <Section title="Top intents">
          {topIntents.length === 0 ? (
            <Text>{s ? 'No intent recorded.' : '…'}</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Intent</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Success</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {topIntents.map((i) => (
                  <Table.Tr key={i.intent}>
                    <Table.Td>{i.intent}</Table.Td>
                    <Table.Td>{i.total}</Table.Td>
                    <Table.Td>{percent(i.successRate)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Section>
      </SimpleGrid>

      <Section title="Recent sessions" error={recent.error}>
        {recent.data && recent.data.items.length === 0 ? (
          <Text>No session yet.</Text>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Session</Table.Th>
                  <Table.Th>Intent</Table.Th>
                  <Table.Th>Tools</Table.Th>
                  <Table.Th>Calls</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>Last call</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(recent.data?.items ?? []).map((r) => (
                  <Table.Tr key={r.sessionId}>
                    <Table.Td style={{ fontFamily: 'monospace' }}>{r.sessionId}</Table.Td>
                    <Table.Td>{r.intent ?? ''}</Table.Td>
                    <Table.Td>{r.tools.join(' → ')}</Table.Td>
                    <Table.Td>
                      {r.toolCalls}
                      {r.failedCalls > 0 ? ` (${r.failedCalls} failed)` : ''}
                    </Table.Td>
                    <Table.Td>
                      {!r.ended ? (
                        <Badge variant="light">
                          open
                        </Badge>
                      ) : r.success === false ? (
                        <Badge color="red" variant="light">
                          failed
                        </Badge>
                      ) : (
                        <Badge color="green" variant="light">
                          succeeded
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{new Date(r.lastStartedAt).toLocaleString()}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Section>

      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section title="Learning" error={learning.error}>
          {l && (
            <Stack gap="xs">
              <Text>
                {count(l.totals?.patterns ?? 0, 'pattern')} ({l.totals?.promoted ?? 0} promoted) from {count(l.totals?.sessions ?? 0, 'session')}; {l.totals?.openSessions ?? 0} open.
              </Text>
              <Text>
                Last analyzer run:{' '}
                {l.lastRun ? (
                  <>
                    {l.lastRun.status} ({l.lastRun.mode}, {l.lastRun.trigger}) at {l.lastRun.startedAt ? new Date(l.lastRun.startedAt).toLocaleString() : '–'}, {duration(l.lastRun.durationMs)}, {l.lastRun.eventsRead ?? 0} events read
                    {l.lastRun.error ? ` — ${l.lastRun.error}` : ''}
                  </>
                ) : (
                  'none yet'
                )}
              </Text>
              <Title order={3} size="h5">
                Top automation candidates
              </Title>
              {(l.topCandidates ?? []).length === 0 ? (
                <Text>None yet.</Text>
              ) : (
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Tools</Table.Th>
                      <Table.Th>Support</Table.Th>
                      <Table.Th>Success</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {(l.topCandidates ?? []).map((c) => (
                      <Table.Tr key={c.patternId}>
                        <Table.Td>
                          <Anchor component={Link} to={`/patterns/${encodeURIComponent(c.patternId ?? '')}`}>
                            {(c.tools ?? []).join(' → ')}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>{c.support}</Table.Td>
                        <Table.Td>{percent(c.successRate)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Stack>
          )}
        </Section>

        <Section title="Services" error={health.error}>
          {health.data && (
            <Stack gap="xs">
              <Group>
                <Text>Gateway</Text>
                <Badge color={health.data.status === 'ok' ? 'green' : 'red'} variant="light">
                  {health.data.status === 'ok' ? 'ready' : 'not ready'}
                </Badge>
              </Group>
              {health.data.message && <Text>{health.data.message}</Text>}
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Dependency</Table.Th>
                    <Table.Th>State</Table.Th>
                    <Table.Th>Latency or error</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {Object.entries(health.data.details ?? {}).map(([name, d]) => (
                    <Table.Tr key={name}>
                      <Table.Td>{name}</Table.Td>
                      <Table.Td>{d.status}</Table.Td>
                      <Table.Td>{d.status === 'up' ? `${d.latencyMs ?? '–'} ms` : (d.message ?? '')}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Text>
                The REST API: <Anchor href="/docs">API docs</Anchor>.
              </Text>
            </Stack>
          )}
        </Section>

        <Section title="Job queues">
          <QueueDepth />
        </Section>
      </SimpleGrid>
    </Stack>
  );
}
