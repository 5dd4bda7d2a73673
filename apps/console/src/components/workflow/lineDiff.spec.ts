import { lineDiff, sideBySide } from './lineDiff';

describe('lineDiff', () => {
  it('keeps common lines and pairs a removal with the addition facing it', () => {
    const rows = sideBySide(lineDiff('a\nb\nc\nd', 'a\nB\nc\nd\ne'));
    expect(rows.map((r) => [r.kind, r.left?.text ?? null, r.right?.text ?? null])).toEqual([
      ['same', 'a', 'a'],
      ['changed', 'b', 'B'],
      ['same', 'c', 'c'],
      ['same', 'd', 'd'],
      ['added', null, 'e'],
    ]);
    expect(rows[4].right?.n).toBe(5);
  });

  it('finds the longest common run of lines, not only a common head and tail', () => {
    expect(lineDiff('x\na\nb\ny', 'a\nz\nb').map((o) => `${o.kind[0]}${o.text}`)).toEqual(['rx', 'sa', 'az', 'sb', 'ry']);
  });
});
