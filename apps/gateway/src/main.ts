import 'reflect-metadata';
import { loadConfig, runService } from '@toolpath/platform';
import { gatewayAppOptions } from './gateway.app';
import { gatewayConfigSchema } from './gateway.config';
import { GATEWAY_SERVICE, GatewayModule } from './gateway.module';

async function main(): Promise<void> {
  const config = loadConfig(gatewayConfigSchema);
  await runService(GATEWAY_SERVICE, config, GatewayModule.register(config), gatewayAppOptions(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
