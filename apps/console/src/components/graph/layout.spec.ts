/**
 * Where layoutGraph runs ELK: in a worker when the runtime has `Worker`, else (jsdom, here) on the
 * main thread, and there too when the worker cannot start. A test cannot start a browser worker:
 * the worker module (elkWorker.ts, Vite-only) is replaced by elkjs's own in-process stand-in for
 * its worker script, which answers the same messages.
 */
import type { LayoutEdge, LayoutNode } from './layout';

type LayoutModule = typeof import('./layout');
type ElkApi = typeof import('elkjs/lib/elk-api.js').default;

const NODES: LayoutNode[] = [
  { id: 'a', width: 120, height: 56, layer: 0 },
  { id: 'b', width: 120, height: 56, layer: 1 },
  { id: 'c', width: 120, height: 56, layer: 1 },
];
const EDGES: LayoutEdge[] = [
  { id: 'ab', source: 'a', target: 'b' },
  { id: 'ac', source: 'a', target: 'c' },
];

/** elk-api over elkjs's in-process worker stand-in: the worker's protocol without a thread. */
function inProcessWorkerElk() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ELK = (require('elkjs/lib/elk-api.js') as { default: ElkApi }).default;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker: StandIn } = require('elkjs/lib/elk-worker.min.js') as { Worker: new () => Worker };
  return new ELK({ algorithms: ['layered'], workerFactory: () => new StandIn() });
}

/** layout.ts loaded afresh, with `Worker` defined or not and the worker module replaced by `createWorkerElk`. */
function loadLayout(withWorker: boolean, createWorkerElk: jest.Mock): LayoutModule {
  const global = globalThis as { Worker?: unknown };
  const before = global.Worker;
  if (withWorker) global.Worker = class {};
  else delete global.Worker;
  try {
    // Not isolateModules: layout.ts requires the worker module later, from the current registry.
    jest.resetModules();
    jest.doMock('./elkWorker', () => ({ createWorkerElk }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./layout') as LayoutModule;
  } finally {
    if (before === undefined) delete global.Worker;
    else global.Worker = before;
  }
}

const never = () => new Promise<never>(() => undefined);

describe('layoutGraph: where ELK runs', () => {
  afterEach(() => performance.clearMeasures());

  it('runs on the main thread where there is no Worker, and starts nothing ahead', async () => {
    const createWorkerElk = jest.fn();
    const layout = loadLayout(false, createWorkerElk);
    expect(layout.layoutEngine()).toBe('main-thread');
    layout.prepareLayout();
    const positions = await layout.layoutGraph(NODES, EDGES);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('b')!.x);
    expect(createWorkerElk).not.toHaveBeenCalled();
    expect(performance.getEntriesByName('toolpath:graph-engine-ready')).toHaveLength(0);
  });

  it('runs in the worker where there is one, started once, ahead of the first graph', async () => {
    const createWorkerElk = jest.fn(() => ({ elk: inProcessWorkerElk(), broken: never() }));
    const layout = loadLayout(true, createWorkerElk);
    expect(layout.layoutEngine()).toBe('worker');
    layout.prepareLayout();
    const positions = await layout.layoutGraph(NODES, EDGES);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('c')!.x);
    // Same column: the layers are kept.
    expect(positions.get('b')!.x).toBe(positions.get('c')!.x);
    await layout.layoutGraph(NODES.slice(0, 2), EDGES.slice(0, 1));
    expect(createWorkerElk).toHaveBeenCalledTimes(1);
    expect(layout.layoutEngine()).toBe('worker');
    // The warm-up's measure, for the bench.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ready = performance.getEntriesByName('toolpath:graph-engine-ready');
    expect(ready).toHaveLength(1);
    expect((ready[0] as PerformanceMeasure).detail).toEqual({ engine: 'worker' });
  });

  it('falls back to the main thread when the worker cannot run, for this graph and the next', async () => {
    const createWorkerElk = jest.fn(() => ({ elk: { layout: never }, broken: Promise.reject(new Error('its script did not load')) }));
    const layout = loadLayout(true, createWorkerElk);
    const positions = await layout.layoutGraph(NODES, EDGES);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('b')!.x);
    expect(layout.layoutEngine()).toBe('main-thread');
    expect((await layout.layoutGraph(NODES, EDGES)).size).toBe(3);
    expect(createWorkerElk).toHaveBeenCalledTimes(1);
  });

  it('falls back to the main thread when the worker module does not load', async () => {
    const createWorkerElk = jest.fn(() => {
      throw new Error('Worker is not allowed here');
    });
    const layout = loadLayout(true, createWorkerElk);
    expect((await layout.layoutGraph(NODES, EDGES)).size).toBe(3);
    expect(layout.layoutEngine()).toBe('main-thread');
  });
});
