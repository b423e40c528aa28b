/**
 * In-process view counter (no REDIS_URL): dedupe in a bounded LRU cache whose entries live one
 * window, counts in a Map of pending increments flushed every second. Past the bound the least
 * recently counted viewer goes early: a viewer may then count twice, never zero times. The
 * per-address cap counts in a second LRU of the same bound, one entry per video and address
 * living one window from the address's first counted view (a fixed window: more views from it do
 * not push the end back).
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../../platform/db/db.js";
import { applyViewCounts, type Viewer, type ViewCounter, type ViewCounterOptions } from "./view-counter.js";

export class MemoryViewCounter implements ViewCounter {
  /** viewers counted within the window, by `video\nviewer` */
  private readonly seen: LRUCache<string, true>;
  /** anonymous views counted within the window, by `video\naddress` (mutated in place: the TTL stays the first view's) */
  private readonly perAddress: LRUCache<string, { n: number }>;
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | null;
  private flushing: Promise<number> | null = null;

  constructor(
    private readonly db: Db,
    private readonly opts: ViewCounterOptions & { maxSeen?: number },
  ) {
    // The bound is a `maxSize` of one unit per viewer, not `max`: lru-cache preallocates its arrays
    // for `max` entries (a million here: ~25 MB of RSS at start-up for an empty cache), while a
    // size bound grows with use. lru-cache reads ttl 0 as "never expires": a window is at least 1 ms.
    const ttl = Math.max(1, Math.round(opts.windowS * 1000));
    this.seen = new LRUCache({ maxSize: opts.maxSeen ?? 1_000_000, sizeCalculation: () => 1, ttl });
    this.perAddress = new LRUCache({ maxSize: opts.maxSeen ?? 1_000_000, sizeCalculation: () => 1, ttl });
    const every = opts.flushIntervalMs ?? 1000;
    this.timer = every > 0 ? setInterval(() => void this.flush().catch((err) => opts.onError?.(err)), every) : null;
    // The flusher must not keep a finished process (tests, CLI) alive.
    this.timer?.unref();
  }

  async record(videoId: string, viewer: Viewer): Promise<boolean> {
    const key = `${videoId}\n${viewer.key}`;
    // `has` ignores an entry older than the window (and does not refresh its age).
    if (this.seen.has(key)) return false;
    if (viewer.address !== null) {
      const akey = `${videoId}\n${viewer.address}`;
      const used = this.perAddress.get(akey);
      // Not marked seen: once the address's window ends, this viewer can count.
      if (used && used.n >= this.opts.maxPerAddress) return false;
      if (used) used.n++;
      else this.perAddress.set(akey, { n: 1 });
    }
    this.seen.set(key, true);
    this.pending.set(videoId, (this.pending.get(videoId) ?? 0) + 1);
    return true;
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
