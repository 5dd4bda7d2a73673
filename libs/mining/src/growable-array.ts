type TypedArray = Int32Array | Uint8Array | Uint16Array | Float64Array;
type Ctor<T extends TypedArray> = { new (n: number): T };

/** A typed array that doubles when full: compact storage for millions of numbers. */
export class Growable<T extends TypedArray> {
  data: T;
  length = 0;

  constructor(
    private readonly ctor: Ctor<T>,
    initial = 1024,
  ) {
    this.data = new ctor(initial);
  }

  push(v: number): number {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length] = v;
    return this.length++;
  }

  /** Makes room for `n` elements in all, without changing `length`. */
  reserve(n: number): void {
    if (n > this.data.length) this.grow(n);
  }

  private grow(min: number): void {
    const next = new this.ctor(Math.max(min, this.data.length * 2));
    (next as unknown as { set(a: T): void }).set(this.data);
    this.data = next;
  }

  /** The used part, as a copy. */
  toArray(): T {
    return this.data.slice(0, this.length) as T;
  }

  static from<T extends TypedArray>(ctor: Ctor<T>, src: TypedArray): Growable<T> {
    const g = new Growable(ctor, Math.max(16, src.length));
    (g.data as unknown as { set(a: TypedArray): void }).set(src);
    g.length = src.length;
    return g;
  }
}
