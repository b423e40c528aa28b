/**
 * In-process view counter (no REDIS_URL): dedupe in a Map of expiry times, counts in a Map of
 * pending increments flushed every second. Entries share one window length, so the Map's
 * insertion order is expiry order and sweeping stops at the first live entry.
 */
import type { Db } from "../../platform/db/db.js";
import { applyViewCounts, type ViewCounter, type ViewCounterOptions } from "./view-counter.js";

export class MemoryViewCounter implements ViewCounter {
  private readonly seen = new Map<string, number>();
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | null;
  private flushing: Promise<number> | null = null;
  private readonly windowMs: number;
  private readonly maxSeen: number;

  constructor(
    private readonly db: Db,
    private readonly opts: ViewCounterOptions & { maxSeen?: number },
  ) {
    this.windowMs = opts.windowS * 1000;
    this.maxSeen = opts.maxSeen ?? 1_000_000;
    const every = opts.flushIntervalMs ?? 1000;
    this.timer = every > 0 ? setInterval(() => void this.flush().catch((err) => opts.onError?.(err)), every) : null;
    // The flusher must not keep a finished process (tests, CLI) alive.
    this.timer?.unref();
  }

  async record(videoId: string, viewer: string): Promise<boolean> {
    const now = Date.now();
    this.sweep(now);
    const key = `${videoId}\n${viewer}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    // Re-inserting moves the key to the end, keeping the Map in expiry order.
    this.seen.delete(key);
    this.seen.set(key, now + this.windowMs);
    this.pending.set(videoId, (this.pending.get(videoId) ?? 0) + 1);
    return true;
  }

  private sweep(now: number): void {
    for (const [k, until] of this.seen) {
      // Past the cap the oldest entries go early: a viewer may then count twice, never zero times.
      if (until > now && this.seen.size <= this.maxSeen) break;
      this.seen.delete(k);
    }
  }

  async flush(): Promise<number> {
    // One flush at a time; a caller arriving during a flush waits for it, then flushes what is new.
    while (this.flushing) await this.flushing.catch(() => undefined);
    const batch = this.pending;
    if (batch.size === 0) return 0;
    this.pending = new Map();
    this.flushing = applyViewCounts(this.db, batch).catch((err: unknown) => {
      // Put the counts back so the next tick retries them.
      for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
      throw err;
    });
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
