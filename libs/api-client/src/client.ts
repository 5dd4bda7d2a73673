import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './openapi';

export interface ToolpathClientOptions {
  /** The gateway's origin, e.g. `http://127.0.0.1:3000` (the paths carry `/api/v1`). */
  baseUrl: string;
  /**
   * An API key; it names the tenant, and is sent as `Authorization: Bearer <key>`. Left out in
   * the console, whose requests carry the session cookie the gateway issued at sign-in.
   */
  apiKey?: string;
  /** The fetch to send requests with (a proxy's, a test's); the global one when left out. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * Toolpath's REST API, typed from its OpenAPI document: paths, parameters, bodies and each
 * status code's answer. `GET`, `POST`, `PUT`, `DELETE`… resolve to `{ data, error, response }`.
 */
export type ToolpathClient = Client<paths>;

/** A client of one gateway with one API key. */
export function createToolpathClient(options: ToolpathClientOptions): ToolpathClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.apiKey !== undefined ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
