/**
 * The system the drills run against: a private NATS (JetStream), Redis, PostgreSQL and FerretDB
 * (scripts/infra.sh on free loopback ports, data in a temporary directory) and every app its own
 * process from dist, as a user runs them. Nothing here touches the shared servers.
 */
import { isolatedEnv, privateInfra, startService, testNames, type PrivateInfra, type ServiceProcess } from '@toolpath/testing';
import type { ChaosApp, ChaosControl, ChaosProcess, ChaosServer, ChaosTarget, ChaosTenant } from './drill';

const APPS: ChaosApp[] = ['gateway', 'recorder', 'analyzer', 'executor'];
const SERVERS: ChaosServer[] = ['nats', 'redis', 'postgres', 'ferretdb'];

/** Two tenants with their API keys: drills check that one never sees the other's ids. */
const TENANTS: ChaosTenant[] = [
  { tenantId: 'chaos_a', apiKey: 'chaos-key-a-0123456789abcdef' },
  { tenantId: 'chaos_b', apiKey: 'chaos-key-b-0123456789abcdef' },
];

/**
 * Settings that differ from the shipped defaults, and why. Everything else (the executor's
 * lock, stalled check and heartbeat included) runs as shipped.
 */
export const CHAOS_APP_SETTINGS: Record<string, string> = {
  // What a killed recorder held is redelivered after the ack wait: 5 s instead of 30 s keeps a
  // drill to seconds. It changes when, not whether, those events are stored.
  RECORDER_ACK_WAIT_MS: '5000',
};

/** Every process and server this module started, killed if the runner exits without cleaning up (^C). */
const live = new Set<ServiceProcess>();
const liveInfra = new Set<PrivateInfra>();
process.once('exit', () => {
  for (const p of live) p.proc.kill('SIGKILL');
  for (const infra of liveInfra) {
    for (const s of SERVERS) {
      const pid = infra.pid(s);
      if (pid === undefined) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

export class ChaosStack {
  readonly target: ChaosTarget;
  readonly control: ChaosControl;
  private readonly procs = new Map<ChaosApp, ServiceProcess[]>(APPS.map((a) => [a, []]));

  private constructor(
    private readonly infra: PrivateInfra,
    private readonly env: Record<string, string>,
    private readonly log: (message: string) => void,
  ) {
    this.target = {
      gatewayUrl: '',
      tenants: TENANTS,
      natsUrl: infra.natsUrl,
      subjectPrefix: env.TOOLPATH_SUBJECT_PREFIX,
      stream: env.TOOLPATH_EVENTS_STREAM,
      mongoUrl: infra.mongoUrl,
      database: env.MONGO_DB,
      redisUrl: infra.redisUrl,
    };
    this.control = {
      processes: (app) => this.live(app).map((p) => wrap(app, p)),
      startApp: async (app, extra) => wrap(app, await this.startApp(app, extra)),
      kill9Server: (s) => this.infra.kill9(s),
      stopServer: (s) => this.infra.stop(s),
      startServer: (s) => this.infra.start(s),
    };
  }

  /** Starts the servers, then one process of each app; on failure stops what it started. */
  static async start(log: (message: string) => void): Promise<ChaosStack> {
    const infra = await privateInfra('chaos');
    liveInfra.add(infra);
    const names = testNames('chaos');
    const env = {
      ...isolatedEnv(names),
      NATS_URL: infra.natsUrl,
      REDIS_URL: infra.redisUrl,
      MONGO_URL: infra.mongoUrl,
      TOOLPATH_API_KEYS: TENANTS.map((t) => `${t.apiKey}:${t.tenantId}`).join(','),
      ...CHAOS_APP_SETTINGS,
    };
    const stack = new ChaosStack(infra, env, log);
    try {
      log(`infrastructure: starting NATS, Redis, PostgreSQL and FerretDB on ${infra.natsUrl}, ${infra.redisUrl}, ${infra.postgresUrl}, ${infra.mongoUrl}`);
      await infra.start();
      await stack.restore();
    } catch (err) {
      await stack.dispose();
      throw err;
    }
    return stack;
  }

  private live(app: ChaosApp): ServiceProcess[] {
    const list = this.procs.get(app)!.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
    this.procs.set(app, list);
    return list;
  }

  private async startApp(app: ChaosApp, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const svc = await startService(app, { ...this.env, ...extra }, { readyTimeoutMs: 60_000 });
    live.add(svc);
    svc.proc.once('exit', () => live.delete(svc));
    this.procs.get(app)!.push(svc);
    if (app === 'gateway') this.target.gatewayUrl = `http://127.0.0.1:${svc.port}`;
    return svc;
  }

  /**
   * Back to the starting point after a drill: every server up, exactly one process of each app
   * (extra ones a drill started are stopped, dead ones started again).
   */
  async restore(): Promise<void> {
    const down = SERVERS.filter((s) => this.infra.pid(s) === undefined);
    if (down.length) {
      this.log(`infrastructure: starting ${down.join(', ')} again`);
      await this.infra.start(...down);
    }
    for (const app of APPS) {
      const procs = this.live(app);
      for (const extra of procs.slice(1)) await extra.stop(10_000);
      this.live(app);
    }
    const missing = APPS.filter((a) => this.live(a).length === 0);
    if (missing.length) this.log(`apps: starting ${missing.join(', ')}`);
    // The gateway first: drills address it, and the others need nothing from each other to start.
    if (missing.includes('gateway')) await this.startApp('gateway');
    await Promise.all(missing.filter((a) => a !== 'gateway').map((a) => this.startApp(a)));
  }

  /** Each app's last output, for a failure report. */
  outputs(): string {
    return APPS.flatMap((a) => this.procs.get(a)!.filter((p) => p.output().trim()).map((p) => `--- ${a} (pid ${p.proc.pid}) ---\n${p.output().slice(-2000)}`)).join('\n');
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(APPS.flatMap((a) => this.procs.get(a)!.map((p) => p.kill9())));
    await this.infra.dispose();
    liveInfra.delete(this.infra);
  }
}

function wrap(app: ChaosApp, p: ServiceProcess): ChaosProcess {
  return {
    app,
    pid: p.proc.pid!,
    port: p.port,
    kill9: () => p.kill9(),
    alive: () => p.proc.exitCode === null && p.proc.signalCode === null,
    output: () => p.output(),
  };
}
