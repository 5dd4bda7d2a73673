import { compactValue, fingerprint, isTruncatedMarker, TRUNCATED_KEY } from './compact-value';

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
});
