/**
 * The bad-input corpus: requests and NATS messages the system must refuse at the door. Each REST
 * case says what answer is required (400 naming the field, 413 naming the limit, 401, 404 for
 * another tenant's ids, or `/workflows/validate` saying "invalid" naming the field); each NATS case
 * says with which reason its dead letter must land in `rejected_events`, or that NATS itself must
 * refuse it. Bodies are built when a case runs, so the 10 MB ones are not held in memory.
 */

/** Ids tenant A owns (made by the drill first); tenant B asks for them and must get 404. */
export interface Fixtures {
  workflowId: string;
  executionId: string;
  sessionId: string;
  /** A mined pattern of tenant A; undefined when none could be mined within the drill's bound. */
  patternId?: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export type KeyChoice = 'a' | 'b' | 'none' | 'unknown' | 'not-bearer';

export interface RestCase {
  name: string;
  method: 'GET' | 'POST' | 'PUT';
  /** The route as the gateway's OpenAPI document names it (checked before the case is sent). */
  route: string;
  /** The concrete path (ids filled in, query added). */
  path(f: Fixtures): string;
  /** Whose key is sent: tenant A (the owner of the fixtures), tenant B, none, an unknown one, or a malformed header. */
  key: KeyChoice;
  /** Raw request body, sent as application/json unless `contentType` says otherwise. */
  body?(): string;
  contentType?: string;
  /** Undefined when the answer is as required, else what was wrong with it. */
  check(answer: HttpAnswer): string | undefined;
  /** The fixture the case needs (the case fails, naming it, when the fixture is missing). */
  needs?: keyof Fixtures;
}

export interface NatsCase {
  name: string;
  /** The subject relative to the events of tenant A: `exact` is `<prefix>.events.<A>`. */
  subject(prefix: string, tenantA: string): string;
  payload(ids: { tenantA: string; tenantB: string; eventId: string }): string | Uint8Array;
  /**
   * `{ reason }`: stored by the stream, then dead-lettered with that reason (never in
   * `tool_events`); `refused`: NATS itself refuses it (over max_payload, or no stream holds the
   * subject), so nothing is acknowledged and nothing stored.
   */
  expect: { reason: string } | 'refused';
}

const NUL = String.fromCharCode(0);
const MB = 1024 * 1024;

// --- payload builders -------------------------------------------------------------------------

/** `{"a":{"a":...1...}}`, `depth` objects deep, as JSON text (never built as an object here). */
export function deepObjectText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A JSON string literal of about `bytes` characters. */
function bigString(bytes: number): string {
  return `"${'x'.repeat(bytes)}"`;
}

/** `[0,0,...]` with `count` items. */
function hugeArrayText(count: number): string {
  return `[${new Array(count).fill('0').join(',')}]`;
}

/** Every way a JSON value can hold what the store cannot keep exactly, as raw JSON text. */
const UNSTORABLE: Array<{ what: string; raw: string; field: string }> = [
  { what: 'NUL in a value', raw: JSON.stringify({ note: `a${NUL}b` }), field: 'note' },
  { what: 'NUL in a key', raw: JSON.stringify({ [`k${NUL}`]: 1 }), field: 'k' },
  { what: 'nested array', raw: JSON.stringify({ matrix: [1, [2, 3]] }), field: 'matrix[1]' },
  { what: '$-prefixed key', raw: JSON.stringify({ filter: { $gt: 1 } }), field: 'filter.$gt' },
  { what: 'dotted key', raw: JSON.stringify({ 'a.b': 1 }), field: 'a.b' },
  { what: '__proto__ key', raw: '{"x":{"__proto__":{"polluted":true}}}', field: '__proto__' },
  { what: '10,000-deep nesting', raw: deepObjectText(10_000), field: '' },
];

/** A valid REST event as JSON text, with `extra` (raw JSON members) spliced in. */
function eventText(extra = '', base: Record<string, unknown> = {}): string {
  const event = {
    kind: 'tool_call',
    sessionId: 'drill-bad-input',
    tool: 'drill.probe',
    success: true,
    startedAt: '2026-11-21T10:00:00.000Z',
    durationMs: 1,
    ...base,
  };
  const text = JSON.stringify(event);
  return extra ? `${text.slice(0, -1)},${extra}}` : text;
}

/** A one-step workflow definition as JSON text, with the step's parameters as raw JSON. */
export function definitionText(parametersRaw = '{"value":1}', name = 'Drill probe', extra = ''): string {
  return `{"name":${JSON.stringify(name)},"description":"bad-input drill","source":"user"${extra},"steps":[{"id":"a","tool":"core.transform","parameters":${parametersRaw}}]}`;
}

// --- answer checks ----------------------------------------------------------------------------

function describe(a: HttpAnswer): string {
  const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  return `${a.status} ${(text ?? '').slice(0, 160)}`;
}

function fieldsOf(body: unknown): string {
  const b = body as { details?: unknown; message?: unknown; errors?: unknown } | undefined;
  return JSON.stringify([b?.details ?? null, b?.errors ?? null, b?.message ?? null]);
}

/** 400 with a message, and (when `field` is given) the field named in details or message. */
export function refused400(field?: string): RestCase['check'] {
  return (a) => {
    if (a.status !== 400) return `expected 400${field ? ` naming ${field}` : ''}, got ${describe(a)}`;
    const body = a.body as { message?: unknown };
    if (typeof body?.message !== 'string' || body.message.length === 0) return `400 without a message: ${describe(a)}`;
    if (field && !fieldsOf(a.body).includes(field)) return `400 does not name ${field}: ${describe(a)}`;
    return undefined;
  };
}

/** 400 or 413, naming the field or (for 413) a limit in bytes or items. */
export function refusedTooBig(field?: string): RestCase['check'] {
  return (a) => {
    if (a.status === 413) {
      const message = String((a.body as { message?: unknown })?.message ?? '');
      return /\d/.test(message) ? undefined : `413 does not name the limit: ${describe(a)}`;
    }
    if (a.status === 400) return refused400(field)(a);
    return `expected 413 naming the limit (or 400 naming ${field ?? 'the field'}), got ${describe(a)}`;
  };
}

/** A path parameter longer than the router takes: 414 from the router, or 400 naming the id. */
const uriTooLong: RestCase['check'] = (a) => (a.status === 414 ? undefined : refused400('id')(a));

export function status(expected: number): RestCase['check'] {
  return (a) => (a.status === expected ? undefined : `expected ${expected}, got ${describe(a)}`);
}

/** `POST /workflows/validate`: 200 with `valid: false` and an error naming the field. */
export function invalidDefinition(field: string): RestCase['check'] {
  return (a) => {
    if (a.status === 400 || a.status === 413) return refusedTooBig(field)(a);
    const body = a.body as { valid?: unknown; errors?: unknown };
    if (a.status !== 200 || body?.valid !== false) return `expected valid:false naming ${field}, got ${describe(a)}`;
    return fieldsOf(a.body).includes(field) ? undefined : `valid:false does not name ${field}: ${describe(a)}`;
  };
}

// --- the corpus -------------------------------------------------------------------------------

const EVENTS = '/api/v1/events';
const WORKFLOWS = '/api/v1/workflows';
const WORKFLOW = '/api/v1/workflows/{id}';
const VALIDATE = '/api/v1/workflows/validate';
const EXECUTIONS = '/api/v1/executions';
const EXECUTION = '/api/v1/executions/{id}';
const WORKFLOW_RUNS = '/api/v1/workflows/{id}/executions';

export function restCases(): RestCase[] {
  const cases: RestCase[] = [];
  const add = (c: RestCase): void => {
    cases.push(c);
  };

  // Unstorable values in every place the REST API takes user JSON.
  for (const u of UNSTORABLE) {
    const field = u.field;
    // Event routes refuse a `__proto__` key in their JSON parser, before any field is looked at.
    const eventField = u.what === '__proto__ key' ? undefined : field;
    add({ name: `POST events: ${u.what} in parameters`, method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"parameters":${u.raw}`), check: refused400(eventField) });
    add({ name: `POST events: ${u.what} in result`, method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"result":${u.raw}`), check: refused400(eventField) });
    add({ name: `POST events (batch): ${u.what} in parameters`, method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => `[${eventText(`"parameters":${u.raw}`)}]`, check: refused400() });
    add({ name: `POST workflows: ${u.what} in step parameters`, method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText(u.raw), check: refused400(field) });
    add({ name: `PUT workflows/:id: ${u.what} in step parameters`, method: 'PUT', route: WORKFLOW, path: (f) => `${WORKFLOWS}/${f.workflowId}`, key: 'a', needs: 'workflowId', body: () => definitionText(u.raw), check: refused400(field) });
    add({ name: `POST workflows/validate: ${u.what} in step parameters`, method: 'POST', route: VALIDATE, path: () => VALIDATE, key: 'a', body: () => definitionText(u.raw), check: invalidDefinition(`steps[0].parameters`) });
    add({ name: `POST executions: ${u.what} in input`, method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"input":${u.raw}}`, check: refused400(field ? field : 'input') });
    add({ name: `POST workflows/:id/executions: ${u.what} in input`, method: 'POST', route: WORKFLOW_RUNS, path: (f) => `${WORKFLOWS}/${f.workflowId}/executions`, key: 'a', needs: 'workflowId', body: () => `{"input":${u.raw}}`, check: refused400(field ? field : 'input') });
  }

  // NUL in names and other strings.
  const nulName = `bad${NUL}name`;
  add({ name: 'POST events: NUL in the tool name', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { tool: `drill${NUL}probe` }), check: refused400('tool') });
  add({ name: 'POST events: NUL in the sessionId', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { sessionId: `s${NUL}1` }), check: refused400('sessionId') });
  add({ name: 'POST workflows: NUL in the name', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText('{}', nulName), check: refused400('name') });
  add({ name: 'PUT workflows/:id: NUL in the name', method: 'PUT', route: WORKFLOW, path: (f) => `${WORKFLOWS}/${f.workflowId}`, key: 'a', needs: 'workflowId', body: () => definitionText('{}', nulName), check: refused400('name') });
  add({ name: 'POST workflows/validate: NUL in the name', method: 'POST', route: VALIDATE, path: () => VALIDATE, key: 'a', body: () => definitionText('{}', nulName), check: invalidDefinition('name') });
  add({ name: 'POST executions: NUL in the inline definition name', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText('{}', nulName)},"input":{}}`, check: refused400('name') });

