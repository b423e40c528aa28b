/**
 * Per-device control rate limit: a token bucket per session and device (`rate` messages per
 * second, bursts of `burst`). A remote's seek bar can emit dozens of seeks a second while
 * dragged; the bucket lets a drag through and stops a flood, without a round trip to Redis on
 * every frame (the HTTP fallback's requests also pass the API-wide limiter). Bounded LRU, like
 * every in-memory cache here.
 */
import { LRUCache } from "lru-cache";
import { AppError } from "../../lib/errors.js";

interface Bucket {
  tokens: number;
  at: number;
}

export class ControlLimiter {
  private readonly buckets = new LRUCache<string, Bucket>({ max: 100_000 });

  constructor(private readonly opts: { enabled: boolean; rate: number; burst: number; now?: () => number }) {}

  /** Takes one token for `key`; throws 429 `rate_limited` when the bucket is empty. */
  take(key: string): void {
    if (!this.opts.enabled) return;
    const now = this.opts.now?.() ?? Date.now();
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.rate);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      const retryMs = Math.ceil(((1 - b.tokens) / this.opts.rate) * 1000);
      // Fractional seconds: the bucket refills in tenths of a second, which the header (whole
      // seconds, RFC 9110 §10.2.3) cannot say; `retry_after_s` is every limit error's field.
      throw new AppError(429, "rate_limited", "Too many control messages; slow down.", { retry_after_s: retryMs / 1000 }, { "retry-after": String(Math.ceil(retryMs / 1000)) });
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
  }
}
