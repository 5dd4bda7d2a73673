import 'reflect-metadata';
import { loadConfig, runService } from '@toolpath/platform';
import { recorderConfigSchema } from './recorder.config';
import { RECORDER_SERVICE, RecorderModule } from './recorder.module';

async function main(): Promise<void> {
  const config = loadConfig(recorderConfigSchema);
  await runService(RECORDER_SERVICE, config, RecorderModule.register(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
