import 'reflect-metadata';
import { loadConfig, runService } from '@toolpath/platform';
import { executorConfigSchema } from './executor.config';
import { EXECUTOR_SERVICE, ExecutorModule } from './executor.module';

async function main(): Promise<void> {
  const config = loadConfig(executorConfigSchema);
  await runService(EXECUTOR_SERVICE, config, ExecutorModule.register(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
