import { formatPath } from '@toolpath/contracts';
import { MAX_RENDER_DEPTH, isForbiddenKey } from '../limits';
import { evaluateNode } from './evaluate';
import { isTemplate, parseCondition, parseTemplate } from './parse-template';
import { parseExpressionAt } from './parser';
import type { TemplateContext } from './template-context';
import { TemplateError } from './template-error';
import { FilterFailure, isPlainObject, isTruthy, toText } from './values';

/**
 * Renders one string. Exactly one `{{ expr }}` and nothing else (not even spaces) keeps the
 * value's type (`"{{ steps.a.result }}"` gives the object); otherwise each expression is
 * turned into text (strings as they are, other values JSON-encoded) and concatenated.
 */
export function renderTemplate(template: string, context: TemplateContext): unknown {
  if (!isTemplate(template)) return template;
  const parsed = parseTemplate(template);
  if (parsed.single) {
    const [part] = parsed.parts;
    if (part.kind === 'expression') return evaluateNode(part.node, context, template);
  }
  let out = '';
  for (const part of parsed.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const text = toText(evaluateNode(part.node, context, template), false);
    if (text instanceof FilterFailure) {
      throw new TemplateError('type_error', text.message, { expression: template, position: part.node.start });
    }
    out += text;
  }
  return out;
}

/**
 * Renders every string inside `parameters` (object values and array items, at any depth up to
 * MAX_RENDER_DEPTH) and returns a new structure; keys are not templated. A TemplateError
 * carries `field`, the parameter path where it happened.
 */
export function renderParameters(parameters: Readonly<Record<string, unknown>>, context: TemplateContext): Record<string, unknown> {
  const path: Array<string | number> = [];
  const rendered = renderValue(parameters, context, path);
  return rendered as Record<string, unknown>;
}

function renderValue(value: unknown, context: TemplateContext, path: Array<string | number>): unknown {
  if (typeof value === 'string') {
    try {
      return renderTemplate(value, context);
    } catch (err) {
      if (err instanceof TemplateError) throw err.withField(formatPath(path));
      throw err;
    }
  }
  if (typeof value !== 'object' || value === null) return value;
  if (path.length >= MAX_RENDER_DEPTH) {
    throw new TemplateError('too_deep', `parameters are nested deeper than ${MAX_RENDER_DEPTH} levels`, {
      expression: '',
      field: formatPath(path),
    });
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out[i] = renderValue(value[i], context, path);
      path.pop();
    }
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    path.push(key);
    if (isForbiddenKey(key)) {
      throw new TemplateError('forbidden_name', `parameter key "${key}" is not allowed (it could reach an object prototype)`, {
        expression: key,
        field: formatPath(path),
      });
    }
    out[key] = renderValue(value[key], context, path);
    path.pop();
  }
  return out;
}

/** Evaluates a bare expression (no `{{ }}`), keeping its type. */
export function evaluateExpression(expression: string, context: TemplateContext): unknown {
  const { node } = parseExpressionAt(expression, 0, 'expression');
  return evaluateNode(node, context, expression);
}

/**
 * Evaluates a step condition (a bare expression or one whole `{{ expr }}`) to a boolean by
 * truthiness: `false`, `null`, `0`, `NaN`, `''`, `[]` and `{}` are false, everything else is
 * true. A missing value is a TemplateError, not false: write `x | default(false)` for optional data.
 */
export function evaluateCondition(condition: string, context: TemplateContext): boolean {
  const { node } = parseCondition(condition);
  return isTruthy(evaluateNode(node, context, condition));
}
