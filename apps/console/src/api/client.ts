import { createToolpathClient, type ToolpathClient } from '@toolpath/api-client';

/**
 * The API as the console calls it: same origin, no key in the page. The gateway's session
 * cookie (HttpOnly, issued at sign-in) authorises every request, server-sent events included.
 */
// `fetch` is looked up on each request, not captured at load: the component tests replace it.
export const api: ToolpathClient = createToolpathClient({ baseUrl: window.location.origin, fetch: (request) => globalThis.fetch(request) });

/** An answer that is not 2xx, with its status: 401 sends the user back to sign-in. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The data of an openapi-fetch answer, or an ApiFailure naming the status and the API's message. */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  if (answer.response.ok) return undefined as T;
  const message = (answer.error as { message?: string; error?: { message?: string } } | undefined)?.message ?? (answer.error as { error?: { message?: string } })?.error?.message ?? answer.response.statusText;
  throw new ApiFailure(answer.response.status, message);
}
