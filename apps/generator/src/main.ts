import 'reflect-metadata';
import { loadConfig, runService } from '@toolpath/platform';
import { generatorConfigSchema } from './generator.config';
import { GENERATOR_SERVICE, GeneratorModule } from './generator.module';

async function main(): Promise<void> {
  const config = loadConfig(generatorConfigSchema);
  await runService(GENERATOR_SERVICE, config, GeneratorModule.register(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
