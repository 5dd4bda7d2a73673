import { z } from 'zod';
import { baseConfigShape } from '@toolpath/platform';

export const generatorConfigSchema = z.object({ ...baseConfigShape });
export type GeneratorConfig = z.infer<typeof generatorConfigSchema>;
