import { Alert } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

/** A clear banner while the gateway does not answer its health check; it clears by itself when it does. */
export function GatewayBanner() {
  const health = useQuery({
    queryKey: ['health'],
    queryFn: async () => {
      const res = await fetch('/health/live', { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`status ${res.status}`);
      return true;
    },
    refetchInterval: 10_000,
    retry: false,
  });
  if (!health.isError) return null;
  return (
    <Alert color="red" title="The gateway does not answer" mb="md" role="alert">
      Retrying every 10 seconds; the pages refresh when it is back.
    </Alert>
  );
}
