/**
 * A line diff for showing two workflow versions side by side (pure; no React).
 *
 *   sideBySide(lineDiff(oldText, newText)) // → rows of { left, right, kind }
 *
 * Longest common subsequence over lines: O(n·m) time and memory, fine for definitions of a few
 * hundred lines; larger inputs fall back to "everything changed" rather than freeze the page.
 */

export type DiffOp = { kind: 'same' | 'removed' | 'added'; text: string };

export interface DiffSide {
  /** 1-based line number in its text */
  n: number;
  text: string;
}

export interface DiffRow {
  kind: 'same' | 'removed' | 'added' | 'changed';
  left?: DiffSide;
  right?: DiffSide;
}

/** Beyond this many cells the LCS table is not built. */
const MAX_CELLS = 4_000_000;

export function lineDiff(a: string, b: string): DiffOp[] {
  const x = a === '' ? [] : a.split('\n');
  const y = b === '' ? [] : b.split('\n');
  // Common head and tail first: most versions differ in a few lines only.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const middle: DiffOp[] = [];
  if ((xs.length + 1) * (ys.length + 1) > MAX_CELLS) {
    for (const text of xs) middle.push({ kind: 'removed', text });
    for (const text of ys) middle.push({ kind: 'added', text });
  } else {
    // lcs[i][j] = length of the LCS of xs[i..] and ys[j..]
    const w = ys.length + 1;
    const lcs = new Uint32Array((xs.length + 1) * w);
    for (let i = xs.length - 1; i >= 0; i--) {
      for (let j = ys.length - 1; j >= 0; j--) {
        lcs[i * w + j] = xs[i] === ys[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < xs.length || j < ys.length) {
      if (i < xs.length && j < ys.length && xs[i] === ys[j]) {
        middle.push({ kind: 'same', text: xs[i] });
        i++;
        j++;
      } else if (j < ys.length && (i === xs.length || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) {
        middle.push({ kind: 'added', text: ys[j++] });
      } else {
        middle.push({ kind: 'removed', text: xs[i++] });
      }
    }
  }
  return [
    ...x.slice(0, head).map((text) => ({ kind: 'same' as const, text })),
    ...middle,
    ...x.slice(x.length - tail).map((text) => ({ kind: 'same' as const, text })),
  ];
}

/** Rows for two columns: a run of removals facing a run of additions pairs up as "changed" lines. */
export function sideBySide(ops: DiffOp[]): DiffRow[] {
  const rows: DiffRow[] = [];
  let ln = 0;
  let rn = 0;
  let k = 0;
  while (k < ops.length) {
    if (ops[k].kind === 'same') {
      rows.push({ kind: 'same', left: { n: ++ln, text: ops[k].text }, right: { n: ++rn, text: ops[k].text } });
      k++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    while (k < ops.length && ops[k].kind !== 'same') {
      (ops[k].kind === 'removed' ? removed : added).push(ops[k].text);
      k++;
    }
    for (let r = 0; r < Math.max(removed.length, added.length); r++) {
      const left = r < removed.length ? { n: ++ln, text: removed[r] } : undefined;
      const right = r < added.length ? { n: ++rn, text: added[r] } : undefined;
      rows.push({ kind: left && right ? 'changed' : left ? 'removed' : 'added', ...(left ? { left } : {}), ...(right ? { right } : {}) });
    }
  }
  return rows;
}
