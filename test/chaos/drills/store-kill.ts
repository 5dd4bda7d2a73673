/** The event store's servers killed with SIGKILL under load: FerretDB, and PostgreSQL under it. */
import type { ChaosControl, ChaosServer } from '../drill';
import { eventLoadDrill } from './under-load';

/** Down long enough that the recorder's writes fail and are retried, not just delayed. */
const DOWN_MS = 2_000;

function killServer(server: ChaosServer) {
  return async (control: ChaosControl): Promise<string> => {
    await control.kill9Server(server);
    await new Promise((r) => setTimeout(r, DOWN_MS));
    const t = Date.now();
    await control.startServer(server);
    return `${server} killed with SIGKILL, started again after ${DOWN_MS} ms (up in ${Date.now() - t} ms)`;
  };
}

export const ferretdbKillDrill = eventLoadDrill({
  name: 'ferretdb-kill',
  fast: false,
  summary: 'FerretDB killed with SIGKILL at 30% of 50,000 events sent at 1,000/s, restarted 2 s later: 0 lost, 0 duplicated',
  fault: killServer('ferretdb'),
});

export const postgresKillDrill = eventLoadDrill({
  name: 'postgres-kill',
  fast: false,
  summary: "PostgreSQL (FerretDB's store) killed with SIGKILL, backends included, at 30% of 50,000 events sent at 1,000/s, restarted 2 s later: 0 lost, 0 duplicated",
  fault: killServer('postgres'),
});
