import '@mantine/core/styles.css';
import { MantineProvider } from '@mantine/core';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiFailure } from './api/client';
import { App } from './App';
import { cssVariablesResolver, theme } from './theme';

const queryClient = new QueryClient({
  queryCache: new QueryCache({
    // A key that expired or was revoked: back to sign-in.
    onError: (err) => {
      if (err instanceof ApiFailure && err.status === 401 && window.location.pathname !== '/signin') window.location.assign('/signin');
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // The gateway down (no answer, 502/503/504): try again with backoff; a 4xx will not change.
      retry: (count, err) => !(err instanceof ApiFailure && err.status < 500) && count < 5,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider defaultColorScheme="light" theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
