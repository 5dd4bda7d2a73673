import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { MAX_PATH_PARAMETER_LENGTH } from '@toolpath/platform';
import { z } from 'zod';
import { documentedAs } from '../common/query-params';
import { ref } from './openapi-refs';

export type JsonSchema = Record<string, unknown>;

/**
 * The OpenAPI 3.0 form of a zod schema, as a request must be written (`io: 'input'`: what a
 * coercion or default accepts, before transforms). The document and the validation pipes use the
 * same zod objects, so what is documented is what is enforced.
 */
export function openapiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
    // A parameter parsed from text (an integer in a query string) is documented as what it means.
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; innerType?: object; defaultValue?: unknown };
      // A default of such a parameter is its meaning too (zod leaves it out of the text side).
      const inner = def.type === 'default' && def.innerType ? documentedAs.get(def.innerType) : undefined;
      const documented = documentedAs.get(ctx.zodSchema) ?? inner;
      if (!documented) return;
      const json = ctx.jsonSchema as JsonSchema;
      for (const key of Object.keys(json)) if (key !== 'description') delete json[key];
      Object.assign(json, documented, inner ? { default: def.defaultValue } : {});
    },
  }) as JsonSchema;
  const { $schema: _dialect, ...rest } = json;
  return rest;
}

/** Moves a schema's description to the parameter, where Swagger UI shows it. */
function parameterParts(schema: JsonSchema): { schema: JsonSchema; description?: string } {
  const { description, ...rest } = schema;
  return typeof description === 'string' ? { schema: rest, description } : { schema: rest };
}

/** Documents every field of a query object schema (the one its `ZodValidationPipe` checks). */
export function ApiZodQuery(schema: z.ZodObject): MethodDecorator {
  const json = openapiSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return applyDecorators(
    ...Object.entries(properties).map(([name, property]) => {
      const { schema: s, description } = parameterParts(property);
      // A list parameter (`?tools=a&tools=b`) is a repeated query parameter (form, exploded).
      return ApiQuery({ name, required: required.has(name), schema: s, ...(description ? { description } : {}) });
    }),
  );
}

/**
 * Documents one path parameter from the schema its `ZodValidationPipe` checks, and the router's
 * 414 for a parameter longer than it takes (`MAX_PATH_PARAMETER_LENGTH`, encoded).
 */
export function ApiZodParam(name: string, schema: z.ZodType, description?: string): MethodDecorator {
  const parts = parameterParts(openapiSchema(schema));
  const text = description ?? parts.description;
  return applyDecorators(
    ApiParam({ name, required: true, schema: parts.schema, ...(text ? { description: text } : {}) }),
    ApiResponse({ status: 414, description: `A path parameter over ${MAX_PATH_PARAMETER_LENGTH} characters as sent`, schema: ref('ApiError') }),
  );
}

/** Documents a JSON body from the schema that validates it; `required: false` when it may be left out. */
export function ApiZodBody(schema: z.ZodType, options: { required?: boolean; description?: string } = {}): MethodDecorator {
  return ApiBody({ schema: openapiSchema(schema), required: options.required ?? true, ...(options.description ? { description: options.description } : {}) });
}

/** Documents a response from the zod schema the answer is built to (`io: 'output'`). */
export function ApiZodResponse(status: number, schema: z.ZodType, description?: string): MethodDecorator {
  return ApiResponse({ status, schema: openapiSchema(schema, 'output'), ...(description ? { description } : {}) });
}
