import { AppShell, Group, NavLink, Text, Title, Button } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { currentSession, signOut } from './api/session';
import { GatewayBanner } from './components/GatewayBanner';
import { SignInPage } from './pages/SignInPage';

// Each page is its own chunk: the first load carries the shell and the page asked for.
const OverviewPage = lazy(() => import('./pages/OverviewPage'));
const ProcessMapPage = lazy(() => import('./pages/ProcessMapPage'));
const PatternsPage = lazy(() => import('./pages/PatternsPage'));
const PatternPage = lazy(() => import('./pages/PatternPage'));
const WorkflowsPage = lazy(() => import('./pages/WorkflowsPage'));
const WorkflowPage = lazy(() => import('./pages/WorkflowPage'));
const RunsPage = lazy(() => import('./pages/RunsPage'));
const RunPage = lazy(() => import('./pages/RunPage'));
const SessionsPage = lazy(() => import('./pages/SessionsPage'));
const SessionPage = lazy(() => import('./pages/SessionPage'));
const GeneratePage = lazy(() => import('./pages/GeneratePage'));
const ResourcesPage = lazy(() => import('./pages/ResourcesPage'));
const TemplatesPage = lazy(() => import('./pages/TemplatesPage'));
const BuilderPage = lazy(() => import('./pages/BuilderPage'));

/** The pages in the navigation, in order. */
export const NAV: Array<{ path: string; label: string }> = [
  { path: '/', label: 'Overview' },
  { path: '/process', label: 'Process map' },
  { path: '/patterns', label: 'Patterns' },
  { path: '/workflows', label: 'Workflows' },
  { path: '/runs', label: 'Runs' },
  { path: '/sessions', label: 'Sessions' },
  { path: '/generate', label: 'Generate' },
  { path: '/templates', label: 'Templates' },
  { path: '/resources', label: 'Resources' },
];

function Shell({ tenantId, children }: { tenantId: string; children: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={3}>Toolpath</Title>
          <Group>
            <Text size="sm">tenant {tenantId}</Text>
            <Text component="a" href="/docs" size="sm">
              API docs
            </Text>
            <Text component="a" href="/queues" size="sm">
              Queues
            </Text>
            <Button
              size="xs"
              variant="default"
              onClick={async () => {
                await signOut();
                navigate('/signin');
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Pages">
        {NAV.map((n) => (
          <NavLink key={n.path} component={Link} to={n.path} label={n.label} active={n.path === '/' ? location.pathname === '/' : location.pathname.startsWith(n.path)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <GatewayBanner />
        <Suspense fallback={<Text>Loading…</Text>}>{children}</Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

export function App() {
  const session = useQuery({ queryKey: ['session'], queryFn: currentSession, retry: 3 });
  const location = useLocation();
  if (location.pathname === '/signin') return <SignInPage />;
  if (session.isPending) return <Text p="md">Loading…</Text>;
  if (!session.data) return <Navigate to="/signin" replace />;
  return (
    <Shell tenantId={session.data.tenantId}>
      <Routes>
        <Route path="/" element={<OverviewPage />} />
        <Route path="/process" element={<ProcessMapPage />} />
        <Route path="/patterns" element={<PatternsPage />} />
        <Route path="/patterns/:id" element={<PatternPage />} />
        <Route path="/workflows" element={<WorkflowsPage />} />
        <Route path="/workflows/:id" element={<WorkflowPage />} />
        <Route path="/workflows/:id/edit" element={<BuilderPage />} />
        <Route path="/builder" element={<BuilderPage />} />
        <Route path="/runs" element={<RunsPage />} />
        <Route path="/runs/:id" element={<RunPage />} />
        <Route path="/sessions" element={<SessionsPage />} />
        <Route path="/sessions/:id" element={<SessionPage />} />
        <Route path="/generate" element={<GeneratePage />} />
        <Route path="/templates" element={<TemplatesPage />} />
        <Route path="/resources" element={<ResourcesPage />} />
        <Route path="*" element={<Text>Not found</Text>} />
      </Routes>
    </Shell>
  );
}
