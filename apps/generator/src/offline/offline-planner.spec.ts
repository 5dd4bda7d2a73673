import { TemplateLibrary } from '@toolpath/templates';
import type { WorkflowDefinition } from '@toolpath/workflow';
import { CatalogSnapshot } from '../catalog/catalog-snapshots';
import { ToolSet } from '../tools/tool-catalog';
import { TemplateIndex, planOffline } from './offline-planner';

function plan(prompt: string) {
  return planOffline({
    prompt,
    tools: new ToolSet([], Date.now()),
    catalog: new CatalogSnapshot([], Date.now(), false),
    templates: new TemplateIndex(TemplateLibrary.load().list()),
  });
}

describe('planOffline', () => {
  it('composes built-in tools in the order the prompt tells them, in everyday words', () => {
    const result = plan('wait 2 seconds then fetch https://example.com');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const def = result.draft.workflow as WorkflowDefinition;
    expect(def.steps.map((s) => s.tool)).toEqual(['core.delay', 'http.request']);
    expect(def.steps[1].dependsOn).toEqual([def.steps[0].id]);
  });

  it('says why when nothing matches', () => {
    const result = plan('zzqx vvbn');
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/no workflow, template or tool matches/) });
  });
});
