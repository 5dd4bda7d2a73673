/**
 * ELK whose layouts run in a Web Worker: elkjs's own worker script (elk-worker.min.js), emitted
 * by Vite as a separate hashed asset and fetched only when a graph page starts its first layout,
 * so it weighs nothing on the first load and its ~1.6 MB of script is parsed off the main thread.
 * Only layout.ts imports this module, and only where `Worker` exists (never under jest/jsdom:
 * the `?url` import is Vite's).
 *
 *   const { elk, broken } = createWorkerElk();
 *   await Promise.race([elk.layout(graph), broken]);
 *
 * `broken` rejects if the worker cannot run (its script not served, a
 * Content-Security-Policy refusing it, an error escaping ELK): elk-api would otherwise wait for
 * an answer for ever, and layout.ts then falls back to ELK on the main thread.
 */
import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';

export function createWorkerElk(): { elk: InstanceType<typeof ELK>; broken: Promise<never> } {
  let fail: (err: Error) => void = () => undefined;
  const broken = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be waiting when it fails: that is not an unhandled rejection.
  broken.catch(() => undefined);
  const elk = new ELK({
    // Only the layered algorithm is used: registering the others costs start-up time.
    algorithms: ['layered'],
    workerFactory: () => {
      const worker = new Worker(elkWorkerUrl, { name: 'toolpath-graph-layout' });
      worker.addEventListener('error', (e) => fail(new Error(`the graph layout worker failed: ${e.message || 'its script did not load'}`)));
      return worker;
    },
  });
  return { elk, broken };
}
