import { z } from 'zod';
import { baseConfigShape } from '@toolpath/platform';

export const executorConfigSchema = z.object({ ...baseConfigShape });
export type ExecutorConfig = z.infer<typeof executorConfigSchema>;
