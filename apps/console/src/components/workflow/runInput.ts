/**
 * The run form's fields, read from a workflow's `variables` (a JSON Schema of the run input), and
 * the input built from what was typed (pure; no React).
 *
 * Only top-level properties get a field: string, number, integer, boolean and enum as inputs of
 * their own, anything else (object, array, no type) as JSON in a text area.
 */

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface InputField {
  name: string;
  kind: FieldKind;
  required: boolean;
  label: string;
  description?: string;
  /** enum values, in the schema's order */
  options?: unknown[];
  default?: unknown;
}

/** What the form keeps per field: text for inputs and text areas, a flag for a check box. */
export type RawValues = Record<string, string | boolean>;

type Schema = { properties?: Record<string, Record<string, unknown>>; required?: string[] } | undefined;

function kindOf(p: Record<string, unknown>): FieldKind {
  if (Array.isArray(p.enum)) return 'enum';
  const t = Array.isArray(p.type) ? p.type.filter((x) => x !== 'null') : [p.type];
  if (t.length === 1 && ['string', 'number', 'integer', 'boolean'].includes(String(t[0]))) return t[0] as FieldKind;
  return 'json';
}

export function inputFields(variables: Schema): InputField[] {
  const required = new Set(variables?.required ?? []);
  return Object.entries(variables?.properties ?? {}).map(([name, p]) => ({
    name,
    kind: kindOf(p),
    required: required.has(name),
    label: typeof p.title === 'string' && p.title ? p.title : name,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
    ...(Array.isArray(p.enum) ? { options: p.enum } : {}),
    ...('default' in p ? { default: p.default } : {}),
  }));
}

/** The form's starting values: each field's default where the schema gives one. */
export function initialValues(fields: InputField[]): RawValues {
  const values: RawValues = {};
  for (const f of fields) {
    if (f.kind === 'boolean') values[f.name] = f.default === true;
    else if (f.kind === 'enum') values[f.name] = f.default === undefined ? '' : String(f.options?.findIndex((o) => o === f.default) ?? '');
    else if (f.kind === 'json') values[f.name] = f.default === undefined ? '' : JSON.stringify(f.default, null, 2);
    else values[f.name] = f.default === undefined ? '' : String(f.default);
  }
  return values;
}

/**
 * The run input from the typed values, or an error per field. An empty optional field is left
 * out (the executor then applies the schema's default); an enum's value is its option's index
 * in the form, so numbers and strings keep their type.
 */
export function buildInput(fields: InputField[], raw: RawValues): { input: Record<string, unknown>; errors: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = raw[f.name];
    if (f.kind === 'boolean') {
      input[f.name] = v === true;
      continue;
    }
    const text = typeof v === 'string' ? v : '';
    if (text.trim() === '') {
      if (f.required) errors[f.name] = 'Required';
      continue;
    }
    if (f.kind === 'string') input[f.name] = text;
    else if (f.kind === 'enum') input[f.name] = f.options?.[Number(text)];
    else if (f.kind === 'number' || f.kind === 'integer') {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[f.name] = 'Not a number';
      else if (f.kind === 'integer' && !Number.isInteger(n)) errors[f.name] = 'Not a whole number';
      else input[f.name] = n;
    } else {
      try {
        input[f.name] = JSON.parse(text);
      } catch {
        errors[f.name] = 'Not valid JSON';
      }
    }
  }
  return { input, errors };
}
