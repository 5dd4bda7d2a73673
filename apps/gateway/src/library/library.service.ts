import { Injectable } from '@nestjs/common';
import { MISSING_TOOL_PREFIX, type GenerationConstraints, type GenerationView } from '@toolpath/contracts';
import { ApiError } from '@toolpath/platform';
import { TemplateLibrary, bindVariables, summarizeTemplate, type TemplateSummary, type WorkflowTemplate } from '@toolpath/templates';
import { toolsOfWorkflow, workflowCard, type WorkflowCard, type WorkflowDefinition } from '@toolpath/workflow';
import { WorkflowReader } from '@toolpath/workflow-store';
import { WorkflowRepository, workflowView, type StoredWorkflow } from '../workflows/workflow.repository';
import { requireValidDefinition } from '../workflows/workflows.service';
import { GeneratorClient } from './generator.client';
import type { ApplyBody, InstantiateBody, ListTemplatesQuery, SearchWorkflowsQuery } from './library.schemas';

/** Newest catalog workflows a search reads at most (the rest is reported as `truncated`). */
const SEARCH_SCAN_LIMIT = 10_000;

export interface TemplateList {
  items: TemplateSummary[];
  nextCursor: null;
  /** Every category with its number of templates (before the filters). */
  categories: Array<{ category: string; count: number }>;
}

export interface SearchHit extends WorkflowCard {
  kind: 'workflow' | 'template';
  version?: number;
  updatedAt?: string;
  templateId?: string;
  generationId?: string;
  /** Text relevance (0 without `q`). */
  score: number;
  /** The requested tools this workflow calls, and their share. */
  matchedTools: string[];
  coverage: number | null;
}

export interface SearchPage {
  items: SearchHit[];
  nextCursor: null;
  /** True when the catalog had more workflows than a search reads (the newest were searched). */
  truncated: boolean;
}

export interface AppliedDraft {
  id: string;
  generationId?: string;
  workflow: StoredWorkflow;
  warnings: string[];
}

