import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/** Parses a body or query with a contract schema; failures become a 400 naming each field. */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    return this.schema.parse(value);
  }
}
