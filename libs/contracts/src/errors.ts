import type { FieldIssue } from './validation';

/** Body of every error the REST API returns. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldIssue[] | Record<string, unknown>;
}

/** A list page: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
