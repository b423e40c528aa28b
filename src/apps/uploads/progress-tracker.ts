/**
 * Upload progress for the live events: bytes received, a moving-average rate and an ETA,
 * emitted at most every `intervalMs` (250 ms) however small the chunks. Pure bookkeeping; the
 * caller publishes what `sample()` returns. One tracker per upload lives across its PATCHes, so
 * the rate does not restart at every chunk.
 */
export interface UploadProgressEvent {
  type: "upload";
  bytes_received: number;
  total: number;
  percent: number;
  rate_bytes_per_s: number;
  eta_s: number | null;
}

/** Sliding window for the rate: long enough to smooth TCP bursts, short enough to follow a change of network. */
const WINDOW_MS = 5_000;

export class ProgressTracker {
  private readonly samples: { t: number; bytes: number }[] = [];
  private lastEmit = -Infinity;

  constructor(
    readonly total: number,
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Records that `bytes` (absolute offset) have arrived. Returns an event when one is due
   * (`force`: always, e.g. at the end of a PATCH), else null.
   */
  sample(bytes: number, force = false): UploadProgressEvent | null {
    const t = this.now();
    if (!force && t - this.lastEmit < this.intervalMs) return null;
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
    this.lastEmit = t;
    return this.event(bytes);
  }

  /** bytes per second over the window (0 until two samples exist) */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t <= 0) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.t - first.t));
  }

  /** Starts a new rate window (a new PATCH after a pause must not average in the idle time). */
  resume(bytes: number): void {
    this.samples.length = 0;
    this.samples.push({ t: this.now(), bytes });
  }

  private event(bytes: number): UploadProgressEvent {
    const rate = this.rate();
    const remaining = Math.max(0, this.total - bytes);
    return {
      type: "upload",
      bytes_received: bytes,
      total: this.total,
      percent: this.total > 0 ? Math.min(100, Math.round((bytes * 1000) / this.total) / 10) : 100,
      rate_bytes_per_s: Math.round(rate),
      eta_s: remaining === 0 ? 0 : rate > 0 ? Math.ceil(remaining / rate) : null,
    };
  }
}
