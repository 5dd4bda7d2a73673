import { env } from '@toolpath/platform';

/** Settings of the generation and library routes, spread into the gateway's config schema. */
export const libraryConfigShape = {
  /**
   * How long `POST /workflows/generate` waits for the generator. The generator is told this
   * bound and finishes (or gives up with a clear error) inside it, so keep it above
   * GENERATOR_DEADLINE_MS when that one is raised.
   */
  GATEWAY_GENERATOR_TIMEOUT_MS: env.positiveInt.default(130_000),
};
