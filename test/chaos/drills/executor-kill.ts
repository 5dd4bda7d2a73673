/** Executor kill -9 during runs: the only executor (then restarted), and one of two. */
import type { ChaosControl } from '../drill';
import { runsDrill } from './runs-under-fault';

async function killExecutor(control: ChaosControl, restart: boolean): Promise<{ killed: 'executor'; note: string }> {
  const victim = control.processes('executor')[0]!;
  await victim.kill9();
  // Started again at once, as a supervisor would; with two, the survivor takes over alone.
  if (restart) await control.startApp('executor');
  return { killed: 'executor', note: `executor pid ${victim.pid} killed with SIGKILL${restart ? ' and a new one started' : ''}` };
}

export const executorKillDrill = runsDrill({
  name: 'executor-kill',
  fast: true,
  summary: 'the only executor killed with SIGKILL during 20 runs of 10 steps, then restarted: every run completes, 0 duplicate side effects with serveTool de-dup, takeover <= 10 s',
  executors: 1,
  fault: (control) => killExecutor(control, true),
});

export const executorKillOneOfTwoDrill = runsDrill({
  name: 'executor-kill-1of2',
  fast: false,
  summary: 'one of two executors killed with SIGKILL during 20 runs of 10 steps: every run completes, 0 duplicate side effects with serveTool de-dup, takeover <= 10 s',
  executors: 2,
  fault: (control) => killExecutor(control, false),
});
