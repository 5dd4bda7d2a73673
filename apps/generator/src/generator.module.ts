import { Module, type DynamicModule } from '@nestjs/common';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import { GeneratorApi } from './api/generator-api.service';
import { CatalogRepository } from './catalog/catalog.repository';
import { CatalogSnapshots } from './catalog/catalog-snapshots';
import type { GeneratorConfig } from './generator.config';
import { GenerateWorkflowService } from './generation/generate-workflow.service';
import { GenerationRepository } from './generation/generation.repository';
import { LlmClient } from './llm/llm.client';
import { ToolCatalog } from './tools/tool-catalog';

export const GENERATOR_SERVICE: ServiceInfo = { name: 'generator', defaultPort: DefaultPorts.generator };

@Module({})
export class GeneratorModule {
  static register(config: GeneratorConfig): DynamicModule {
    return {
      module: GeneratorModule,
      imports: [PlatformModule.forRoot({ service: GENERATOR_SERVICE, config, uses: { nats: true, mongo: true } })],
      providers: [LlmClient, ToolCatalog, CatalogRepository, CatalogSnapshots, GenerationRepository, GenerateWorkflowService, GeneratorApi],
    };
  }
}
