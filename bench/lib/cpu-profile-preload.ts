/**
 * Loaded into a spawned service with `NODE_OPTIONS=--require <this file>` (Node refuses
 * `--cpu-prof` in NODE_OPTIONS): profiles the whole process with the inspector and writes a
 * `.cpuprofile` (open in Chrome DevTools or speedscope) into TOOLPATH_CPU_PROF_DIR when it exits.
 * The main-thread inspector session answers synchronously, so the 'exit' handler can still write.
 * Written at SIGTERM too: NestJS's shutdown hooks end the process by re-raising the signal, which
 * emits no 'exit'.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.TOOLPATH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.TOOLPATH_CPU_PROF_INTERVAL_US ?? 1000) });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.once('exit', write);
  process.once('SIGTERM', write);
}
