import { isForbiddenKey } from '../limits';
import type { ExpressionNode } from './ast';
import type { TemplateContext } from './template-context';
import { applyFilter } from './filters';
import { TemplateError } from './template-error';
import { FilterFailure, NOT_FOUND, NOT_PLAIN, deepEqual, isPlainObject, isTruthy, kindOf, readOwn } from './values';

/**
 * Evaluates a parsed expression. Recursion depth is bounded by the parser's MAX_AST_DEPTH.
 * `source` is the template the node positions refer to (for error messages and paths).
 */
export function evaluateNode(node: ExpressionNode, context: TemplateContext, source: string): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'identifier': {
      if (!isPlainObject(context)) throw typeError('the template context must be a plain object', node, source);
      return found(readOwn(context, node.name), node, source);
    }
    case 'member':
      return found(readOwn(evaluateNode(node.object, context, source), node.property), node, source);
    case 'index': {
      const container = evaluateNode(node.object, context, source);
      const key = evaluateNode(node.index, context, source);
      if (typeof key === 'string') {
        if (isForbiddenKey(key)) {
          throw new TemplateError('forbidden_name', `"${key}" is not allowed as a key (it could reach an object prototype)`, {
            expression: source,
            position: node.index.start,
          });
        }
      } else if (typeof key !== 'number') {
        throw typeError(`a key must be a string or a number, got ${kindOf(key)}`, node.index, source);
      }
      return found(readOwn(container, key), node, source);
    }
    case 'unary': {
      const value = evaluateNode(node.argument, context, source);
      if (node.operator === '!') return !isTruthy(value);
      if (typeof value !== 'number') throw typeError(`"-" expects a number, got ${kindOf(value)}`, node, source);
      return -value;
    }
    case 'logical': {
      const left = evaluateNode(node.left, context, source);
      const decided = node.operator === '&&' ? !isTruthy(left) : isTruthy(left);
      return decided ? left : evaluateNode(node.right, context, source);
    }
    case 'conditional':
      return isTruthy(evaluateNode(node.test, context, source))
        ? evaluateNode(node.consequent, context, source)
        : evaluateNode(node.alternate, context, source);
    case 'comparison':
      return compare(node.operator, evaluateNode(node.left, context, source), evaluateNode(node.right, context, source), node, source);
    case 'filter': {
      if (node.name === 'default') {
        const value = valueOrMissing(node.input, context, source);
        return value === NOT_FOUND || value === null ? evaluateNode(node.args[0], context, source) : value;
      }
      const input = evaluateNode(node.input, context, source);
      const args = node.args.map((arg) => evaluateNode(arg, context, source));
      const out = applyFilter(node.name, input, args);
      if (out instanceof FilterFailure) throw failure(out, node, source);
      return out;
    }
  }
}

/** Evaluates `node`, turning a missing value (only) into NOT_FOUND: what `default` needs. */
function valueOrMissing(node: ExpressionNode, context: TemplateContext, source: string): unknown {
  try {
    return evaluateNode(node, context, source);
  } catch (err) {
    if (err instanceof TemplateError && err.code === 'missing_value') return NOT_FOUND;
    throw err;
  }
}

function found(value: unknown, node: ExpressionNode, source: string): unknown {
  if (value === NOT_FOUND) {
    const path = source.slice(node.start, node.end);
    throw new TemplateError('missing_value', `no value at ${path} (add "| default(...)" if it is optional)`, {
      expression: source,
      position: node.start,
      path,
    });
  }
  if (value === NOT_PLAIN) throw typeError('only plain objects and arrays can be read from', node, source);
  return value;
}

function compare(operator: string, left: unknown, right: unknown, node: ExpressionNode, source: string): boolean {
  if (operator === '==' || operator === '!=') {
    const equal = deepEqual(left, right);
    if (equal instanceof FilterFailure) throw failure(equal, node, source);
    return operator === '==' ? equal : !equal;
  }
  const comparable = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) throw typeError(`cannot compare ${kindOf(left)} with ${kindOf(right)} using "${operator}"`, node, source);
  const a = left as number | string;
  const b = right as number | string;
  switch (operator) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function typeError(message: string, node: ExpressionNode, source: string): TemplateError {
  return new TemplateError('type_error', message, { expression: source, position: node.start });
}

function failure(out: FilterFailure, node: ExpressionNode, source: string): TemplateError {
  if (out.code === 'missing_value') {
    const path = source.slice(node.start, node.end);
    return new TemplateError('missing_value', out.message, { expression: source, position: node.start, path });
  }
  return typeError(out.message, node, source);
}
