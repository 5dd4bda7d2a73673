/**
 * The poison-message drill against the real recorder and analyzer (each its own process, from
 * dist: `npx tsc -b tsconfig.build.json` first) on the shared infrastructure, with names of their
 * own and a ChaosControl over those processes, so the drill is proven the way the runner uses it.
 */
import { connectTestNats, createTestEventsStream, dropTestResources, isolatedEnv, startService, testNames, type ServiceProcess } from '@toolpath/testing';
import type { ChaosApp, ChaosControl, ChaosProcess, DrillContext } from '../drill';
import { sharedInfraTarget } from './common';
import { poisonMessageDrill } from './poison-message.drill';

const names = testNames('drillpoison');
const env = { ...isolatedEnv(names), RECORDER_BATCH_WINDOW_MS: '20', ANALYZER_SCHEDULE: 'off' };
const procs: Array<{ app: ChaosApp; svc: ServiceProcess }> = [];

const alive = (svc: ServiceProcess) => svc.proc.exitCode === null && svc.proc.signalCode === null;
function wrap(app: ChaosApp, svc: ServiceProcess): ChaosProcess {
  return { app, pid: svc.proc.pid!, port: svc.port, kill9: () => svc.kill9(), alive: () => alive(svc), output: () => svc.output() };
}

const control: ChaosControl = {
  processes: (app) => procs.filter((p) => p.app === app && alive(p.svc)).map((p) => wrap(app, p.svc)),
  startApp: async (app, extra = {}) => {
    const svc = await startService(app, { ...env, ...extra });
    procs.push({ app, svc });
    return wrap(app, svc);
  },
  kill9Server: () => Promise.reject(new Error('not in this test')),
  stopServer: () => Promise.reject(new Error('not in this test')),
  startServer: () => Promise.reject(new Error('not in this test')),
};

const target = sharedInfraTarget(names, '', [
  { tenantId: 'acme', apiKey: 'unused-acme' },
  { tenantId: 'globex', apiKey: 'unused-globex' },
]);

beforeAll(async () => {
  const nc = await connectTestNats();
  await createTestEventsStream(nc, names);
  await nc.close();
  // The usual processes, without the hook: the drill replaces them with its own.
  await Promise.all([control.startApp('recorder'), control.startApp('analyzer')]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.svc.kill9()));
  await dropTestResources(names);
}, 60_000);

describe('poison-message drill', () => {
  it('dead-letters both poisons with their reasons; A and B are stored and learned; no consumer stalls', async () => {
    const lines: string[] = [];
    const ctx: DrillContext = { target, control, deadline: Date.now() + 25_000, scale: 0.1, log: (m) => lines.push(m) };
    const row = await poisonMessageDrill.run(ctx);
    expect({ ok: row.ok, lost: row.lost, stuck: row.stuck, notes: row.notes }).toMatchObject({ ok: true, lost: 0, stuck: 0 });
    expect(row.stored).toBe(row.sent - 2);
    // The drill's hooked processes are gone; the runner (here: nobody) starts the usual ones again.
    expect(control.processes('recorder')).toHaveLength(0);
    expect(control.processes('analyzer')).toHaveLength(0);
  }, 30_000);
});
