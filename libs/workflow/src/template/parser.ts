import { MAX_AST_DEPTH, isForbiddenKey } from '../limits';
import type { ComparisonOperator, ExpressionNode } from './ast';
import { FILTER_ARITY, isFilterName } from './filters';
import { Lexer, type LexMode, type Token } from './lexer';
import { TemplateError } from './template-error';

type BinaryOperator = ComparisonOperator | '&&' | '||' | '|';

/**
 * Binding powers, loosest first. Filters bind tighter than everything but member access, and
 * tighter than `!`/`not` (as in Jinja), so `count | default(0) > 3` and `not items | length`
 * read as `(count | default(0)) > 3` and `not (items | length)`.
 */
const PRECEDENCE: Record<BinaryOperator, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '|': 5,
};
const FILTER_PRECEDENCE = PRECEDENCE['|'];
const KEYWORD_OPERATORS: Record<string, BinaryOperator> = { and: '&&', or: '||' };
const RESERVED = new Set(['and', 'or', 'not', 'true', 'false', 'null']);

export interface ParsedExpression {
  node: ExpressionNode;
  /** Offset just past the expression: after `}}` in a template, the string's end otherwise. */
  end: number;
}

/**
 * A Pratt parser over the whitelist of node types in `ast.ts`. Recursion is bounded by
 * MAX_AST_DEPTH (nesting of parentheses, unary operators, ternaries, filter arguments) and
 * every node records its depth, so left-deep chains (`a or b or c ...`) are bounded too.
 */
class Parser {
  private token: Token;
  private nesting = 0;

  constructor(
    private readonly source: string,
    private readonly lexer: Lexer,
    private readonly mode: LexMode,
    private readonly exprStart: number,
  ) {
    this.token = lexer.next();
  }

  parse(): ParsedExpression {
    const closing = this.mode === 'template' ? 'close' : 'eof';
    if (this.token.type === closing) throw this.syntax('empty expression', this.exprStart);
    const node = this.expression();
    if (this.token.type !== closing) {
      throw this.syntax(`unexpected ${this.describe(this.token)}${closing === 'close' ? ', expected "}}"' : ''}`, this.token.start);
    }
    return { node, end: this.token.end };
  }

  /** expression := logical ('?' expression ':' expression)? */
  private expression(): ExpressionNode {
    this.enter(this.token.start);
    const test = this.binary(1);
    let result = test;
    if (this.isPunct('?')) {
      this.advance();
      const consequent = this.expression();
      this.expect(':');
      const alternate = this.expression();
      result = this.node({ kind: 'conditional', test, consequent, alternate, start: test.start, end: alternate.end, depth: 0 }, test, consequent, alternate);
    }
    this.nesting--;
    return result;
  }

  private binary(minPrecedence: number): ExpressionNode {
    let left = this.unary();
    for (;;) {
      const operator = this.binaryOperator();
      if (operator === undefined || PRECEDENCE[operator] < minPrecedence) return left;
      this.advance();
      if (operator === '|') {
        left = this.filter(left);
        continue;
      }
      const right = this.binary(PRECEDENCE[operator] + 1);
      left =
        operator === '&&' || operator === '||'
          ? this.node({ kind: 'logical', operator, left, right, start: left.start, end: right.end, depth: 0 }, left, right)
          : this.node({ kind: 'comparison', operator, left, right, start: left.start, end: right.end, depth: 0 }, left, right);
    }
  }

  private binaryOperator(): BinaryOperator | undefined {
    const t = this.token;
    if (t.type === 'punct' && Object.prototype.hasOwnProperty.call(PRECEDENCE, t.text)) return t.text as BinaryOperator;
    if (t.type === 'name' && Object.prototype.hasOwnProperty.call(KEYWORD_OPERATORS, t.text)) return KEYWORD_OPERATORS[t.text];
    return undefined;
  }

