import type { FilterName } from './filters';

/** Offsets into the template string the node was parsed from, and the node's tree depth. */
interface Located {
  start: number;
  end: number;
  depth: number;
}

export interface LiteralNode extends Located {
  kind: 'literal';
  value: string | number | boolean | null;
}

/** A root name: `input`, `steps`. */
export interface IdentifierNode extends Located {
  kind: 'identifier';
  name: string;
}

/** `a.b`, `a['b']`, `a[0]`: a property known at parse time (and checked there). */
export interface MemberNode extends Located {
  kind: 'member';
  object: ExpressionNode;
  property: string;
}

/** `a[expr]` with a computed key, checked when evaluated. */
export interface IndexNode extends Located {
  kind: 'index';
  object: ExpressionNode;
  index: ExpressionNode;
}

export interface UnaryNode extends Located {
  kind: 'unary';
  operator: '!' | '-';
  argument: ExpressionNode;
}

export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface ComparisonNode extends Located {
  kind: 'comparison';
  operator: ComparisonOperator;
  left: ExpressionNode;
  right: ExpressionNode;
}

export interface LogicalNode extends Located {
  kind: 'logical';
  operator: '&&' | '||';
  left: ExpressionNode;
  right: ExpressionNode;
}

export interface ConditionalNode extends Located {
  kind: 'conditional';
  test: ExpressionNode;
  consequent: ExpressionNode;
  alternate: ExpressionNode;
}

/** `input | name(args)`. */
export interface FilterNode extends Located {
  kind: 'filter';
  name: FilterName;
  input: ExpressionNode;
  args: ExpressionNode[];
}

/** The whitelist of node types: the evaluator knows exactly these and nothing else. */
export type ExpressionNode =
  | LiteralNode
  | IdentifierNode
  | MemberNode
  | IndexNode
  | UnaryNode
  | ComparisonNode
  | LogicalNode
  | ConditionalNode
  | FilterNode;
