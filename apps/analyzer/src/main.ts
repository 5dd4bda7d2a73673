import 'reflect-metadata';
import { loadConfig, runService } from '@toolpath/platform';
import { analyzerConfigSchema } from './analyzer.config';
import { ANALYZER_SERVICE, AnalyzerModule } from './analyzer.module';

async function main(): Promise<void> {
  const config = loadConfig(analyzerConfigSchema);
  await runService(ANALYZER_SERVICE, config, AnalyzerModule.register(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
