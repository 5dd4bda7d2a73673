import type { Provider, Type } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { WorkflowReader } from '@toolpath/workflow-store';
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

export const LIBRARY_PROVIDERS: Provider[] = [
  GeneratorClient,
  // Search reads the catalog as every other reader does (the repository is the writer).
  { provide: WorkflowReader, inject: [getConnectionToken()], useFactory: (mongo: Connection) => new WorkflowReader(mongo.db!) },
  LibraryService,
];
