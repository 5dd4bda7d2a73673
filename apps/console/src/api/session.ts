/** The console's session: a cookie the gateway sets for an API key, checked on every request. */
export interface SessionInfo {
  tenantId: string;
  expiresAt: string;
}

async function json<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? res.statusText);
  return body;
}

export async function signIn(apiKey: string): Promise<SessionInfo> {
  return json(await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) }));
}

export async function currentSession(): Promise<SessionInfo | null> {
  const res = await fetch('/api/v1/session');
  if (res.status === 401) return null;
  return json(res);
}

export async function signOut(): Promise<void> {
  await fetch('/api/v1/session', { method: 'DELETE' });
}