  // Sizes: 1.3 MB and 10 MB bodies, huge arrays, too many steps or events.
  for (const [label, bytes] of [['1.3 MB', 1.3 * MB], ['10 MB', 10 * MB]] as const) {
    const n = Math.round(bytes);
    add({ name: `POST events: ${label} event`, method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"parameters":{"blob":${bigString(n)}}`), check: refusedTooBig('parameters') });
    add({ name: `POST workflows: ${label} definition`, method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText(`{"blob":${bigString(n)}}`), check: refusedTooBig('(root)') });
    add({ name: `PUT workflows/:id: ${label} definition`, method: 'PUT', route: WORKFLOW, path: (f) => `${WORKFLOWS}/${f.workflowId}`, key: 'a', needs: 'workflowId', body: () => definitionText(`{"blob":${bigString(n)}}`), check: refusedTooBig('(root)') });
    add({ name: `POST workflows/validate: ${label} definition`, method: 'POST', route: VALIDATE, path: () => VALIDATE, key: 'a', body: () => definitionText(`{"blob":${bigString(n)}}`), check: invalidDefinition('(root)') });
    add({ name: `POST executions: ${label} input`, method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"input":{"blob":${bigString(n)}}}`, check: refusedTooBig('input') });
    add({ name: `POST workflows/:id/executions: ${label} input`, method: 'POST', route: WORKFLOW_RUNS, path: (f) => `${WORKFLOWS}/${f.workflowId}/executions`, key: 'a', needs: 'workflowId', body: () => `{"input":{"blob":${bigString(n)}}}`, check: refusedTooBig('input') });
  }
  add({ name: 'POST events: 20 MB body (over the body limit)', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"parameters":{"blob":${bigString(20 * MB)}}`), check: refusedTooBig() });
  add({ name: 'POST events: parameters with a 1,000,000-item array', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"parameters":{"list":${hugeArrayText(1_000_000)}}`), check: refusedTooBig('parameters') });
  add({ name: 'POST events: batch of 1,001 events', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => `[${new Array(1001).fill(eventText()).join(',')}]`, check: refusedTooBig() });
  add({ name: 'POST events: batch of 100,000 empty objects', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => `[${new Array(100_000).fill('{}').join(',')}]`, check: refusedTooBig() });
  add({ name: 'POST events: empty batch', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => '[]', check: refused400() });
  add({ name: 'POST workflows: 600 steps', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => manyStepsText(600), check: refusedTooBig('steps') });
  add({ name: 'POST workflows: step parameters with a 300,000-item array', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText(`{"list":${hugeArrayText(300_000)}}`), check: refusedTooBig() });
  add({ name: 'POST executions: input with a 1,000,000-item array', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"input":{"list":${hugeArrayText(1_000_000)}}}`, check: refusedTooBig('input') });

  // Deeper than anything: 100,000 levels (the parser itself must not fall over).
  add({ name: 'POST events: parameters 100,000 deep', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText(`"parameters":${deepObjectText(100_000)}`), check: refused400('parameters') });
  add({ name: 'POST workflows: step parameters 100,000 deep', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText(deepObjectText(100_000)), check: refused400('parameters') });
  add({ name: 'POST executions: input 100,000 deep', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"input":${deepObjectText(100_000)}}`, check: refused400('input') });
  add({ name: 'POST events: body 10,000 arrays deep', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`, check: refused400() });

  // Malformed JSON and wrong content.
  for (const [route, path] of [[EVENTS, EVENTS], [WORKFLOWS, WORKFLOWS], [VALIDATE, VALIDATE], [EXECUTIONS, EXECUTIONS]] as const) {
    const short = path.replace('/api/v1/', '');
    add({ name: `POST ${short}: malformed JSON`, method: 'POST', route, path: () => path, key: 'a', body: () => '{"kind":"tool_call",', check: refused400() });
    add({ name: `POST ${short}: JSON with a trailing comma`, method: 'POST', route, path: () => path, key: 'a', body: () => '{"name":"x",}', check: refused400() });
    add({ name: `POST ${short}: empty JSON body`, method: 'POST', route, path: () => path, key: 'a', body: () => '', check: refused400() });
    add({ name: `POST ${short}: JSON null`, method: 'POST', route, path: () => path, key: 'a', body: () => 'null', check: route === VALIDATE ? invalidDefinition('(root)') : refused400() });
    add({ name: `POST ${short}: a JSON string`, method: 'POST', route, path: () => path, key: 'a', body: () => '"hello"', check: route === VALIDATE ? invalidDefinition('(root)') : refused400() });
    const asText: RestCase['check'] = route === VALIDATE ? invalidDefinition('(root)') : (a) => (a.status === 415 || a.status === 400 ? undefined : `expected 415 (or 400), got ${describe(a)}`);
    add({ name: `POST ${short}: body sent as text/plain`, method: 'POST', route, path: () => path, key: 'a', body: () => eventText(), contentType: 'text/plain', check: asText });
  }
  add({ name: 'PUT workflows/:id: malformed JSON', method: 'PUT', route: WORKFLOW, path: (f) => `${WORKFLOWS}/${f.workflowId}`, key: 'a', needs: 'workflowId', body: () => '{"name":', check: refused400() });

  // Wrong types and missing fields.
  add({ name: 'POST events: success is a string', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { success: 'yes' }), check: refused400('success') });
  add({ name: 'POST events: durationMs is negative', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { durationMs: -1 }), check: refused400('durationMs') });
  add({ name: 'POST events: startedAt is not a date', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { startedAt: 'yesterday' }), check: refused400('startedAt') });
  add({ name: 'POST events: parameters is an array', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('"parameters":[1,2]'), check: refused400('parameters') });
  add({ name: 'POST events: kind unknown', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { kind: 'explosion' }), check: refused400('kind') });
  add({ name: 'POST events: tool missing', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => JSON.stringify({ kind: 'tool_call', sessionId: 's', success: true, startedAt: 0, durationMs: 1 }), check: refused400('tool') });
  add({ name: 'POST events: another tenantId in the body', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { tenantId: 'someone_else' }), check: refused400('tenantId') });
  add({ name: 'POST events: specVersion 2', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => eventText('', { specVersion: '2' }), check: refused400('specVersion') });
  add({ name: 'POST events: batch of invalid items only', method: 'POST', route: EVENTS, path: () => EVENTS, key: 'a', body: () => `[${eventText('', { success: 'no' })},${eventText('', { durationMs: 'x' })}]`, check: refused400() });
  add({
    name: 'POST events: batch with one bad item lists it and accepts the other',
    method: 'POST',
    route: EVENTS,
    path: () => EVENTS,
    key: 'a',
    body: () => `[${eventText('', { sessionId: 'drill-batch-ok' })},${eventText(`"parameters":{"m":[[1]]}`)}]`,
    check: (a) => {
      const body = a.body as { accepted?: number; errors?: Array<{ index?: number; status?: number; field?: string }> };
      if (a.status !== 202 || body?.accepted !== 1) return `expected 202 with accepted 1, got ${describe(a)}`;
      const e = body.errors?.[0];
      return e?.index === 1 && e.status === 400 && String(e.field).includes('parameters') ? undefined : `the bad item is not listed as index 1, 400, parameters: ${describe(a)}`;
    },
  });
  add({ name: 'POST workflows: steps is a string', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => '{"name":"x","steps":"all of them"}', check: refused400('steps') });
  add({ name: 'POST workflows: name is a number', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText('{}').replace('"name":"Drill probe"', '"name":42'), check: refused400('name') });
  add({ name: 'POST workflows: step depends on itself', method: 'POST', route: WORKFLOWS, path: () => WORKFLOWS, key: 'a', body: () => definitionText('{}').replace('"id":"a",', '"id":"a","dependsOn":["a"],'), check: refused400('steps[0]') });
  add({ name: 'POST workflows/validate: steps is a number', method: 'POST', route: VALIDATE, path: () => VALIDATE, key: 'a', body: () => '{"name":"x","steps":7}', check: invalidDefinition('steps') });
  add({ name: 'PUT workflows/:id: expectedVersion is a string', method: 'PUT', route: WORKFLOW, path: (f) => `${WORKFLOWS}/${f.workflowId}`, key: 'a', needs: 'workflowId', body: () => definitionText('{}', 'Drill probe', ',"expectedVersion":"one"'), check: refused400('expectedVersion') });
  add({ name: 'POST executions: definition missing', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => '{"input":{}}', check: refused400('definition') });
  add({ name: 'POST executions: input is a string', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"input":"x"}`, check: refused400('input') });
  add({ name: 'POST executions: unknown member', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"colour":"red"}`, check: refused400('colour') });
  add({ name: 'POST executions: idempotencyKey of 10,000 characters', method: 'POST', route: EXECUTIONS, path: () => EXECUTIONS, key: 'a', body: () => `{"definition":${definitionText()},"idempotencyKey":${bigString(10_000)}}`, check: refused400('idempotencyKey') });

  // Ids that are not ids.
  add({ name: 'GET workflows/:id: id with a NUL (%00)', method: 'GET', route: WORKFLOW, path: () => `${WORKFLOWS}/wf%00x`, key: 'a', check: refused400('id') });
  add({ name: 'GET workflows/:id: id of 5,000 characters', method: 'GET', route: WORKFLOW, path: () => `${WORKFLOWS}/${'w'.repeat(5000)}`, key: 'a', check: uriTooLong });
  add({ name: 'GET executions/:id: id with a $ and a dot', method: 'GET', route: EXECUTION, path: () => `${EXECUTIONS}/%24where.x`, key: 'a', check: refused400('id') });
  add({ name: 'GET sessions/:id: id of 5,000 characters', method: 'GET', route: '/api/v1/sessions/{id}', path: () => `/api/v1/sessions/${'s'.repeat(5000)}`, key: 'a', check: uriTooLong });
  add({ name: 'GET workflows/:id/versions/:version: version -1', method: 'GET', route: '/api/v1/workflows/{id}/versions/{version}', path: (f) => `${WORKFLOWS}/${f.workflowId}/versions/-1`, key: 'a', needs: 'workflowId', check: refused400('version') });
  add({ name: 'GET events: limit 10^12', method: 'GET', route: EVENTS, path: () => `${EVENTS}?limit=1000000000000`, key: 'a', check: refused400('limit') });
  add({ name: 'GET events: cursor that is not one', method: 'GET', route: EVENTS, path: () => `${EVENTS}?cursor=%7B%22%24gt%22%3A1%7D`, key: 'a', check: refused400('cursor') });

  // Missing and invalid auth on every route family.
  const authRoutes: Array<[RestCase['method'], string, (f: Fixtures) => string, (() => string) | undefined]> = [
    ['POST', EVENTS, () => EVENTS, () => eventText()],
    ['GET', EVENTS, () => EVENTS, undefined],
    ['POST', WORKFLOWS, () => WORKFLOWS, () => definitionText()],
    ['PUT', WORKFLOW, (f) => `${WORKFLOWS}/${f.workflowId}`, () => definitionText()],
    ['POST', VALIDATE, () => VALIDATE, () => definitionText()],
    ['POST', EXECUTIONS, () => EXECUTIONS, () => `{"definition":${definitionText()}}`],
    ['GET', EXECUTION, (f) => `${EXECUTIONS}/${f.executionId}`, undefined],
    ['GET', '/api/v1/patterns', () => '/api/v1/patterns', undefined],
  ];
  for (const [method, route, path, body] of authRoutes) {
    for (const key of ['none', 'unknown', 'not-bearer'] as const) {
      const label = { none: 'no Authorization header', unknown: 'an unknown key', 'not-bearer': 'a Basic header' }[key];
      add({ name: `${method} ${route.replace('/api/v1/', '')}: ${label}`, method, route, path, key, body, check: status(401) });
    }
  }

  // Another tenant's ids: tenant B asks for what tenant A owns.
  const other = (name: string, method: RestCase['method'], route: string, path: (f: Fixtures) => string, needs: keyof Fixtures, body?: () => string): void =>
    add({ name: `another tenant's ${name}`, method, route, path, key: 'b', needs, body, check: status(404) });
  other('workflow: GET workflows/:id', 'GET', WORKFLOW, (f) => `${WORKFLOWS}/${f.workflowId}`, 'workflowId');
  other('workflow: PUT workflows/:id', 'PUT', WORKFLOW, (f) => `${WORKFLOWS}/${f.workflowId}`, 'workflowId', () => definitionText('{}', 'Taken over'));
  other('workflow: GET workflows/:id/versions', 'GET', '/api/v1/workflows/{id}/versions', (f) => `${WORKFLOWS}/${f.workflowId}/versions`, 'workflowId');
  other('workflow: GET workflows/:id/versions/1', 'GET', '/api/v1/workflows/{id}/versions/{version}', (f) => `${WORKFLOWS}/${f.workflowId}/versions/1`, 'workflowId');
  other('workflow: POST workflows/:id/copy', 'POST', '/api/v1/workflows/{id}/copy', (f) => `${WORKFLOWS}/${f.workflowId}/copy`, 'workflowId');
  other('workflow: GET workflows/:id/stats', 'GET', '/api/v1/workflows/{id}/stats', (f) => `${WORKFLOWS}/${f.workflowId}/stats`, 'workflowId');
  other('workflow: POST workflows/:id/executions', 'POST', WORKFLOW_RUNS, (f) => `${WORKFLOWS}/${f.workflowId}/executions`, 'workflowId', () => '{"input":{}}');
  other('workflow: GET workflows/:id/executions', 'GET', WORKFLOW_RUNS, (f) => `${WORKFLOWS}/${f.workflowId}/executions`, 'workflowId');
  other('execution: GET executions/:id', 'GET', EXECUTION, (f) => `${EXECUTIONS}/${f.executionId}`, 'executionId');
  other('execution: GET executions/:id/stream', 'GET', '/api/v1/executions/{id}/stream', (f) => `${EXECUTIONS}/${f.executionId}/stream`, 'executionId');
  other('execution: POST executions/:id/cancel', 'POST', '/api/v1/executions/{id}/cancel', (f) => `${EXECUTIONS}/${f.executionId}/cancel`, 'executionId');
  other('session: GET sessions/:id', 'GET', '/api/v1/sessions/{id}', (f) => `/api/v1/sessions/${encodeURIComponent(f.sessionId)}`, 'sessionId');
  other('pattern: GET patterns/:id', 'GET', '/api/v1/patterns/{id}', (f) => `/api/v1/patterns/${f.patternId}`, 'patternId');
  other('pattern: POST patterns/:id/promote', 'POST', '/api/v1/patterns/{id}/promote', (f) => `/api/v1/patterns/${f.patternId}/promote`, 'patternId', () => '{}');
  add({
    name: "another tenant's events: GET events?sessionId= lists none of them",
    method: 'GET',
    route: EVENTS,
    path: (f) => `${EVENTS}?sessionId=${encodeURIComponent(f.sessionId)}`,
    key: 'b',
    needs: 'sessionId',
    check: (a) => (a.status === 200 && Array.isArray((a.body as { items?: unknown[] })?.items) && (a.body as { items: unknown[] }).items.length === 0 ? undefined : `expected 200 with no items, got ${describe(a)}`),
  });
  return cases;
}

