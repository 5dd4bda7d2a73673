import { Alert } from '@mantine/core';
import { ApiFailure } from '../api/client';

/**
 * Why a page's subject could not be shown. A 404 is "not found" whether the id never existed or
 * belongs to another tenant: the API answers both alike, and so does the page.
 */
export function LoadFailure({ error, what }: { error: Error | null; what: string }) {
  const missing = !error || (error instanceof ApiFailure && error.status === 404);
  return (
    <Alert color="red" role="alert" title={missing ? `${what} not found` : `The ${what.toLowerCase()} could not be read`}>
      {error?.message ?? `no such ${what.toLowerCase()} for this tenant`}
    </Alert>
  );
}