const termsOf = (q: string) => [...new Set(q.toLowerCase().split(/[\s,;:!?()"']+/).filter((t) => t.length >= 2))];

/** Text score of one document: name and tag hits weigh more than description hits. */
function textScore(doc: Pick<SearchHit, 'name' | 'description' | 'category' | 'tags' | 'tools'>, terms: string[]): number {
  if (terms.length === 0) return 0;
  const name = doc.name.toLowerCase();
  const description = doc.description.toLowerCase();
  const category = (doc.category ?? '').toLowerCase();
  const tags = doc.tags.map((t) => t.toLowerCase());
  const tools = doc.tools.map((t) => t.toLowerCase());
  let score = 0;
  for (const t of terms) {
    if (name.includes(t)) score += 3;
    if (tags.some((tag) => tag.includes(t))) score += 2;
    if (category.includes(t)) score += 2;
    if (tools.some((tool) => tool.includes(t))) score += 1.5;
    if (description.includes(t)) score += 1;
  }
  return score;
}

/** The built-in templates, instantiation, search over the catalog, and applying generated drafts. */
@Injectable()
export class LibraryService {
  private readonly templates = TemplateLibrary.load();

  constructor(
    private readonly repo: WorkflowRepository,
    private readonly catalog: WorkflowReader,
    private readonly generator: GeneratorClient,
  ) {}

  listTemplates(q: ListTemplatesQuery): TemplateList {
    const terms = q.q ? termsOf(q.q) : [];
    const items = this.templates
      .list(q.category)
      .map(summarizeTemplate)
      .filter((t) => (q.tool ? t.tools.includes(q.tool) : true))
      .filter((t) => terms.length === 0 || textScore(t, terms) > 0);
    const counts = new Map<string, number>();
    for (const t of this.templates.list()) counts.set(t.category, (counts.get(t.category) ?? 0) + 1);
    return { items, nextCursor: null, categories: [...counts].map(([category, count]) => ({ category, count })) };
  }

  getTemplate(id: string): WorkflowTemplate & { summary: TemplateSummary } {
    const t = this.templates.get(id);
    if (!t) throw new ApiError(404, `no template "${id}"`, [{ field: 'id', message: 'unknown template' }]);
    return { ...t, summary: summarizeTemplate(t) };
  }

  /** A copy of a template in the tenant's catalog, variables bound, source "template", template id kept. */
  async instantiate(tenantId: string, id: string, body: InstantiateBody): Promise<StoredWorkflow> {
    const t = this.getTemplate(id);
    const { summary: _s, ...template } = t;
    const bound = bindVariables(template, body.variables);
    if (!bound.ok) throw new ApiError(400, `cannot bind the variables of template "${id}": ${bound.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, bound.issues);
    const { id: _templateId, ...definition } = bound.value.definition;
    const copy: WorkflowDefinition = {
      ...definition,
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      source: 'template',
    };
    const valid = requireValidDefinition(copy);
    return workflowView(await this.repo.create(tenantId, valid, { templateId: id }));
  }

  async searchWorkflows(tenantId: string, q: SearchWorkflowsQuery): Promise<SearchPage> {
    const wanted = [...new Set([...(q.tool ? [q.tool] : []), ...(q.tools ?? [])])];
    const terms = q.q ? termsOf(q.q) : [];
    const { items: rows, truncated } = await this.catalog.summaries(
      tenantId,
      { ...(q.category ? { category: q.category } : {}), ...(q.tag ? { tag: q.tag } : {}), ...(q.source ? { source: q.source } : {}), ...(q.tool ? { tool: q.tool } : {}) },
      SEARCH_SCAN_LIMIT,
    );
    const docs: Array<Omit<SearchHit, 'score' | 'matchedTools' | 'coverage'>> = rows.map(({ origin, ...summary }) => ({ kind: 'workflow', ...summary, ...origin }));
    if (q.includeTemplates && (q.source === undefined || q.source === 'template')) {
      for (const t of this.templates.list(q.category)) {
        const s = summarizeTemplate(t);
        if (q.tag && !s.tags.includes(q.tag)) continue;
        docs.push({ kind: 'template', ...workflowCard(t.id, t, toolsOfWorkflow(t)) });
      }
    }
    const hits: SearchHit[] = [];
    for (const d of docs) {
      const score = textScore(d, terms);
      if (terms.length > 0 && score === 0) continue;
      const matchedTools = wanted.filter((t) => d.tools.includes(t));
      if (wanted.length > 0 && (q.match === 'all' ? matchedTools.length < wanted.length : matchedTools.length === 0)) continue;
      hits.push({ ...d, score, matchedTools, coverage: wanted.length > 0 ? matchedTools.length / wanted.length : null });
    }
    hits.sort((a, b) => (b.coverage ?? 0) - (a.coverage ?? 0) || b.score - a.score || (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
    return { items: hits.slice(0, q.limit), nextCursor: null, truncated };
  }

  generate(tenantId: string, prompt: string, constraints?: GenerationConstraints): Promise<GenerationView> {
    return this.generator.generate({ tenantId, prompt, ...(constraints ? { constraints } : {}) });
  }

  /** Stores a draft in the catalog (source "generated"): a stored generation's, or one given (edited) by the caller. */
  async apply(tenantId: string, body: ApplyBody): Promise<AppliedDraft> {
    let raw: unknown;
    let generationId: string | undefined;
    if (body.generationId !== undefined) {
      const g = await this.generator.get({ tenantId, generationId: body.generationId });
      if (g.status !== 'ok') {
        throw new ApiError(409, `generation "${body.generationId}" failed (${g.error?.message ?? 'no draft'}); there is nothing to apply`, [{ field: 'generationId', message: 'failed generation' }]);
      }
      raw = g.workflow;
      generationId = g.id;
    } else {
      raw = body.workflow;
    }
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      const { id: _id, ...rest } = raw as Record<string, unknown>;
      raw = { ...rest, source: 'generated' };
    }
    const definition = requireValidDefinition(raw, 'workflow');
    const row = await this.repo.create(tenantId, definition, generationId ? { generationId } : undefined);
    const missing = definition.steps.filter((s) => s.tool.startsWith(MISSING_TOOL_PREFIX) || s.compensate?.tool.startsWith(MISSING_TOOL_PREFIX));
    const warnings = missing.length
      ? [`steps ${missing.map((s) => s.id).join(', ')} call tools that do not exist yet ("${MISSING_TOOL_PREFIX}…"); runs fail at those steps until the tools are built and the steps edited`]
      : [];
    return { id: row.id, ...(generationId ? { generationId } : {}), workflow: workflowView(row), warnings };
  }
}
