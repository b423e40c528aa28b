/**
 * Reusable read buffers for the media hot path. A fresh 1 MiB `Buffer.allocUnsafe` per request is
 * an mmap, 256 page faults and a munmap once the GC gets to it; at thousands of range requests a
 * second that churn costs more than the copy itself and lets RSS balloon between collections.
 * Buffers come in power-of-two classes (64 KiB … 2 MiB) and go back to the pool only once the
 * socket has taken their bytes (`res.end`/`res.write` callback without error). The pool keeps at
 * most `maxBytes`; beyond that, returned buffers are left to the GC.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly minClass = 64 * 1024,
    readonly maxClass = 2 * 1024 * 1024,
  ) {}

  /** The class size that holds `n` bytes (a power of two >= minClass), or null above maxClass. */
  classOf(n: number): number | null {
    if (n > this.maxClass) return null;
    let c = this.minClass;
    while (c < n) c *= 2;
    return c;
  }

  /** A buffer of at least `n` bytes (use `subarray(0, n)`); pooled when n <= maxClass. */
  take(n: number): Buffer {
    const c = this.classOf(n);
    if (c === null) return Buffer.allocUnsafeSlow(n);
    const list = this.free.get(c);
    const b = list?.pop();
    if (b) {
      this.pooledBytes -= b.length;
      return b;
    }
    // allocUnsafeSlow: outside Node's shared 8 KiB slab, so the whole buffer is ours to reuse.
    return Buffer.allocUnsafeSlow(c);
  }

  /** Returns a buffer obtained from `take` once nothing reads from it any more. */
  give(b: Buffer): void {
    if (this.classOf(b.length) !== b.length || b.length > this.maxBytes) return;
    // Over budget: idle buffers of other classes make room (the traffic's sizes changed), so the
    // class in use is recycled instead of churned through the GC.
    while (this.pooledBytes + b.length > this.maxBytes) {
      const other = [...this.free.entries()].find(([c, l]) => c !== b.length && l.length > 0);
      if (!other) return;
      other[1].pop();
      this.pooledBytes -= other[0];
    }
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    list.push(b);
    this.pooledBytes += b.length;
  }

  get size(): number {
    return this.pooledBytes;
  }
}
