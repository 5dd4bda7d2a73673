import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ZodError, type z } from 'zod';

/** Parses a body, query or path parameter with a contract schema; failures become a 400 naming each field. */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, metadata?: ArgumentMetadata): z.infer<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    // A path parameter is one value, so its issues have an empty path: name the parameter
    // (`id`), not "(root)", so the caller sees which part of the URL is wrong.
    const param = metadata?.type === 'param' && typeof metadata.data === 'string' ? metadata.data : undefined;
    if (param === undefined) throw parsed.error;
    throw new ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: [param, ...issue.path] })));
  }
}
