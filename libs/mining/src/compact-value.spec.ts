import { compactResult, compactValue, fingerprint, isTruncatedMarker, MAX_JSON_TEXT_DEPTH, parseJsonText, TRUNCATED_KEY } from './compact-value';

describe('compactValue and fingerprint', () => {
  it('cut deep nesting without overflowing the stack', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const c = compactValue(deep) as unknown[];
    let v: unknown = c;
    for (let i = 0; i < 6; i++) v = (v as unknown[])[0];
    expect(isTruncatedMarker(v)).toBe(true);
    expect(typeof fingerprint(deep)).toBe('number');
  });

  it('truncate long strings and big containers, keeping a fingerprint of the whole', () => {
    const a = `${'x'.repeat(10_000)}a`;
    const b = `${'x'.repeat(10_000)}b`;
    expect((compactValue(a) as string).length).toBeLessThan(300);
    expect(compactValue(a)).not.toEqual(compactValue(b));
    expect(isTruncatedMarker(compactValue(new Array(1000).fill(1)))).toBe(true);
    expect(String(compactValue(a))).toContain(`${TRUNCATED_KEY}#`);
  });

  it('fingerprint canonical JSON: key order does not matter, types do', () => {
    expect(fingerprint({ a: 1, b: [1, 'x'] })).toBe(fingerprint({ b: [1, 'x'], a: 1 }));
    expect(fingerprint(1)).not.toBe(fingerprint('1'));
    expect(fingerprint({ a: null })).not.toBe(fingerprint({ a: undefined }));
  });

  it('drop prototype keys', () => {
    const raw = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    expect(compactValue(raw)).toEqual({ ok: 1 });
  });

  it('parse a result given as JSON text before compaction, so a long one keeps its fields', () => {
    const text = JSON.stringify({ reservation_id: 'ABC123', flights: [{ flight_number: 'HAT001' }], notes: 'x'.repeat(5_000) });
    const { value, jsonText } = compactResult(text);
    expect(jsonText).toBe(true);
    expect(value).toMatchObject({ reservation_id: 'ABC123', flights: [{ flight_number: 'HAT001' }] });
    expect(compactResult('  [1, 2]').value).toEqual([1, 2]);
    // Plain text, JSON scalars, broken JSON stay strings (and are cut like strings).
    for (const t of ['Error: user not found', '"quoted"', '42', '{"a": 1', `{${'y'.repeat(300)}`]) {
      expect(compactResult(t).jsonText).toBe(false);
    }
    expect(compactResult({ a: 1 })).toEqual({ value: { a: 1 }, jsonText: false });
  });

  it('leave JSON text nested deeper than the bound unparsed, without overflowing the stack', () => {
    const deep = `${'['.repeat(MAX_JSON_TEXT_DEPTH + 1)}${']'.repeat(MAX_JSON_TEXT_DEPTH + 1)}`;
    expect(parseJsonText(deep)).toBeUndefined();
    expect(parseJsonText('["[[[[", {"a": "]]]"}]')).toEqual(['[[[[', { a: ']]]' }]);
    const huge = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(compactResult(huge).jsonText).toBe(false);
  });
});
