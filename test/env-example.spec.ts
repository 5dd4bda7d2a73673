import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzerConfigSchema } from '../apps/analyzer/src/analyzer.config';
import { executorConfigSchema } from '../apps/executor/src/executor.config';
import { gatewayConfigSchema } from '../apps/gateway/src/gateway.config';
import { generatorConfigSchema } from '../apps/generator/src/generator.config';
import { recorderConfigSchema } from '../apps/recorder/src/recorder.config';

/** `.env.example` promises every setting; a new one added to a config schema must appear there. */
describe('.env.example', () => {
  const listed = new Set(
    readFileSync(join(__dirname, '..', '.env.example'), 'utf8')
      .split('\n')
      .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((k): k is string => k !== undefined),
  );

  it.each([
    ['analyzer', analyzerConfigSchema],
    ['executor', executorConfigSchema],
    ['gateway', gatewayConfigSchema],
    ['generator', generatorConfigSchema],
    ['recorder', recorderConfigSchema],
  ])('lists every setting of the %s', (_app, schema) => {
    const missing = Object.keys(schema.shape).filter((key) => !listed.has(key));
    expect(missing).toEqual([]);
  });
});
