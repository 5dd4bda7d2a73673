import { z } from 'zod';
import { baseConfigShape } from '@toolpath/platform';

export const analyzerConfigSchema = z.object({ ...baseConfigShape });
export type AnalyzerConfig = z.infer<typeof analyzerConfigSchema>;