  private filter(input: ExpressionNode): ExpressionNode {
    const nameToken = this.token;
    if (nameToken.type !== 'name') throw this.syntax(`expected a filter name after "|", got ${this.describe(nameToken)}`, nameToken.start);
    if (!isFilterName(nameToken.text)) {
      throw this.syntax(`unknown filter "${nameToken.text}" (known: ${Object.keys(FILTER_ARITY).join(', ')})`, nameToken.start);
    }
    const name = nameToken.text;
    this.advance();
    const args: ExpressionNode[] = [];
    let end = nameToken.end;
    if (this.isPunct('(')) {
      this.advance();
      if (!this.isPunct(')')) {
        for (;;) {
          args.push(this.expression());
          if (!this.isPunct(',')) break;
          this.advance();
        }
      }
      end = this.expect(')').end;
    }
    const [min, max] = FILTER_ARITY[name];
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : `${min} to ${max}`;
      throw this.syntax(`filter "${name}" takes ${wanted} argument${max === 1 ? '' : 's'}, got ${args.length}`, nameToken.start);
    }
    return this.node({ kind: 'filter', name, input, args, start: input.start, end, depth: 0 }, input, ...args);
  }

  private unary(): ExpressionNode {
    const t = this.token;
    const isNot = (t.type === 'punct' && t.text === '!') || (t.type === 'name' && t.text === 'not');
    const isMinus = t.type === 'punct' && t.text === '-';
    if (!isNot && !isMinus) return this.postfix(this.primary());
    this.enter(t.start);
    this.advance();
    const argument = this.binary(FILTER_PRECEDENCE);
    this.nesting--;
    if (isMinus && argument.kind === 'literal' && typeof argument.value === 'number') {
      return { kind: 'literal', value: -argument.value, start: t.start, end: argument.end, depth: 1 };
    }
    return this.node({ kind: 'unary', operator: isNot ? '!' : '-', argument, start: t.start, end: argument.end, depth: 0 }, argument);
  }

  private primary(): ExpressionNode {
    const t = this.token;
    switch (t.type) {
      case 'number':
        this.advance();
        return { kind: 'literal', value: t.number as number, start: t.start, end: t.end, depth: 1 };
      case 'string':
        this.advance();
        return { kind: 'literal', value: t.text, start: t.start, end: t.end, depth: 1 };
      case 'name': {
        this.advance();
        if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true', start: t.start, end: t.end, depth: 1 };
        if (t.text === 'null') return { kind: 'literal', value: null, start: t.start, end: t.end, depth: 1 };
        if (RESERVED.has(t.text)) throw this.syntax(`unexpected keyword "${t.text}"`, t.start);
        this.checkName(t.text, t.start);
        return { kind: 'identifier', name: t.text, start: t.start, end: t.end, depth: 1 };
      }
      case 'punct':
        if (t.text === '(') {
          this.enter(t.start);
          this.advance();
          const inner = this.expression();
          const close = this.expect(')');
          this.nesting--;
          return { ...inner, start: t.start, end: close.end };
        }
        break;
      case 'member':
        throw this.syntax(`unexpected ".${t.text}": a path starts with a name such as input or steps`, t.start);
      default:
        break;
    }
    throw this.syntax(`unexpected ${this.describe(t)}`, t.start);
  }

  private postfix(base: ExpressionNode): ExpressionNode {
    let object = base;
    for (;;) {
      const t = this.token;
      if (t.type === 'member') {
        this.checkName(t.text, t.start + 1);
        this.advance();
        object = this.node({ kind: 'member', object, property: t.text, start: object.start, end: t.end, depth: 0 }, object);
      } else if (t.type === 'punct' && t.text === '[') {
        this.advance();
        const index = this.expression();
        const close = this.expect(']');
        if (index.kind === 'literal') {
          object = this.node({ kind: 'member', object, property: this.staticKey(index.value, index.start), start: object.start, end: close.end, depth: 0 }, object);
        } else {
          object = this.node({ kind: 'index', object, index, start: object.start, end: close.end, depth: 0 }, object, index);
        }
      } else if (t.type === 'punct' && t.text === '(') {
        throw this.syntax('function calls are not supported (filters are applied with "|")', t.start);
      } else {
        return object;
      }
    }
  }

  private staticKey(value: string | number | boolean | null, position: number): string {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0) throw this.syntax('an index must be a non-negative integer', position);
      return String(value);
    }
    if (typeof value !== 'string') throw this.syntax(`a key must be a string or an index, not ${String(value)}`, position);
    this.checkName(value, position);
    return value;
  }

  private checkName(name: string, position: number): void {
    if (isForbiddenKey(name)) {
      throw new TemplateError('forbidden_name', `"${name}" is not allowed in templates (it could reach an object prototype)`, {
        expression: this.source,
        position,
      });
    }
  }

  /** Computes the node's depth from its children and enforces MAX_AST_DEPTH. */
  private node<T extends ExpressionNode>(node: T, ...children: ExpressionNode[]): T {
    let depth = 0;
    for (const child of children) depth = Math.max(depth, child.depth);
    node.depth = depth + 1;
    if (node.depth > MAX_AST_DEPTH) throw this.tooDeep(node.start);
    return node;
  }

  private enter(position: number): void {
    if (++this.nesting > MAX_AST_DEPTH) throw this.tooDeep(position);
  }

  private tooDeep(position: number): TemplateError {
    return new TemplateError('too_deep', `expression is nested deeper than ${MAX_AST_DEPTH} levels`, { expression: this.source, position });
  }

  private isPunct(text: string): boolean {
    return this.token.type === 'punct' && this.token.text === text;
  }

  private expect(text: string): Token {
    const t = this.token;
    if (t.type !== 'punct' || t.text !== text) throw this.syntax(`expected "${text}", got ${this.describe(t)}`, t.start);
    this.advance();
    return t;
  }

  private advance(): void {
    this.token = this.lexer.next();
  }

  private describe(t: Token): string {
    switch (t.type) {
      case 'eof':
        return 'end of expression';
      case 'close':
        return '"}}"';
      case 'string':
        return 'a string';
      case 'member':
        return `".${t.text}"`;
      default:
        return `"${t.text}"`;
    }
  }

  private syntax(message: string, position: number): TemplateError {
    return new TemplateError('syntax', message, { expression: this.source, position });
  }
}

/**
 * Parses one expression that starts at `start` in `source`: up to the matching `}}` in
 * `template` mode, up to the end of the string in `expression` mode.
 */
export function parseExpressionAt(source: string, start: number, mode: LexMode): ParsedExpression {
  return new Parser(source, new Lexer(source, start, mode), mode, start).parse();
}
