/**
 * The definition checked by the gateway as it is edited (`POST /workflows/validate`, 300 ms after
 * the last change). `current` is false until the answer is for the definition as it is now, so a
 * Save never goes by an answer about an older text.
 *
 *   const { report, current, error } = useLiveValidation(definition);
 */
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Definition } from './definition';

export function useLiveValidation(definition: Definition) {
  const text = JSON.stringify(definition);
  const [settled] = useDebouncedValue(text, 300);
  const query = useQuery({
    queryKey: ['builder', 'validate', settled],
    queryFn: async () => ({ text: settled, report: unwrap(await api.POST('/api/v1/workflows/validate', { body: JSON.parse(settled) as unknown })) }),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });
  return {
    /** The latest answer, possibly about an earlier text (its errors stay shown meanwhile). */
    report: query.data?.report,
    current: query.data?.text === text && !query.isPlaceholderData,
    error: query.isError && settled === text ? query.error : null,
  };
}
