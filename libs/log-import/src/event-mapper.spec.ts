import { findUnstorable } from '@toolpath/contracts';
import { storableKeys } from './event-mapper';

describe('storableKeys', () => {
  it('renames attribute names the store cannot hold as keys, so the log still imports', () => {
    const attributes = JSON.parse('{"amount.total":5,"$ref":"x","__proto__":1,"a\\u0000b":2,"plain":3}') as Record<string, unknown>;
    const out = storableKeys(attributes);
    expect(findUnstorable(attributes)).toBeDefined();
    expect(findUnstorable(out)).toBeUndefined();
    expect(Object.keys(out)).toEqual(['amount_total', '_ref', '_proto_', 'ab', 'plain']);
    expect(out.amount_total).toBe(5);
  });

  it('never lets a renamed attribute overwrite another', () => {
    const out = storableKeys({ 'a.b': 1, a_b: 2 });
    expect(out).toEqual({ a_b_: 1, a_b: 2 });
  });

  it('returns storable attributes as they are', () => {
    const attributes = { 'org:resource': 'Pete', amount: 3 };
    expect(storableKeys(attributes)).toBe(attributes);
  });
});
