import type { ExpressionNode } from './ast';
import { isTemplate, parseCondition, parseTemplate } from './parse-template';

export interface StepReference {
  stepId: string;
  /** The StepView field read (`result`, `status`...), when the path goes past the step id. */
  field?: string;
  /** Offset of the reference in the template. */
  position: number;
}

export interface TemplateReferences {
  /** Every `steps.<id>` read, in order of appearance (an id may appear several times). */
  steps: StepReference[];
  /** Distinct names read under `input` (`input.repo` → `repo`). */
  inputs: string[];
  /** Every top-level name used (`input`, `steps`, or a mistake such as `repo`). */
  names: Array<{ name: string; position: number }>;
  /** Positions where `steps` is used whole or indexed by a computed key: not checkable. */
  dynamicStepAccess: number[];
  /** Same for `input`: a computed key (`input[steps.a.result.key]`). */
  dynamicInputAccess: number[];
}

/** `template`: a parameter string with `{{ }}` parts; `condition`: a step condition. */
export type TemplateKind = 'template' | 'condition';

type Segment = { key: string; position: number } | { dynamic: ExpressionNode; position: number };

/**
 * Lists what a template or condition reads, without evaluating it. Throws TemplateError when it
 * does not parse. Used by validation (ancestry of step references) and by the generator.
 */
export function analyzeTemplate(source: string, kind: TemplateKind = 'template'): TemplateReferences {
  const refs: TemplateReferences = { steps: [], inputs: [], names: [], dynamicStepAccess: [], dynamicInputAccess: [] };
  const inputs = new Set<string>();
  if (kind === 'condition') {
    visit(parseCondition(source).node, refs, inputs);
  } else if (isTemplate(source)) {
    for (const part of parseTemplate(source).parts) if (part.kind === 'expression') visit(part.node, refs, inputs);
  }
  refs.inputs = [...inputs];
  return refs;
}

/** The distinct step ids a template (or condition) reads through `steps.<id>`. */
export function extractStepReferences(source: string, kind: TemplateKind = 'template'): string[] {
  return [...new Set(analyzeTemplate(source, kind).steps.map((ref) => ref.stepId))];
}

/** Recursion is bounded by the parser's MAX_AST_DEPTH. */
function visit(node: ExpressionNode, refs: TemplateReferences, inputs: Set<string>): void {
  switch (node.kind) {
    case 'literal':
      return;
    case 'identifier':
    case 'member':
    case 'index':
      return visitPath(node, refs, inputs);
    case 'unary':
      return visit(node.argument, refs, inputs);
    case 'comparison':
    case 'logical':
      visit(node.left, refs, inputs);
      return visit(node.right, refs, inputs);
    case 'conditional':
      visit(node.test, refs, inputs);
      visit(node.consequent, refs, inputs);
      return visit(node.alternate, refs, inputs);
    case 'filter':
      visit(node.input, refs, inputs);
      for (const arg of node.args) visit(arg, refs, inputs);
      return;
  }
}

/** Flattens `root.a[expr].b` into its root and segments, then records what the path reads. */
function visitPath(node: ExpressionNode, refs: TemplateReferences, inputs: Set<string>): void {
  const segments: Segment[] = [];
  let current = node;
  while (current.kind === 'member' || current.kind === 'index') {
    if (current.kind === 'member') {
      segments.push({ key: current.property, position: current.object.end });
    } else {
      segments.push({ dynamic: current.index, position: current.index.start });
      visit(current.index, refs, inputs);
    }
    current = current.object;
  }
  segments.reverse();
  if (current.kind !== 'identifier') {
    visit(current, refs, inputs);
    return;
  }
  refs.names.push({ name: current.name, position: current.start });
  const [first, second] = segments;
  if (current.name === 'steps') {
    if (first === undefined || !('key' in first)) {
      refs.dynamicStepAccess.push(first?.position ?? current.start);
      return;
    }
    const field = second !== undefined && 'key' in second ? second.key : undefined;
    refs.steps.push({ stepId: first.key, field, position: current.start });
  } else if (current.name === 'input' && first !== undefined) {
    if ('key' in first) inputs.add(first.key);
    else refs.dynamicInputAccess.push(first.position);
  }
}
