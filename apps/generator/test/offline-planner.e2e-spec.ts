import { validateWorkflow } from '@toolpath/workflow';
import { startGenerator, type GeneratorHarness } from './generator-harness';

// No OPENAI_API_KEY: every generation is the offline planner's.
let h: GeneratorHarness;

const chain = (tools: string[]) => tools.map((tool, i) => ({ id: `s${i}`, tool, parameters: {}, ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}) }));

beforeAll(async () => {
  h = await startGenerator('genoff', {});
  await h.registry.announce({ name: 'invoices.fetch', description: 'Downloads the invoices of a customer from the billing system', inputSchema: { type: 'object', properties: { customerId: { type: 'string' } }, required: ['customerId'] } });
  await h.registry.announce({ name: 'pdf.render', description: 'Renders an HTML document to a PDF file', inputSchema: { type: 'object', properties: { html: { type: 'string' } }, required: ['html'] } });
  await h.registry.announce({ name: 'mail.send', description: 'Sends an e-mail with optional attachments', inputSchema: { type: 'object', properties: { to: { type: 'string' }, body: { type: 'string' } }, required: ['to'] } });
  await h.storeWorkflow('acme', 'wf_flaky', { name: 'Rotate database credentials', description: 'Rotates the credentials of a database and restarts the service', source: 'learned', steps: chain(['db.rotate', 'svc.restart']) });
  await h.storeWorkflow('acme', 'wf_solid', { name: 'Rotate database credentials safely', description: 'Rotates database credentials, checks them, then restarts the service', source: 'learned', steps: chain(['db.rotate', 'db.check', 'svc.restart']) });
  await h.storeRuns('acme', 'wf_flaky', 2, 8);
  await h.storeRuns('acme', 'wf_solid', 19, 1);
  await h.storeWorkflow('globex', 'wf_globex', { name: 'Archive old tickets', description: 'Moves closed support tickets to the archive', source: 'user', steps: chain(['tickets.archive']) });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const generate = (tenantId: string, prompt: string, constraints?: Record<string, unknown>) => h.request('generate', { tenantId, prompt, ...(constraints ? { constraints } : {}) });

describe('offline planner (no LLM configured)', () => {
  it('reuses the matching catalog workflow with the better success rate', async () => {
    const reply = await generate('acme', 'rotate the database credentials and restart the service');
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const g = reply.value;
    expect(g).toMatchObject({ offline: true, model: null, usage: null, rounds: 0 });
    expect(g.reusedWorkflows).toEqual([{ id: 'wf_solid', name: 'Rotate database credentials safely', source: 'learned', successRate: 0.95, runs: 20 }]);
    expect(g.workflow.steps.map((s: any) => s.tool)).toEqual(['missing:db.rotate', 'missing:db.check', 'missing:svc.restart']);
    expect(g.workflow.source).toBe('generated');
    expect(g.warnings[0]).toMatch(/drafted offline: no LLM is configured/);
    expect(validateWorkflow(g.workflow).ok).toBe(true);
  });

  it('adapts a built-in template when it matches best', async () => {
    const reply = await generate('acme', 'ask an approver for approval and then notify the requester');
    expect(reply).toMatchObject({ ok: true, value: { offline: true } });
    if (!reply.ok) return;
    expect(reply.value.explanation).toMatch(/template "Ask for approval, then act" \(approval/);
    expect(reply.value.toolsUsed).toEqual(['http.request']);
    expect(reply.value.missingTools.map((m: any) => m.name).sort()).toEqual(['approval.request', 'slack.post_message']);
  });

  it('chains registered tools in the order the prompt names them when nothing else matches', async () => {
    const reply = await generate('acme', 'fetch the invoices of a customer, render them as a pdf and mail them');
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const w = reply.value.workflow;
    expect(w.steps.map((s: any) => s.tool)).toEqual(['invoices.fetch', 'pdf.render', 'mail.send']);
    expect(w.steps[1].dependsOn).toEqual([w.steps[0].id]);
    expect(w.steps[0].parameters).toEqual({ customerId: '{{ input.customerId }}' });
    expect(w.variables.required).toEqual(['customerId', 'html', 'to']);
    expect(reply.value.toolsUsed).toEqual(['invoices.fetch', 'mail.send', 'pdf.render']);
    expect(reply.value.missingTools).toEqual([]);
    expect(validateWorkflow(w).ok).toBe(true);
  });

  it('keeps to constraints.tools and maxSteps', async () => {
    const reply = await generate('acme', 'fetch the invoices of a customer, render them as a pdf and mail them', { tools: ['invoices.fetch', 'mail.send'], maxSteps: 2 });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.value.workflow.steps.map((s: any) => s.tool)).toEqual(['invoices.fetch', 'mail.send']);
  });

  it('never uses another tenant\'s workflows, and answers 422 naming the prompt when nothing matches', async () => {
    const mine = await generate('acme', 'archive closed support tickets');
    if (mine.ok) expect(mine.value.reusedWorkflows.map((r: any) => r.id)).not.toContain('wf_globex');
    const theirs = await generate('globex', 'archive closed support tickets');
    expect(theirs).toMatchObject({ ok: true, value: { reusedWorkflows: [{ id: 'wf_globex' }] } });
    const nothing = await generate('acme', 'zzqx wibble frobnicate');
    expect(nothing).toMatchObject({ ok: false, error: { status: 422, code: 'no_match', details: { field: 'prompt' } } });
  });

  it('sees a workflow stored after its snapshot once the snapshot is refreshed', async () => {
    await h.storeWorkflow('acme', 'wf_new', { name: 'Translate release notes', description: 'Translates release notes into German and French', source: 'user', steps: chain(['i18n.translate']) });
    let reused: string[] = [];
    for (let i = 0; i < 40 && !reused.includes('wf_new'); i++) {
      await new Promise((r) => setTimeout(r, 60));
      const r = await generate('acme', 'translate the release notes into german');
      reused = r.ok ? r.value.reusedWorkflows.map((w: any) => w.id) : [];
    }
    expect(reused).toEqual(['wf_new']);
  });
});