function manyStepsText(count: number): string {
  const steps = Array.from({ length: count }, (_, i) => `{"id":"s${i}","tool":"core.transform","parameters":{}}`);
  return `{"name":"Many steps","description":"d","source":"user","steps":[${steps.join(',')}]}`;
}

// --- raw NATS ---------------------------------------------------------------------------------

/** A complete v1 event for NATS producers as JSON text, with `extra` raw members spliced in. */
export function natsEventText(tenantId: string, eventId: string, extra = '', base: Record<string, unknown> = {}): string {
  return eventText(extra, { specVersion: '1', eventId, tenantId, sessionId: 'drill-bad-nats', ...base });
}

export function natsCases(): NatsCase[] {
  const exact = (prefix: string, tenant: string) => `${prefix}.events.${tenant}`;
  const cases: NatsCase[] = [
    { name: 'NATS: invalid JSON', subject: exact, payload: () => '{"kind":"tool_call",', expect: { reason: 'malformed_json' } },
    { name: 'NATS: bytes that are not UTF-8', subject: exact, payload: () => Uint8Array.from([0xff, 0xfe, 0x00, 0x7b, 0x80]), expect: { reason: 'malformed_json' } },
    { name: 'NATS: empty message', subject: exact, payload: () => '', expect: { reason: 'malformed_json' } },
    { name: 'NATS: JSON array instead of an event', subject: exact, payload: () => '[1,2,3]', expect: { reason: 'invalid_event' } },
    { name: 'NATS: parameters 10,000 deep', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"parameters":${deepObjectText(10_000)}`), expect: { reason: 'invalid_event' } },
    { name: 'NATS: result 10,000 deep', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"result":${deepObjectText(10_000)}`), expect: { reason: 'invalid_event' } },
    { name: 'NATS: parameters 5,000 arrays deep', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"parameters":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`), expect: { reason: 'invalid_event' } },
    { name: 'NATS: missing tool and success (invalid schema)', subject: exact, payload: (i) => JSON.stringify({ specVersion: '1', eventId: i.eventId, tenantId: i.tenantA, kind: 'tool_call', sessionId: 's', startedAt: 0, durationMs: 1 }), expect: { reason: 'invalid_event' } },
    { name: 'NATS: wrong types (success "yes", durationMs "fast")', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, '', { success: 'yes', durationMs: 'fast' }), expect: { reason: 'invalid_event' } },
    { name: 'NATS: specVersion 2', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, '', { specVersion: '2' }), expect: { reason: 'unsupported_spec_version' } },
    { name: "NATS: another tenant's id in the event", subject: exact, payload: (i) => natsEventText(i.tenantB, i.eventId), expect: { reason: 'tenant_mismatch' } },
    { name: 'NATS: subject <prefix>.events.<tenant>.x', subject: (p, t) => `${exact(p, t)}.x`, payload: (i) => natsEventText(i.tenantA, i.eventId), expect: { reason: 'invalid_subject' } },
    { name: 'NATS: subject <prefix>.events.<tenant>.x.y', subject: (p, t) => `${exact(p, t)}.x.y`, payload: (i) => natsEventText(i.tenantA, i.eventId), expect: { reason: 'invalid_subject' } },
    { name: 'NATS: subject <prefix>.events (no tenant)', subject: (p) => `${p}.events`, payload: (i) => natsEventText(i.tenantA, i.eventId), expect: 'refused' },
    { name: 'NATS: subject <prefix>.event.<tenant>', subject: (p, t) => `${p}.event.${t}`, payload: (i) => natsEventText(i.tenantA, i.eventId), expect: 'refused' },
    { name: 'NATS: 1.3 MB event', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"parameters":{"blob":${bigString(Math.round(1.3 * MB))}}`), expect: 'refused' },
    { name: 'NATS: 10 MB event', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"parameters":{"blob":${bigString(10 * MB)}}`), expect: 'refused' },
    { name: 'NATS: NUL in the tool name', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, '', { tool: `drill${NUL}probe` }), expect: { reason: 'invalid_event' } },
  ];
  for (const u of UNSTORABLE) {
    if (u.what === '10,000-deep nesting') continue; // above, in parameters and in result
    cases.push({ name: `NATS: ${u.what} in parameters`, subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, `"parameters":${u.raw}`), expect: { reason: 'invalid_event' } });
  }
  cases.push({ name: 'NATS: nested array in result', subject: exact, payload: (i) => natsEventText(i.tenantA, i.eventId, '"result":[[1]]'), expect: { reason: 'invalid_event' } });
  return cases;
}
