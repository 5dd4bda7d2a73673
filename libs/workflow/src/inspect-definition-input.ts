import { unstorableKeyReason } from '@toolpath/contracts';
import { MAX_DEFINITION_BYTES, MAX_PARAMETERS_DEPTH, isForbiddenKey } from './limits';

export type InspectionCode = 'too_large' | 'too_deep' | 'forbidden_key' | 'not_json' | 'unstorable';

const NUL = String.fromCharCode(0);

export interface InspectionIssue {
  code: InspectionCode;
  path: Array<string | number>;
  message: string;
}

export interface Inspection {
  issues: InspectionIssue[];
  /** Over the size limit: the walk stopped, nothing else should look at this input. */
  tooLarge: boolean;
}

interface Frame {
  value: unknown;
  key: string | number | undefined;
  parent: Frame | undefined;
  depth: number;
  /** Depth that nesting is measured from: a `parameters` or `variables` object, else the root. */
  base: number;
}

function pathOf(frame: Frame): Array<string | number> {
  const path: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f !== undefined && f.key !== undefined; f = f.parent) path.push(f.key);
  return path.reverse();
}

/** `steps[i].parameters`, `steps[i].compensate.parameters` and `variables` start a new nesting count. */
function startsNestingCount(frame: Frame): boolean {
  const { key, parent } = frame;
  if (key === 'variables') return frame.depth === 1;
  if (key !== 'parameters' || parent === undefined) return false;
  if (frame.depth === 3) return parent.parent?.key === 'steps';
  return frame.depth === 4 && parent.key === 'compensate' && parent.parent?.parent?.key === 'steps';
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * One iterative walk over a raw definition, before schema validation, that refuses what the
 * schema cannot see or should not be given: prototype keys (zod silently drops an own
 * `__proto__` key), nesting deeper than MAX_PARAMETERS_DEPTH, more than MAX_DEFINITION_BYTES of
 * JSON, values that are not JSON, and what the databases cannot store exactly (a NUL in a string
 * or key, an array directly inside an array, keys starting with `$` or containing `.`: see
 * `findUnstorable` in contracts), so the definition is refused with 400 instead of failing to be
 * stored. Work is bounded by the byte budget: a long string is
 * measured against what is left before it is scanned, and the walk stops at the limit.
 */
export function inspectDefinitionInput(input: object, maxIssues: number): Inspection {
  const issues: InspectionIssue[] = [];
  let remaining = MAX_DEFINITION_BYTES;
  const stack: Frame[] = [{ value: input, key: undefined, parent: undefined, depth: 0, base: 0 }];
  const spend = (bytes: number) => (remaining -= bytes) >= 0;
  const spendText = (text: string) => text.length + 2 <= remaining && spend(utf8Length(text) + 2);
  const tooLarge = (): Inspection => ({
    issues: [{ code: 'too_large', path: [], message: `definition is larger than ${MAX_DEFINITION_BYTES} bytes of JSON` }, ...issues],
    tooLarge: true,
  });

  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { value } = frame;
    if (frame.key !== undefined && startsNestingCount(frame)) frame.base = frame.depth;
    const report = (code: InspectionCode, message: string) => {
      if (issues.length < maxIssues) issues.push({ code, path: pathOf(frame), message });
    };
    switch (typeof value) {
      case 'string':
        if (!spendText(value)) return tooLarge();
        if (value.includes(NUL)) report('unstorable', 'a string must not contain a NUL character (\\u0000)');
        continue;
      case 'boolean':
        if (!spend(value ? 4 : 5)) return tooLarge();
        continue;
      case 'number':
        if (!Number.isFinite(value)) report('not_json', `${String(value)} is not a JSON number`);
        else if (!spend(String(value).length)) return tooLarge();
        continue;
      case 'object':
        break;
      default:
        report('not_json', `a ${typeof value} is not a JSON value`);
        continue;
    }
    if (value === null) {
      if (!spend(4)) return tooLarge();
      continue;
    }
    // The object that starts the count is level 1.
    if (frame.depth - frame.base >= MAX_PARAMETERS_DEPTH) {
      report('too_deep', `nested deeper than ${MAX_PARAMETERS_DEPTH} levels`);
      continue;
    }
    const child = (v: unknown, key: string | number): Frame => ({ value: v, key, parent: frame, depth: frame.depth + 1, base: frame.base });
    if (Array.isArray(value)) {
      if (!spend(2 + Math.max(0, value.length - 1))) return tooLarge();
      for (let i = value.length - 1; i >= 0; i--) {
        const item: unknown = value[i];
        if (item === undefined) {
          const hole = child(item, i);
          if (issues.length < maxIssues) issues.push({ code: 'not_json', path: pathOf(hole), message: 'undefined is not a JSON value' });
          continue;
        }
        if (Array.isArray(item)) {
          const inner = child(item, i);
          if (issues.length < maxIssues) issues.push({ code: 'unstorable', path: pathOf(inner), message: 'an array must not be directly inside an array (wrap it in an object)' });
          continue;
        }
        stack.push(child(item, i));
      }
      continue;
    }
    if (!isPlainObject(value)) {
      report('not_json', `a ${value.constructor?.name ?? 'non-plain'} object is not a JSON value`);
      continue;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (!spend(2 + Math.max(0, keys.length - 1))) return tooLarge();
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      if (!spendText(key) || !spend(1)) return tooLarge();
      const item = record[key];
      const next = child(item, key);
      if (isForbiddenKey(key)) {
        if (issues.length < maxIssues) {
          issues.push({ code: 'forbidden_key', path: pathOf(next), message: `key "${key}" is not allowed (it could reach an object prototype)` });
        }
        continue;
      }
      const keyProblem = unstorableKeyReason(key);
      if (keyProblem !== undefined) {
        if (issues.length < maxIssues) issues.push({ code: 'unstorable', path: pathOf(next).map(escapeNul), message: keyProblem });
        continue;
      }
      if (item !== undefined) stack.push(next);
    }
  }
  return { issues, tooLarge: false };
}

/** A key holding NUL is named with it written as `\u0000`: the error is text that gets stored and logged. */
function escapeNul(part: string | number): string | number {
  return typeof part === 'string' && part.includes(NUL) ? part.split(NUL).join('\\u0000') : part;
}
