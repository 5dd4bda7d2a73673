import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Drill, DrillContext, DrillRow } from '../drill';

/**
 * The connections drill: 200 idle TCP connections and 200 slow clients (sending a request's
 * headers a byte at a time) held against the gateway while a normal client polls `/health` on a
 * fresh connection each time. OK when every one of the normal client's answers is 200 within
 * ANSWER_BOUND_MS and the gateway still answers once the connections are gone.
 */

const IDLE_CONNECTIONS = 200;
const SLOW_CLIENTS = 200;
/** Time between two bytes of a slow client's request. */
const SLOW_BYTE_INTERVAL_MS = 250;
/** Longest acceptable answer to the normal client. */
const ANSWER_BOUND_MS = 2_000;
/** Time between two polls of the normal client. */
const POLL_INTERVAL_MS = 100;
/** The pressure is held this long at scale 1 (never under 3 s). */
const HOLD_MS = 20_000;

export const connectionsDrill: Drill = {
  name: 'connections',
  fast: false,
  summary: `${IDLE_CONNECTIONS} idle and ${SLOW_CLIENTS} slow connections against the gateway while a normal client polls /health (every answer 200 within ${ANSWER_BOUND_MS} ms)`,
  run: runConnections,
};

export default connectionsDrill;

interface Probe {
  status: number | null;
  ms: number;
  error?: string;
}

async function runConnections(ctx: DrillContext): Promise<DrillRow> {
  const url = new URL(ctx.target.gatewayUrl);
  const host = url.hostname;
  const port = Number(url.port || 80);
  const holdMs = Math.max(3_000, Math.min(HOLD_MS * ctx.scale, ctx.deadline - Date.now() - 8_000));
  const notes: string[] = [];

  ctx.log('connections: baseline /health latency');
  const before = await pollFor(host, port, Math.min(2_000, holdMs / 2));

  ctx.log(`connections: opening ${IDLE_CONNECTIONS} idle and ${SLOW_CLIENTS} slow connections for ${Math.round(holdMs / 1000)} s`);
  const pressure = new Pressure(host, port);
  const during: Probe[] = [];
  try {
    await pressure.open(IDLE_CONNECTIONS, SLOW_CLIENTS, Math.min(ctx.deadline, Date.now() + 5_000));
    during.push(...(await pollFor(host, port, holdMs)));
  } finally {
    pressure.close();
  }
  const after = await pollFor(host, port, 500);

  const good = (p: Probe) => p.status === 200 && p.ms <= ANSWER_BOUND_MS;
  const stored = during.filter(good).length;
  const errors5xx = during.filter((p) => (p.status ?? 0) >= 500).length;
  const up = after.length > 0 && after.every(good);
  const bad = during.filter((p) => !good(p));
  notes.push(`normal client /health p95 ${p95(during)} ms during (max ${max(during)} ms) vs ${p95(before)} ms before; ${during.length} polls`);
  notes.push(
    `opened ${pressure.idleOpened}/${IDLE_CONNECTIONS} idle and ${pressure.slowOpened}/${SLOW_CLIENTS} slow; the gateway closed ${pressure.idleClosedByServer} idle and ${pressure.slowClosedByServer} slow, answered ${pressure.slowAnswered} slow`,
  );
  if (bad.length > 0) notes.push(`FAIL ${bad.length} answers not 200 within ${ANSWER_BOUND_MS} ms: ${bad.slice(0, 5).map((p) => `${p.status ?? p.error} in ${p.ms} ms`).join(', ')}`);
  if (pressure.idleOpened < IDLE_CONNECTIONS || pressure.slowOpened < SLOW_CLIENTS) notes.push('FAIL not every connection could be opened');
  if (!up) notes.push(`FAIL the gateway does not answer /health after the drill: ${after.map((p) => p.status ?? p.error).join(', ')}`);
  return {
    drill: connectionsDrill.name,
    sent: during.length,
    stored,
    lost: null,
    duplicated: null,
    stuck: null,
    recoverMs: null,
    errors5xx,
    ok: during.length > 0 && bad.length === 0 && up && pressure.idleOpened === IDLE_CONNECTIONS && pressure.slowOpened === SLOW_CLIENTS,
    notes,
  };
}

/** Polls GET /health on a fresh connection each time for `forMs`, one request at a time. */
async function pollFor(host: string, port: number, forMs: number): Promise<Probe[]> {
  const out: Probe[] = [];
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    out.push(await health(host, port));
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  return out;
}

function health(host: string, port: number): Promise<Probe> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  return new Promise((resolve) => {
    // agent: false: a new connection per request, as a new user would open one, through the
    // same accept queue the idle and slow connections fill.
    const req = request({ host, port, path: '/health', method: 'GET', agent: false, timeout: ANSWER_BOUND_MS * 2 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? null, ms: ms() }));
      res.on('error', (err) => resolve({ status: null, ms: ms(), error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_BOUND_MS * 2} ms`)));
    req.on('error', (err) => resolve({ status: null, ms: ms(), error: err.message }));
    req.end();
  });
}

/** The idle and slow connections, and what the server did with them. */
class Pressure {
  idleOpened = 0;
  slowOpened = 0;
  idleClosedByServer = 0;
  slowClosedByServer = 0;
  slowAnswered = 0;
  private readonly sockets: Socket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async open(idle: number, slow: number, until: number): Promise<void> {
    const opened: Array<Promise<void>> = [];
    for (let i = 0; i < idle; i++) opened.push(this.openOne(false, until));
    for (let i = 0; i < slow; i++) opened.push(this.openOne(true, until));
    await Promise.all(opened);
  }

  private openOne(slow: boolean, until: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.host, port: this.port });
      this.sockets.push(socket);
      const giveUp = setTimeout(() => resolve(), Math.max(0, until - Date.now()));
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (this.closing) return;
        if (slow) this.slowClosedByServer++;
        else this.idleClosedByServer++;
      });
      socket.once('connect', () => {
        clearTimeout(giveUp);
        if (slow) {
          this.slowOpened++;
          this.dribble(socket);
        } else this.idleOpened++;
        resolve();
      });
    });
  }

  /** Sends a request's head one byte at a time (its last byte only if the drill lasts that long). */
  private dribble(socket: Socket): void {
    const head = Buffer.from(`GET /health HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: chaos-slow-client\r\nX-Padding: ${'p'.repeat(64)}\r\n\r\n`);
    let sent = 0;
    socket.once('data', () => this.slowAnswered++);
    const timer = setInterval(() => {
      if (sent >= head.length || socket.destroyed) {
        clearInterval(timer);
        return;
      }
      socket.write(head.subarray(sent, sent + 1));
      sent++;
    }, SLOW_BYTE_INTERVAL_MS);
    this.timers.push(timer);
  }

  close(): void {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
  }
}

function p95(probes: Probe[]): number {
  const ms = probes.filter((p) => p.status !== null).map((p) => p.ms).sort((a, b) => a - b);
  return ms.length === 0 ? NaN : ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.95) - 1)];
}

function max(probes: Probe[]): number {
  return probes.reduce((m, p) => Math.max(m, p.ms), 0);
}
