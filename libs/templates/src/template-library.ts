import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolsOfWorkflow, validateWorkflow, type WorkflowCard, type WorkflowDefinition } from '@toolpath/workflow';

/** Where the built-in templates live: `libs/templates/templates/*.json` (beside src/ and dist/). */
export const BUILTIN_TEMPLATES_DIR = join(__dirname, '..', 'templates');

/** A template: a valid workflow definition (source "template") with an id and a category. */
export type WorkflowTemplate = WorkflowDefinition & { id: string; category: string };

/** A template as listings show it: its card (always source "template", so not repeated) with the variables a reader chooses by. */
export interface TemplateSummary extends Omit<WorkflowCard, 'source' | 'category'> {
  category: string;
  variables: string[];
  requiredVariables: string[];
  steps: number;
}

const TEMPLATE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export class TemplateLoadError extends Error {
  constructor(file: string, problem: string) {
    super(`template ${file}: ${problem}`);
    this.name = 'TemplateLoadError';
  }
}

export function summarizeTemplate(t: WorkflowTemplate): TemplateSummary {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    category: t.category,
    tags: t.tags ?? [],
    tools: toolsOfWorkflow(t),
    variables: Object.keys(t.variables?.properties ?? {}),
    requiredVariables: t.variables?.required ?? [],
    steps: t.steps.length,
  };
}

/**
 * The built-in templates, loaded once. A template that is not a valid definition, lacks an id or
 * a category, or repeats an id fails the load naming its file: a broken template is a bug in the
 * repository, found at start-up and by the tests, never at a user's request.
 */
export class TemplateLibrary {
  private readonly byId: ReadonlyMap<string, WorkflowTemplate>;

  constructor(templates: WorkflowTemplate[]) {
    this.byId = new Map(templates.map((t) => [t.id, t]));
  }

  static load(dir = BUILTIN_TEMPLATES_DIR): TemplateLibrary {
    const templates: WorkflowTemplate[] = [];
    const seen = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (err) {
        throw new TemplateLoadError(file, `not JSON: ${(err as Error).message}`);
      }
      const result = validateWorkflow(raw);
      if (!result.ok) throw new TemplateLoadError(file, result.errors.map((e) => e.message).join('; '));
      const t = result.workflow;
      if (t.id === undefined || !TEMPLATE_ID.test(t.id)) throw new TemplateLoadError(file, `"id" must match ${TEMPLATE_ID}`);
      if (t.category === undefined) throw new TemplateLoadError(file, '"category" is required');
      if (t.source !== 'template') throw new TemplateLoadError(file, '"source" must be "template"');
      if (seen.has(t.id)) throw new TemplateLoadError(file, `id "${t.id}" is used by another template`);
      seen.add(t.id);
      templates.push(t as WorkflowTemplate);
    }
    return new TemplateLibrary(templates);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): WorkflowTemplate | undefined {
    return this.byId.get(id);
  }

  /** Every template (optionally of one category), by category then id. */
  list(category?: string): WorkflowTemplate[] {
    const all = [...this.byId.values()].filter((t) => category === undefined || t.category === category);
    return all.sort((a, b) => a.category.localeCompare(b.category) || a.id.localeCompare(b.id));
  }

  categories(): string[] {
    return [...new Set([...this.byId.values()].map((t) => t.category))].sort();
  }
}
