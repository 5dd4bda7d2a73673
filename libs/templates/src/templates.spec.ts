import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderParameters, validateWorkflow } from '@toolpath/workflow';
import { TemplateLibrary, TemplateLoadError, bindVariables, summarizeTemplate } from './index';

describe('built-in templates', () => {
  const library = TemplateLibrary.load();

  it('holds the five required templates, each valid, with a category and variables', () => {
    const ids = library.list().map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['github-pr-notify', 'fetch-transform-store-notify', 'approval', 'search-and-report', 'multi-region-deploy']));
    for (const t of library.list()) {
      expect(validateWorkflow(t).ok).toBe(true);
      expect(t.category.length).toBeGreaterThan(0);
      expect(Object.keys(t.variables?.properties ?? {}).length).toBeGreaterThan(0);
      expect(t.source).toBe('template');
    }
  });

  it('lists by category and summarises', () => {
    expect(library.list('deployment').map((t) => t.id)).toEqual(['multi-region-deploy']);
    expect(library.categories()).toContain('data-processing');
    const s = summarizeTemplate(library.get('multi-region-deploy')!);
    expect(s).toMatchObject({ steps: 5, requiredVariables: ['image', 'service'] });
    expect(s.tools).toEqual(['docker.build', 'k8s.apply', 'k8s.rollback', 'slack.post_message']);
  });

  it('refuses a broken template naming its file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-tpl-'));
    try {
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ id: 'bad', name: 'x', description: '', category: 'c', source: 'template', steps: [{ id: 'a', tool: 't', dependsOn: ['a'] }] }));
      expect(() => TemplateLibrary.load(dir)).toThrow(TemplateLoadError);
      expect(() => TemplateLibrary.load(dir)).toThrow(/bad\.json.*depend/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bindVariables', () => {
  const library = TemplateLibrary.load();

  it('puts values into parameters, keeping types, and drops bound variables', () => {
    const t = library.get('github-pr-notify')!;
    const r = bindVariables(t, { repo: 'acme/api', channel: "#it's" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const def = r.value.definition;
    expect(def.steps[0].parameters.repo).toBe('acme/api');
    expect(Object.keys(def.variables!.properties!)).toEqual(['branch']);
    expect(def.variables!.required).toEqual([]);
    const text = renderParameters(def.steps[2].parameters, { input: {}, steps: { create_pr: { status: 'COMPLETED', result: { url: 'u' }, attempts: 1 } } } as never);
    expect(text).toEqual({ channel: "#it's", text: 'Pull request opened: u' });
  });

  it('binds inside expressions and conditions as literals, never as template text', () => {
    const t = library.get('approval')!;
    const r = bindVariables(t, { approver: '{{ steps.x }}', summary: 'ship', actionUrl: 'http://x' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const report = r.value.definition.steps.find((s) => s.id === 'report')!;
    const out = renderParameters(report.parameters, { input: { channel: '#a' }, steps: { request_approval: { status: 'COMPLETED', result: { approved: true }, attempts: 1 } } } as never);
    expect(out.text).toBe('ship: approved by {{ steps.x }}');
  });

  it('keeps numbers as numbers', () => {
    const r = bindVariables(library.get('search-and-report')!, { maxResults: 3 });
    expect(r.ok && r.value.definition.steps[0].parameters.limit).toBe(3);
  });

  it('names unknown variables and wrong types', () => {
    const r = bindVariables(library.get('approval')!, { nope: 1, approver: 5 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.field).sort()).toEqual(['variables.approver', 'variables.nope']);
  });
});
