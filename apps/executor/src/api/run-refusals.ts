import { errorReply, okReply, type ExecutorReply } from '@toolpath/contracts';
import { RunRequestError, type RunRefusal } from '../runs/run-errors';

/**
 * What the API answers for each refusal of the scheduler: the status codes and bodies the gateway
 * passes on as HTTP (a 404 names `id`, like every other 404 of the API).
 */
export function refusalReply(err: RunRefusal): ExecutorReply<never> {
  switch (err.kind) {
    case 'invalid-start-request':
      return errorReply(400, 'invalid_request', err.message);
    case 'depth-exceeded':
      return errorReply(422, 'depth_exceeded', err.message);
    case 'invalid-workflow':
      return errorReply(422, 'invalid_workflow', err.message, err.issues);
    case 'run-not-found':
      return errorReply(404, 'not_found', err.message, [{ field: 'id', message: 'unknown execution' }]);
  }
}

/**
 * The reply of a request: its value, or the answer to a refusal. Any other error is thrown on,
 * to the request server, which answers 503 `unavailable`.
 */
export async function replyOf<T>(work: () => Promise<T>): Promise<ExecutorReply<T>> {
  try {
    return okReply(await work());
  } catch (err) {
    if (err instanceof RunRequestError) return refusalReply(err as RunRefusal);
    throw err;
  }
}
