import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/** A reference to a schema that `openapi.ts` registers from the contracts. */
export function ref(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

/** The error responses every authenticated route can give. */
export function errorResponses() {
  return applyDecorators(
    ApiResponse({ status: 400, description: 'Bad input; `details` names each offending field', schema: ref('ApiError') }),
    ApiResponse({ status: 401, description: 'Missing or unknown API key', schema: ref('ApiError') }),
  );
}
