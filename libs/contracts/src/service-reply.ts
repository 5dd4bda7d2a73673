/**
 * The reply every service request/reply subject answers with (executor, analyzer, generator):
 * a value, or an error the gateway maps to HTTP. `details` is a list of `{ field, message }`
 * issues when a field is at fault, otherwise an object (the gateway adds `code` to it).
 */
export type ServiceReply<T> = { ok: true; value: T } | { ok: false; error: ServiceReplyError };

export interface ServiceReplyError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export function okReply<T>(value: T): ServiceReply<T> {
  return { ok: true, value };
}

export function errorReply(status: number, code: string, message: string, details?: unknown): ServiceReply<never> {
  return { ok: false, error: details === undefined ? { status, code, message } : { status, code, message, details } };
}

/** Whether a decoded message has the reply shape (a caller checks this before trusting it). */
export function isServiceReply(value: unknown): value is ServiceReply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || typeof r.error !== 'object' || r.error === null) return false;
  const e = r.error as Record<string, unknown>;
  return typeof e.status === 'number' && typeof e.message === 'string';
}

/** The two messages of one request/reply subject: what the caller sends and the value of the reply. */
export interface RequestReply<Request, Reply> {
  request: Request;
  reply: Reply;
}

/** A service's subjects by name, as its `…Subjects(prefix)` lists them: each name's `RequestReply`. */
export type RequestReplies<M> = { [K in keyof M]: RequestReply<unknown, unknown> };

/** The subject of each name of a service's request map (what `…Subjects(prefix)` returns). */
export type SubjectsOf<M> = { readonly [K in keyof M]: string };
