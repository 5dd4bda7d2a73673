import type { ExpressionNode } from './ast';
import { parseExpressionAt } from './parser';
import { TemplateError } from './template-error';

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expression'; node: ExpressionNode };

export interface ParsedTemplate {
  source: string;
  parts: TemplatePart[];
  /** The whole string is one `{{ expr }}`: rendering keeps the expression's type. */
  single: boolean;
}

const OPEN = '{{';
const CACHE_LIMIT = 1000;
const CACHEABLE_LENGTH = 4096;
const cache = new Map<string, ParsedTemplate>();

function remember<T extends ParsedTemplate>(source: string, parsed: T): T {
  if (source.length <= CACHEABLE_LENGTH) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(source, parsed);
  }
  return parsed;
}

/**
 * Splits a string into literal text and `{{ expression }}` parts. Text outside `{{ }}` is
 * literal, including a lone `}}`; to produce a literal `{{`, write `{{ '{{' }}`. Parsed
 * templates are cached (bounded), since the executor renders the same ones on every run.
 */
export function parseTemplate(source: string): ParsedTemplate {
  const cached = cache.get(source);
  if (cached !== undefined) return cached;
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf(OPEN, pos);
    if (open === -1) {
      parts.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: source.slice(pos, open) });
    const { node, end } = parseExpressionAt(source, open + OPEN.length, 'template');
    parts.push({ kind: 'expression', node });
    pos = end;
  }
  const single = parts.length === 1 && parts[0].kind === 'expression';
  return remember(source, { source, parts, single });
}

/** True when a string contains `{{` and so is rendered rather than passed through. */
export function isTemplate(value: string): boolean {
  return value.includes(OPEN);
}

export interface ParsedCondition {
  source: string;
  node: ExpressionNode;
}

const conditionCache = new Map<string, ParsedCondition>();

/**
 * A condition is one expression: either bare (`steps.a.result.ok == true`) or wrapped whole in
 * `{{ }}`. Text mixed with `{{ }}` is refused: interpolating values into a condition and then
 * parsing the result would let data rewrite the condition.
 */
export function parseCondition(source: string): ParsedCondition {
  const cached = conditionCache.get(source);
  if (cached !== undefined) return cached;
  let node: ExpressionNode;
  const leading = source.length - source.trimStart().length;
  if (source.startsWith(OPEN, leading)) {
    const { node: inner, end } = parseExpressionAt(source, leading + OPEN.length, 'template');
    if (source.slice(end).trim() !== '') {
      throw new TemplateError('syntax', 'a condition is one expression: write "a == b" or "{{ a == b }}", not text mixed with {{ }}', {
        expression: source,
        position: end,
      });
    }
    node = inner;
  } else {
    const { node: bare } = parseExpressionAt(source, 0, 'expression');
    node = bare;
  }
  const parsed = { source, node };
  if (source.length <= CACHEABLE_LENGTH) {
    if (conditionCache.size >= CACHE_LIMIT) conditionCache.delete(conditionCache.keys().next().value as string);
    conditionCache.set(source, parsed);
  }
  return parsed;
}
