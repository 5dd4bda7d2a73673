import { Test, type TestingModule } from '@nestjs/testing';
import type { GenerateRequest } from '@toolpath/contracts';
import { APP_CONFIG, MetricsService, loadConfig } from '@toolpath/platform';
import { CatalogSnapshot, CatalogSnapshots } from '../catalog/catalog-snapshots';
import { generatorConfigSchema } from '../generator.config';
import { LlmError } from '../llm/llm-errors';
import { LlmClient, type LlmAnswer, type LlmRequest } from '../llm/llm.client';
import { ToolCatalog, ToolSet } from '../tools/tool-catalog';
import { GenerateWorkflowService } from './generate-workflow.service';
import { GenerationRepository, type GenerationRow } from './generation.repository';

/**
 * A generation's rounds, outcome and stored row, with the model scripted and the generations
 * kept in memory (Nest builds the service as the app does; `overrideProvider` swaps what it
 * reaches outside). The real model client, registry and store are covered in apps/generator/test.
 */

/** `generations` in memory, by `_id`; a failing store is one switch away. */
class InMemoryGenerations implements Pick<GenerationRepository, 'insert' | 'get'> {
  readonly rows = new Map<string, GenerationRow>();
  failing = false;

  async insert(row: GenerationRow): Promise<void> {
    if (this.failing) throw new Error('the store is away');
    if (this.rows.has(row._id)) throw new Error(`duplicate generation ${row._id}`);
    this.rows.set(row._id, structuredClone(row));
  }

  async get(tenantId: string, id: string): Promise<GenerationRow | undefined> {
    return this.rows.get(`${tenantId}:${id}`);
  }
}

/** A model that gives the answers it is handed, in order, and records what it was asked. */
class ScriptedModel implements Pick<LlmClient, 'configured' | 'model' | 'complete'> {
  readonly configured = true;
  readonly model = 'scripted-model';
  readonly asked: LlmRequest[] = [];
  constructor(private readonly answers: Array<string | LlmError>) {}

  async complete(req: LlmRequest): Promise<LlmAnswer> {
    this.asked.push(structuredClone(req));
    const next = this.answers.shift();
    if (next === undefined) throw new Error('the model was asked more often than scripted');
    if (next instanceof LlmError) throw next;
    return { content: next, model: this.model, usage: { promptTokens: 100, completionTokens: 20, totalTokens: 120 }, finishReason: 'stop', attempts: 1, llmMs: 5, responseFormat: 'json_schema' };
  }
}

const answer = (dependsOn: string[]) =>
  JSON.stringify({
    explanation: 'Waits, then fetches the page.',
    workflow: {
      name: 'Fetch after a pause',
      steps: [
        { id: 'wait', tool: 'core.delay', parameters: { ms: 100 } },
        { id: 'fetch', tool: 'http.request', dependsOn, parameters: { url: 'https://example.com' } },
      ],
    },
    missingTools: [],
    reusedWorkflowIds: [],
  });
const VALID = answer(['wait']);
const DANGLING = answer(['nowhere']);

const request: GenerateRequest = { tenantId: 'acme', prompt: 'wait a moment, then fetch https://example.com' };

