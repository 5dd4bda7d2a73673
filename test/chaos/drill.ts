/**
 * The contract between the chaos runner (test/chaos/run-chaos.ts) and its drills. A drill gets a
 * running system of its own (every app its own process, private NATS, Redis, PostgreSQL and
 * FerretDB on loopback ports of their own) and returns one row of the table the runner prints.
 */

/** One tenant the system under test knows, with a key the gateway accepts for it. */
export interface ChaosTenant {
  tenantId: string;
  apiKey: string;
}

/** What a drill may use of the system the runner started for it. */
export interface ChaosTarget {
  /** e.g. http://127.0.0.1:43121 (the gateway; REST under /api/v1). */
  gatewayUrl: string;
  /** At least two tenants: drills check that one tenant never sees another's ids. */
  tenants: ChaosTenant[];
  natsUrl: string;
  /** Events are published on `${subjectPrefix}.events.<tenant>`. */
  subjectPrefix: string;
  /** The JetStream stream holding the events. */
  stream: string;
  mongoUrl: string;
  /** The Mongo database the apps write (tool_events, rejected_events, ...). */
  database: string;
  redisUrl: string;
}

/** One row of the drills table. Counts a drill does not measure are null (printed as "-"). */
export interface DrillRow {
  drill: string;
  /** Events, requests or runs sent. */
  sent: number;
  /** Events stored, runs completed, or requests answered as they must be. */
  stored: number | null;
  lost: number | null;
  duplicated: number | null;
  /** Runs or consumers that did not finish or move within the drill's bound. */
  stuck: number | null;
  /** Time from the fault to full service again (ms); null when the drill injects no fault. */
  recoverMs: number | null;
  /** 5xx answers to input that should have been refused with 4xx (or any 5xx where none is due). */
  errors5xx: number | null;
  /** Whether every figure the drill must reach was reached. */
  ok: boolean;
  /** Short lines: what failed, extra figures (e.g. SDK buffer drops, takeover time). */
  notes: string[];
}

export interface DrillContext {
  target: ChaosTarget;
  /** Progress line on stderr (long drills say what they are doing). */
  log(message: string): void;
  /** Epoch ms by which the drill must have returned; drills bound every wait by it. */
  deadline: number;
  /** 1 = the documented load; smaller in CI's fast mode. */
  scale: number;
  /** Kills, stops and restarts the processes of the system under test (process-fault drills). */
  control?: ChaosControl;
}

/** The apps the runner starts, each its own process from dist. */
export type ChaosApp = 'gateway' | 'recorder' | 'analyzer' | 'executor';
/** The servers of the runner's private infrastructure (scripts/infra.sh). */
export type ChaosServer = 'nats' | 'redis' | 'postgres' | 'ferretdb';

/** One running app process. */
export interface ChaosProcess {
  app: ChaosApp;
  pid: number;
  port: number;
  /** SIGKILL: no chance to flush or acknowledge. */
  kill9(): Promise<void>;
  alive(): boolean;
  /** Its last output, for notes when something fails. */
  output(): string;
}

/**
 * What process-fault drills may do to the system. After each drill the runner brings it back
 * (servers up, one process of each app), so a drill need not undo its faults.
 */
export interface ChaosControl {
  /** The live processes of an app, oldest first. */
  processes(app: ChaosApp): ChaosProcess[];
  /** Starts one more process of an app (and waits until its /health answers 200). */
  startApp(app: ChaosApp, env?: Record<string, string>): Promise<ChaosProcess>;
  /** SIGKILL to a server's process group, as in a crash. */
  kill9Server(server: ChaosServer): Promise<void>;
  /** A graceful stop of a server. */
  stopServer(server: ChaosServer): Promise<void>;
  /** Starts a server again on its port and data directory (waits until it answers). */
  startServer(server: ChaosServer): Promise<void>;
}

export interface Drill {
  /** Short name used on the command line (--only) and in the table. */
  name: string;
  /** Fast drills run in CI on every push. */
  fast: boolean;
  /** One line for --help. */
  summary: string;
  run(ctx: DrillContext): Promise<DrillRow>;
}
