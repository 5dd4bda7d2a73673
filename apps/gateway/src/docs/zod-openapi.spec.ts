import { ListEventsQuery } from '../events/events.schemas';
import { ListPatternsQuery } from '../learning/learning.schemas';
import { VersionParam } from '../workflows/workflows.schemas';
import { openapiSchema } from './zod-openapi';

describe('openapiSchema: the document from the schemas that validate', () => {
  it('documents a numeric query parameter as the number it means, with its bounds', () => {
    const json = openapiSchema(ListPatternsQuery) as { properties: Record<string, unknown> };
    expect(json.properties.minConfidence).toEqual({ type: 'number', minimum: 0, maximum: 1 });
    expect(json.properties.limit).toEqual({ type: 'integer', minimum: 1, maximum: 200, default: 50 });
    expect(openapiSchema(VersionParam)).toEqual({ type: 'integer', minimum: 1, maximum: 1_000_000_000 });
  });

  it('refuses what the document refuses: an empty or fractional value is not 0 or 1', () => {
    expect(ListPatternsQuery.safeParse({ minConfidence: '' }).success).toBe(false);
    expect(ListPatternsQuery.safeParse({ limit: '1.5' }).success).toBe(false);
    expect(ListPatternsQuery.safeParse({ limit: '201' }).success).toBe(false);
    expect(ListPatternsQuery.parse({ minConfidence: '1e-05', limit: '3' })).toMatchObject({ minConfidence: 0.00001, limit: 3 });
  });

  it('states the time and cursor formats as patterns, and takes every value they allow', () => {
    const json = openapiSchema(ListEventsQuery) as { properties: Record<string, { pattern?: string }> };
    const time = new RegExp(json.properties.from.pattern!);
    const cursor = new RegExp(json.properties.cursor.pattern!);
    for (const t of ['0', '99999999999999', '0024-11-03 22:23z', '2026-02-31', '9999-12-31T23:59:59.123456789-2359']) {
      expect(time.test(t)).toBe(true);
      const parsed = ListEventsQuery.parse({ from: t });
      expect(Number.isNaN(parsed.from!.getTime())).toBe(false);
    }
    expect(time.test('2026-13-01')).toBe(false);
    expect(cursor.test('1733443200123~ZXZfMQ')).toBe(true);
    expect(ListEventsQuery.safeParse({ cursor: 'null' }).success).toBe(false);
  });
});
