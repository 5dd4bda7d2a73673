import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { GenerationConstraintsSchema, MAX_PROMPT_CHARS, issuesFromZod, type GenerationConstraints, type GenerationView } from '@toolpath/contracts';
import { ApiError, ZodValidationPipe } from '@toolpath/platform';
import { Tenant } from '../auth/tenant.decorator';
import { errorResponses, ref } from '../docs/openapi-refs';
import { RequiredBodyPipe } from '../common/required-body.pipe';
import { ApplyBody } from './library.schemas';
import { LibraryService, type AppliedDraft } from './library.service';

/** The prompt and constraints of a generate request, or a 400/413 naming the field. */
function readGenerateBody(body: unknown): { prompt: string; constraints?: GenerationConstraints } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object { prompt, constraints? }', [{ field: '(root)', message: 'not an object' }]);
  const { prompt, constraints, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ApiError(400, `unknown field ${unknown[0]}`, unknown.map((field) => ({ field, message: 'unknown field' })));
  if (typeof prompt !== 'string') throw new ApiError(400, 'prompt: required, a string describing the task', [{ field: 'prompt', message: 'required string' }]);
  if (prompt.trim().length === 0) throw new ApiError(400, 'prompt: must not be empty', [{ field: 'prompt', message: 'must not be empty' }]);
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new ApiError(413, `prompt: ${prompt.length} characters, the limit is ${MAX_PROMPT_CHARS}; describe the task more briefly`, [
      { field: 'prompt', message: `at most ${MAX_PROMPT_CHARS} characters` },
    ]);
  }
  if (constraints === undefined) return { prompt };
  const parsed = GenerationConstraintsSchema.safeParse(constraints);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error).map((i) => ({ ...i, field: `constraints.${i.field}`.replace(/\.\(root\)$/, '') }));
    throw new ApiError(400, issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  }
  return { prompt, constraints: parsed.data };
}

@ApiTags('generation')
@ApiBearerAuth()
@errorResponses()
@Controller('workflows/generate')
export class GenerationController {
  constructor(private readonly library: LibraryService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Draft a workflow from a sentence',
    description:
      'The generator asks the configured LLM (or, without one, its offline planner) for a workflow that reuses the tenant\'s workflows and the registered tools first. ' +
      `The draft is validated (and repaired by the model when it is not). Tools that do not exist are listed in missingTools and their steps call "missing:<name>". Prompts are at most ${MAX_PROMPT_CHARS} characters (413 beyond). Nothing is stored in the catalog until apply.`,
  })
  @ApiBody({ schema: ref('GenerateRequest') })
  @ApiResponse({ status: 200, schema: ref('Generation') })
  @ApiResponse({ status: 413, description: 'Prompt too long', schema: ref('ApiError') })
  @ApiResponse({ status: 422, description: 'Offline planner: nothing matches the prompt', schema: ref('ApiError') })
  @ApiResponse({ status: 502, description: 'The LLM failed or never produced a valid workflow', schema: ref('ApiError') })
  @ApiResponse({ status: 503, description: 'No generator is running, or the LLM keeps rate limiting', schema: ref('ApiError') })
  @ApiResponse({ status: 504, description: 'The LLM (or the generator) did not answer in time', schema: ref('ApiError') })
  generate(@Tenant() tenantId: string, @Body(RequiredBodyPipe) body: unknown): Promise<GenerationView> {
    const { prompt, constraints } = readGenerateBody(body);
    return this.library.generate(tenantId, prompt, constraints);
  }

  @Post('apply')
  @ApiOperation({
    summary: 'Store a draft in the catalog',
    description: 'Either `{ generationId }` (a stored generation of this tenant) or `{ workflow }` (a draft, possibly edited). Stored with source "generated"; returns the new id.',
  })
  @ApiBody({ schema: ref('ApplyGenerationRequest') })
  @ApiResponse({ status: 201, schema: ref('AppliedGeneration') })
  @ApiResponse({ status: 404, description: 'No such generation for this tenant', schema: ref('ApiError') })
  @ApiResponse({ status: 409, description: 'The generation failed: no draft to apply', schema: ref('ApiError') })
  apply(@Tenant() tenantId: string, @Body(new ZodValidationPipe(ApplyBody)) body: ApplyBody): Promise<AppliedDraft> {
    return this.library.apply(tenantId, body);
  }
}
