/**
 * - `syntax`: the template or expression does not parse (see `position`).
 * - `forbidden_name`: `__proto__`, `constructor` or `prototype` used as a name or key.
 * - `too_long` / `too_deep`: an expression over MAX_EXPRESSION_LENGTH / MAX_AST_DEPTH.
 * - `missing_value`: a path that is not in the context (see `path`); `| default(v)` catches it.
 * - `type_error`: an operation on a value of the wrong kind (`'a' < 1`, `upper` of a number).
 */
export type TemplateErrorCode = 'syntax' | 'forbidden_name' | 'too_long' | 'too_deep' | 'missing_value' | 'type_error';

export interface TemplateErrorDetails {
  /** The template or expression text the error is about. */
  expression: string;
  /** 0-based offset in `expression`. */
  position?: number;
  /** For `missing_value`: the path that was not found, as written (`steps.a.result.items[3]`). */
  path?: string;
  /** Where in the rendered parameters the template sits (`body.title`), when known. */
  field?: string;
}

const MAX_QUOTED = 120;

function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
}

/** Why a template could not be parsed or evaluated; never a silent `undefined`. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code: TemplateErrorCode;
  readonly expression: string;
  readonly position?: number;
  readonly path?: string;
  readonly field?: string;
  /** The message without the location suffix, for callers that add their own context. */
  readonly reason: string;

  constructor(code: TemplateErrorCode, reason: string, details: TemplateErrorDetails) {
    const where = [
      details.field !== undefined ? `in ${details.field}` : undefined,
      details.position !== undefined ? `at position ${details.position}` : undefined,
      `of ${quote(details.expression)}`,
    ].filter((part) => part !== undefined);
    super(`${reason} (${where.join(' ')})`);
    this.code = code;
    this.reason = reason;
    this.expression = details.expression;
    this.position = details.position;
    this.path = details.path;
    this.field = details.field;
  }

  /** The same error, located at a parameter path. */
  withField(field: string): TemplateError {
    return new TemplateError(this.code, this.reason, {
      expression: this.expression,
      position: this.position,
      path: this.path,
      field,
    });
  }
}
