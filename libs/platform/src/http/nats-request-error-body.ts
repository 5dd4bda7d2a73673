import type { ApiErrorBody } from '@toolpath/contracts';
import {
  NatsErrorReply,
  NatsInvalidReply,
  NatsNoResponders,
  NatsPayloadTooLarge,
  NatsRequestFailed,
  NatsRequestTimeout,
  type NatsRequestError,
} from '../nats/nats-request-errors';

/**
 * What a failed request to a service (over NATS) answers over HTTP (the `error` reason is added by
 * `toErrorBody`): a service's error reply its own status, message and details (plus `code` when
 * the details are not a list of field issues); a service nobody answers for a 503 naming it (a
 * 504 when it is slow by design); an answer that is not a reply a 502; a request over NATS's
 * max_payload a 413 naming its largest field.
 */
export function natsRequestErrorBody(err: NatsRequestError): Omit<ApiErrorBody, 'error'> {
  const { service, subject } = err;
  const dependency = { dependency: service, subject };
  if (err instanceof NatsErrorReply) {
    const status = err.status;
    const statusCode = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    return { statusCode, message: err.message, details: errorDetails(err.code, err.details) };
  }
  if (err instanceof NatsPayloadTooLarge) {
    const max = err.limit === undefined ? 'the NATS max_payload' : `${err.limit} bytes (the NATS max_payload)`;
    return {
      statusCode: 413,
      message: `${err.field}: the request to the ${service} is ${err.atLeast ? 'at least ' : ''}${err.bytes} bytes once encoded, over the limit of ${max}; send less`,
      details: [{ field: err.field, message: `the request carrying it must be at most ${err.limit ?? 'max_payload'} bytes once encoded` }],
    };
  }
  if (err instanceof NatsInvalidReply) return { statusCode: 502, message: err.message };
  if (err instanceof NatsRequestTimeout && err.slowService) {
    return { statusCode: 504, message: `the ${service} did not answer within ${err.timeoutMs} ms (${subject})`, details: dependency };
  }
  const why =
    err instanceof NatsNoResponders
      ? `no ${service} is listening`
      : err instanceof NatsRequestTimeout
        ? `no answer within ${err.timeoutMs} ms`
        : `request failed: ${err instanceof NatsRequestFailed ? err.reason : err.message}`;
  return { statusCode: 503, message: `the ${service} is unavailable (${why} on ${subject})`, details: dependency };
}

/**
 * A list of field issues is passed on as it is (every 4xx of the API names its fields that way);
 * otherwise the details are an object that carries the reply's `code`.
 */
function errorDetails(code: string, details: unknown): ApiErrorBody['details'] {
  if (Array.isArray(details)) return details as ApiErrorBody['details'];
  return { code, ...(typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {}) };
}
