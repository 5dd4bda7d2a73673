import type { FieldIssue } from '@toolpath/contracts';
import { matchesDeclaredType, validateWorkflow, type WorkflowDefinition } from '@toolpath/workflow';

export interface BoundDefinition {
  definition: WorkflowDefinition;
  /** Variables whose values are now part of the definition (no longer run inputs). */
  bound: string[];
  /** Bound variables an expression still reads with a sub-path; they stay run inputs. */
  stillInputs: string[];
}

export type BindResult = { ok: true; value: BoundDefinition } | { ok: false; issues: FieldIssue[] };

type Json = unknown;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The value as a literal of the template expression language, or undefined when it has none. */
function expressionLiteral(value: Json): string | undefined {
  if (typeof value === 'string') {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean' || value === null) return String(value);
  return undefined;
}

/**
 * Substitutes bound variables into one string of a definition:
 * - a string that is exactly `{{ input.x }}` becomes the value itself (its JSON type kept);
 * - elsewhere `input.x` inside an expression becomes a literal (`'text'`, `42`, `true`), so a
 *   value is never spliced into template text, where `{{` in it would turn into code.
 */
class Substituter {
  private readonly whole: Map<string, RegExp> = new Map();
  private readonly inner: Array<{ name: string; re: RegExp; literal: string | undefined }> = [];
  private readonly remaining: Map<string, RegExp> = new Map();

  constructor(private readonly values: Record<string, Json>) {
    for (const [name, value] of Object.entries(values)) {
      const n = escapeRegex(name);
      this.whole.set(name, new RegExp(`^\\{\\{\\s*input\\.${n}\\s*\\}\\}$`));
      // Not part of a longer name, and not followed by a sub-path or a call.
      this.inner.push({ name, re: new RegExp(`(?<![\\w.$-])input\\.${n}(?![\\w-])(?!\\s*[.\\[(])`, 'g'), literal: expressionLiteral(value) });
      this.remaining.set(name, new RegExp(`(?<![\\w.$-])input\\.${n}(?![\\w-])`));
    }
  }

  template(text: string): Json {
    for (const [name, re] of this.whole) {
      if (!re.test(text)) continue;
      const value = this.values[name];
      // A string holding `{{` would become a template of its own: keep it a literal instead.
      if (typeof value === 'string' && value.includes('{{')) return `{{ ${expressionLiteral(value)} }}`;
      return structuredClone(value);
    }
    if (!text.includes('{{')) return text;
    return text.replace(/\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => `{{${this.expression(expr)}}}`);
  }

  expression(expr: string): string {
    let out = expr;
    for (const { re, literal } of this.inner) if (literal !== undefined) out = out.replace(re, literal);
    return out;
  }

  walk(value: Json): Json {
    if (typeof value === 'string') return this.template(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: this.walk(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  }

  /** Bound names still read somewhere in `text` (a JSON dump of the result). */
  stillRead(text: string): string[] {
    return [...this.remaining].filter(([, re]) => re.test(text)).map(([name]) => name);
  }
}

/**
 * Binds values to a definition's declared variables: each must be declared in `variables` and
 * match its `type` (and `enum`). The result is validated again; variables no expression reads any
 * more leave `variables` (they are part of the definition now), the others stay run inputs with
 * the bound value as their `default`.
 */
export function bindVariables(definition: WorkflowDefinition, values: Record<string, Json>): BindResult {
  const declared = definition.variables?.properties ?? {};
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(values)) {
    const schema = declared[name];
    if (!Object.hasOwn(declared, name) || schema === undefined) {
      issues.push({ field: `variables.${name}`, message: `is not a variable of this template (it has: ${Object.keys(declared).join(', ') || 'none'})` });
      continue;
    }
    if (value === undefined || !matchesDeclaredType(value, schema.type)) {
      issues.push({ field: `variables.${name}`, message: `must be ${JSON.stringify(schema.type)}` });
      continue;
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
      issues.push({ field: `variables.${name}`, message: `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const sub = new Substituter(values);
  const steps = definition.steps.map((step) => ({
    ...step,
    parameters: sub.walk(step.parameters) as Record<string, Json>,
    ...(step.condition !== undefined ? { condition: sub.expression(step.condition) } : {}),
    ...(step.compensate ? { compensate: { ...step.compensate, parameters: sub.walk(step.compensate.parameters) as Record<string, Json> } } : {}),
  }));
  const stillInputs = sub.stillRead(JSON.stringify(steps));
  const bound = Object.keys(values).filter((n) => !stillInputs.includes(n));
  let variables = definition.variables;
  if (variables) {
    const properties: Record<string, Record<string, Json>> = {};
    for (const [name, schema] of Object.entries(variables.properties ?? {})) {
      if (bound.includes(name)) continue;
      properties[name] = stillInputs.includes(name) ? { ...schema, default: values[name] } : schema;
    }
    const required = (variables.required ?? []).filter((n) => !bound.includes(n) && !stillInputs.includes(n));
    variables = { ...variables, properties, required };
  }
  const result = validateWorkflow({ ...definition, steps, ...(variables ? { variables } : {}) });
  if (!result.ok) return { ok: false, issues: result.errors.map((e) => ({ field: e.field, message: e.message })) };
  return { ok: true, value: { definition: result.workflow, bound, stillInputs } };
}
