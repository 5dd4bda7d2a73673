import { Module, type DynamicModule } from '@nestjs/common';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { ExecutorConfig } from './executor.config';

export const EXECUTOR_SERVICE: ServiceInfo = { name: 'executor', defaultPort: DefaultPorts.executor };

@Module({})
export class ExecutorModule {
  static register(config: ExecutorConfig): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [PlatformModule.forRoot({ service: EXECUTOR_SERVICE, config, uses: { nats: true, mongo: true, redis: true } })],
    };
  }
}
