import { MAX_EXPRESSION_LENGTH } from '../limits';
import { TemplateError } from './template-error';

/**
 * - `name`: an identifier or keyword (`input`, `true`, `and`).
 * - `member`: `.name` read as one token; the name may contain `-` and start with a digit
 *   (`steps.fetch-user.result.items.0`), which is unambiguous because there is no subtraction.
 * - `close`: `}}` ending an expression inside a template.
 */
export type TokenType = 'number' | 'string' | 'name' | 'member' | 'punct' | 'close' | 'eof';

export interface Token {
  type: TokenType;
  /** The text of names and punctuation; the decoded value of strings; the property of members. */
  text: string;
  number?: number;
  start: number;
  end: number;
}

/** `template`: the expression ends at `}}`; `expression`: it ends at the end of the string. */
export type LexMode = 'template' | 'expression';

const PUNCT_2 = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const PUNCT_1 = new Set(['<', '>', '!', '(', ')', '[', ']', ',', '?', ':', '|', '-']);
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

const isDigit = (c: string) => c >= '0' && c <= '9';
const isNameStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isNamePart = (c: string) => isNameStart(c) || isDigit(c);
const isMemberPart = (c: string) => isNamePart(c) || c === '-';
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * Reads tokens of one expression on demand. It never looks further than
 * MAX_EXPRESSION_LENGTH characters past the expression's start, so a huge template costs at
 * most that much per expression before it is refused.
 */
export class Lexer {
  private pos: number;
  private readonly limit: number;

  constructor(
    private readonly source: string,
    private readonly exprStart: number,
    private readonly mode: LexMode,
  ) {
    this.pos = exprStart;
    // Room for the closing `}}` after a maximal expression.
    this.limit = Math.min(source.length, exprStart + MAX_EXPRESSION_LENGTH + (mode === 'template' ? 2 : 0));
  }

  next(): Token {
    this.skipSpace();
    const start = this.pos;
    if (start >= this.limit) return this.atLimit(start);
    const c = this.source[start];
    if (this.mode === 'template' && c === '}' && this.source[start + 1] === '}') {
      this.pos += 2;
      return { type: 'close', text: '}}', start, end: this.pos };
    }
    if (isDigit(c)) return this.readNumber(start);
    if (c === "'" || c === '"') return this.readString(start, c);
    if (isNameStart(c)) {
      let end = start + 1;
      while (end < this.limit && isNamePart(this.source[end])) end++;
      this.pos = end;
      this.checkLength(end);
      return { type: 'name', text: this.source.slice(start, end), start, end };
    }
    if (c === '.') return this.readMember(start);
    const two = this.source.slice(start, start + 2);
    if (two.length === 2 && PUNCT_2.has(two) && start + 2 <= this.limit) {
      this.pos += 2;
      return { type: 'punct', text: two, start, end: this.pos };
    }
    if (PUNCT_1.has(c)) {
      this.pos += 1;
      return { type: 'punct', text: c, start, end: this.pos };
    }
    if (c === '=') throw this.error('"=" is not an operator: compare with "=="', start);
    if (c === '&') throw this.error('"&" is not an operator: use "&&" or "and"', start);
    if (c === '{' || c === '}') throw this.error(`unexpected "${c}" inside an expression`, start);
    throw this.error(`unexpected character ${JSON.stringify(c)}`, start);
  }

  private atLimit(start: number): Token {
    if (start < this.source.length) {
      throw new TemplateError('too_long', `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, {
        expression: this.source,
        position: this.exprStart,
      });
    }
    if (this.mode === 'template') throw this.error('"{{" is not closed by "}}"', this.exprStart - 2);
    return { type: 'eof', text: '', start, end: start };
  }

  private checkLength(end: number): void {
    if (end >= this.limit && this.limit < this.source.length) this.atLimit(end);
  }

  private skipSpace(): void {
    while (this.pos < this.limit && isSpace(this.source[this.pos])) this.pos++;
  }

  private readNumber(start: number): Token {
    let end = start;
    const digits = () => {
      while (end < this.limit && isDigit(this.source[end])) end++;
    };
    digits();
    if (this.source[end] === '.' && isDigit(this.source[end + 1] ?? '')) {
      end++;
      digits();
    }
    if (this.source[end] === 'e' || this.source[end] === 'E') {
      let e = end + 1;
      if (this.source[e] === '+' || this.source[e] === '-') e++;
      if (isDigit(this.source[e] ?? '')) {
        end = e;
        digits();
      }
    }
    this.checkLength(end);
    if (end < this.limit && isNameStart(this.source[end])) {
      throw this.error('a name cannot start with a digit', start);
    }
    this.pos = end;
    const text = this.source.slice(start, end);
    return { type: 'number', text, number: Number(text), start, end };
  }

  private readString(start: number, quoteChar: string): Token {
    let out = '';
    let i = start + 1;
    while (i < this.limit) {
      const c = this.source[i];
      if (c === quoteChar) {
        this.pos = i + 1;
        return { type: 'string', text: out, start, end: this.pos };
      }
      if (c === '\\') {
        const e = this.source[i + 1];
        if (e === 'u') {
          const hex = this.source.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error('bad \\u escape: expected 4 hex digits', i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
          continue;
        }
        if (e !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, e)) {
          out += ESCAPES[e];
          i += 2;
          continue;
        }
        throw this.error(`unknown escape "\\${e ?? ''}" in a string`, i);
      }
      out += c;
      i++;
    }
    if (this.limit < this.source.length) this.atLimit(this.limit);
    throw this.error('string is not closed', start);
  }

  private readMember(start: number): Token {
    let end = start + 1;
    while (end < this.limit && isMemberPart(this.source[end])) end++;
    if (end === start + 1) throw this.error('expected a property name right after "."', start);
    this.checkLength(end);
    this.pos = end;
    return { type: 'member', text: this.source.slice(start + 1, end), start, end };
  }

  private error(message: string, position: number): TemplateError {
    return new TemplateError('syntax', message, { expression: this.source, position });
  }
}
