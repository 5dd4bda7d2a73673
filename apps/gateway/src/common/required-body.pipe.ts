import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '@toolpath/platform';

/**
 * A route whose body is required: a request without one is a 400 naming it, before anything reads
 * it (a missing body must never be taken for an empty definition or batch).
 */
@Injectable()
export class RequiredBodyPipe implements PipeTransform {
  transform(value: unknown): unknown {
    if (value === undefined) throw new ApiError(400, 'a JSON body is required', [{ field: '(body)', message: 'is required' }]);
    return value;
  }
}
