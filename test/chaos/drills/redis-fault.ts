/** Redis (the executor's queues and run state) stopped, and killed with SIGKILL, mid-run. */
import type { ChaosControl } from '../drill';
import { runsDrill } from './runs-under-fault';

/** Down long enough that the executors' Redis calls fail and are retried. */
const DOWN_MS = 2_000;

function redisFault(how: 'stop' | 'kill9') {
  return async (control: ChaosControl): Promise<{ killed: 'server'; note: string }> => {
    if (how === 'stop') await control.stopServer('redis');
    else await control.kill9Server('redis');
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await control.startServer('redis');
    return { killed: 'server', note: `redis ${how === 'stop' ? 'stopped' : 'killed with SIGKILL'}, started again after ${DOWN_MS} ms` };
  };
}

export const redisStopDrill = runsDrill({
  name: 'redis-stop',
  fast: false,
  summary: 'Redis stopped for 2 s during 20 runs of 10 steps: every run completes, 0 duplicate side effects with serveTool de-dup',
  executors: 1,
  fault: redisFault('stop'),
});

export const redisKillDrill = runsDrill({
  name: 'redis-kill',
  fast: false,
  summary: 'Redis killed with SIGKILL during 20 runs of 10 steps, restarted 2 s later: every run completes, 0 duplicate side effects with serveTool de-dup',
  executors: 1,
  fault: redisFault('kill9'),
});
