import { RingQueue } from './ring-queue';

describe('RingQueue', () => {
  it('keeps FIFO order across growth and wrap-around, with unshift at the front', () => {
    const q = new RingQueue<number>(2);
    const expected: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        q.push(round * 100 + i);
        expected.push(round * 100 + i);
      }
      for (let i = 0; i < 25; i++) expect(q.shift()).toBe(expected.shift());
    }
    q.unshift(-1);
    expect(q.size).toBe(expected.length + 1);
    expect(q.drain()).toEqual([-1, ...expected]);
    expect(q.shift()).toBeUndefined();
    expect(q.size).toBe(0);
  });
});
