import { Module, type DynamicModule } from '@nestjs/common';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { GeneratorConfig } from './generator.config';

export const GENERATOR_SERVICE: ServiceInfo = { name: 'generator', defaultPort: DefaultPorts.generator };

@Module({})
export class GeneratorModule {
  static register(config: GeneratorConfig): DynamicModule {
    return {
      module: GeneratorModule,
      imports: [PlatformModule.forRoot({ service: GENERATOR_SERVICE, config, uses: { nats: true, mongo: true } })],
    };
  }
}
