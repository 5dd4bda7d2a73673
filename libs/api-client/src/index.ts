import type { components } from './openapi';

export { createToolpathClient } from './client';
export type { ToolpathClient, ToolpathClientOptions } from './client';
export type { paths, components, operations } from './openapi';

/** The document's named schemas: `ApiSchemas['StoredWorkflow']`, `ApiSchemas['ApiError']`… */
export type ApiSchemas = components['schemas'];
