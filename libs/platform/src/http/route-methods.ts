import Router from 'find-my-way';

type HttpMethod = Parameters<ReturnType<typeof Router>['find']>[0];

/**
 * Which methods the service's routes answer for a path, so that a known path asked with another
 * method is answered 405 with `Allow` (RFC 9110) instead of the router's 404. Fastify's own
 * router (find-my-way, the same library and version) cannot be asked "which methods match this
 * URL", so the routes are registered again in a router of our own as Fastify declares them
 * (its onRoute hook): path syntax and matching are then exactly Fastify's.
 */
export class RouteMethods {
  private readonly router = Router();
  private readonly registered = new Set<string>();
  private readonly methods = new Set<HttpMethod>();

  add(method: string | string[], url: string): void {
    for (const m of Array.isArray(method) ? method : [method]) {
      const key = `${m} ${url}`;
      if (this.registered.has(key)) continue;
      this.registered.add(key);
      try {
        this.router.on(m as HttpMethod, url, () => undefined, { url });
        this.methods.add(m as HttpMethod);
      } catch {
        // A shape this router refuses (the same route under two syntaxes): it still answers, only
        // a wrong method on it stays a 404.
      }
    }
  }

  /**
   * The methods of the resource at `url` (query string ignored), sorted; empty when none. When
   * routes of several shapes match (`POST /workflows/generate` and `GET /workflows/:id` for
   * `/workflows/generate`), the resource is the most specific: the route with the fewest
   * parameters, as the router itself prefers a static segment to a parametric one.
   */
  allowed(url: string): string[] {
    const path = url.split('?')[0];
    const matches = [...this.methods]
      .map((m) => ({ m, route: (this.router.find(m, path)?.store as { url?: string } | undefined)?.url }))
      .filter((x): x is { m: HttpMethod; route: string } => typeof x.route === 'string');
    if (matches.length === 0) return [];
    const params = (route: string) => (route.match(/[:*]/g) ?? []).length;
    const fewest = Math.min(...matches.map((x) => params(x.route)));
    return matches
      .filter((x) => params(x.route) === fewest)
      .map((x) => x.m)
      .sort();
  }
}
