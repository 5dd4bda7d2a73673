import type { Provider, Type } from '@nestjs/common';
import { CatalogSearchRepository } from './catalog-search.repository';
import { GenerationController } from './generation.controller';
import { GeneratorClient } from './generator.client';
import { LibraryService } from './library.service';
import { TemplatesController } from './templates.controller';
import { WorkflowSearchController } from './workflow-search.controller';

/**
 * Generation, templates and search. Listed before WorkflowsController: their static paths
 * (`/workflows/generate`, `/workflows/templates`, `/workflows/search`) win over `/workflows/:id`
 * in Fastify's router whatever the order, and the tests check it.
 */
export const LIBRARY_CONTROLLERS: Type<unknown>[] = [GenerationController, TemplatesController, WorkflowSearchController];

export const LIBRARY_PROVIDERS: Provider[] = [GeneratorClient, CatalogSearchRepository, LibraryService];
