/** Recorder kill -9 under load: the only recorder, and one of two. */
import type { ChaosControl } from '../drill';
import { eventLoadDrill } from './under-load';

async function killOneRecorderAndRestart(control: ChaosControl): Promise<string> {
  const victim = control.processes('recorder')[0]!;
  await victim.kill9();
  // Started again at once, as a supervisor would: the events it held come back after the ack wait.
  await control.startApp('recorder');
  return `recorder pid ${victim.pid} killed with SIGKILL and a new one started`;
}

export const recorderKillDrill = eventLoadDrill({
  name: 'recorder-kill',
  fast: true,
  summary: 'the only recorder killed with SIGKILL at 30% of 50,000 events sent at 1,000/s, then restarted: 0 lost, 0 duplicated, consumer drained',
  fault: killOneRecorderAndRestart,
});

export const recorderKillOneOfTwoDrill = eventLoadDrill({
  name: 'recorder-kill-1of2',
  fast: false,
  summary: 'one of two recorders killed with SIGKILL at 30% of 50,000 events sent at 1,000/s, then restarted: 0 lost, 0 duplicated, consumer drained',
  setup: async (control) => {
    while (control.processes('recorder').length < 2) await control.startApp('recorder');
  },
  fault: killOneRecorderAndRestart,
});