describe('GenerateWorkflowService with the model scripted and generations in memory', () => {
  let store: InMemoryGenerations;
  let app: TestingModule | undefined;

  async function generator(model: ScriptedModel): Promise<GenerateWorkflowService> {
    app = await Test.createTestingModule({
      providers: [
        { provide: APP_CONFIG, useValue: loadConfig(generatorConfigSchema, { GENERATOR_REPAIR_ROUNDS: '1' }) },
        MetricsService,
        LlmClient,
        ToolCatalog,
        CatalogSnapshots,
        GenerationRepository,
        GenerateWorkflowService,
      ],
    })
      .overrideProvider(LlmClient)
      .useValue(model)
      .overrideProvider(ToolCatalog)
      .useValue({ get: async () => new ToolSet([], Date.now()) })
      .overrideProvider(CatalogSnapshots)
      .useValue({ get: async () => new CatalogSnapshot([], Date.now(), false) })
      .overrideProvider(GenerationRepository)
      .useValue(store)
      .compile();
    return app.get(GenerateWorkflowService);
  }

  beforeEach(() => (store = new InMemoryGenerations()));
  afterEach(() => app?.close());

  it('repairs an answer that does not validate in a second round that shows the model its errors, and stores the generation once', async () => {
    const model = new ScriptedModel([DANGLING, VALID]);
    const service = await generator(model);
    const reply = await service.generate(request);
    if (!reply.ok) throw new Error(`generation failed: ${reply.error.message}`);
    expect(reply.value).toMatchObject({ rounds: 2, offline: false, model: 'scripted-model', usage: { promptTokens: 200, completionTokens: 40, totalTokens: 240 }, missingTools: [] });
    expect((reply.value.workflow as { steps: Array<{ tool: string }> }).steps.map((s) => s.tool)).toEqual(['core.delay', 'http.request']);
    // The repair round carries the first answer and what was wrong with it.
    expect(model.asked[1].messages.length).toBeGreaterThan(model.asked[0].messages.length);
    expect(JSON.stringify(model.asked[1].messages.slice(model.asked[0].messages.length))).toContain('nowhere');

    const row = store.rows.get(`acme:${reply.value.id}`)!;
    expect(row).toMatchObject({ status: 'ok', tenantId: 'acme', rounds: 2 });
    expect(row.roundsDetail.map((r) => r.problems.length > 0)).toEqual([true, false]);
    expect(await service.get('acme', reply.value.id)).toMatchObject({ ok: true, value: { id: reply.value.id, status: 'ok' } });
  });

  it('gives up after GENERATOR_REPAIR_ROUNDS repairs with 502 invalid_model_answer, and stores the failure with its rounds', async () => {
    const reply = await (await generator(new ScriptedModel([DANGLING, DANGLING]))).generate(request);
    expect(reply).toMatchObject({ ok: false, error: { status: 502, code: 'invalid_model_answer' } });
    if (reply.ok) return;
    const id = (reply.error.details as { generationId: string }).generationId;
    expect(store.rows.get(`acme:${id}`)).toMatchObject({ status: 'failed', rounds: 2, error: { status: 502, code: 'invalid_model_answer' } });
  });

  it.each([
    ['rate_limited', 503, 'llm_rate_limited'],
    ['timeout', 504, 'llm_timeout'],
    ['auth', 502, 'llm_auth'],
  ] as const)('maps a model failure (%s) to %i %s, and stores it', async (kind, status, code) => {
    const reply = await (await generator(new ScriptedModel([new LlmError(kind, `model said ${kind}`, undefined, 3)]))).generate(request);
    expect(reply).toMatchObject({ ok: false, error: { status, code, details: { attempts: 3 } } });
    expect([...store.rows.values()]).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code }) })]);
  });

  it('still answers with the draft when the generation cannot be stored, saying so', async () => {
    store.failing = true;
    const reply = await (await generator(new ScriptedModel([VALID]))).generate(request);
    expect(reply.ok && reply.value.warnings).toContain('the generation could not be stored; apply it by sending the workflow itself');
  });

  it("refuses an empty prompt without asking the model, and does not show one tenant's generation to another", async () => {
    const model = new ScriptedModel([]);
    const service = await generator(model);
    expect(await service.generate({ ...request, prompt: '   ' })).toMatchObject({ ok: false, error: { status: 400, code: 'invalid_request' } });
    expect(model.asked).toHaveLength(0);
    store.rows.set('acme:gen_1', { _id: 'acme:gen_1', id: 'gen_1', tenantId: 'acme' } as GenerationRow);
    expect(await service.get('globex', 'gen_1')).toMatchObject({ ok: false, error: { status: 404 } });
  });
});
