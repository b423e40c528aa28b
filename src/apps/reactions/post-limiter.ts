/**
 * Per-user posting limits (comments, reactions): a fixed window per user and action, counted in
 * Redis when the process has it (every API instance sees the same count) and in an lru-cache
 * otherwise (one process). Kept in the service rather than in @fastify/rate-limit: that plugin
 * runs in onRequest, before the auth preHandler knows who the caller is, so keying it by user
 * would mean verifying the bearer token a second time per request; here the key is the
 * authenticated account, and only requests that passed auth and validation count.
 */
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { AppError } from "../../lib/errors.js";

export interface PostLimit {
  /** posts allowed per window */
  max: number;
  windowMs: number;
}

// INCR, start the window on the first hit, answer the count and the time left in one round trip.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export class PostLimiter {
  private readonly windows = new LRUCache<string, { count: number; resetAt: number }>({ max: 100_000 });

  constructor(
    private readonly opts: { enabled: boolean; redis: Redis | null; prefix: string },
    private readonly limits: Record<"comment" | "reaction", PostLimit>,
  ) {}

  /** Counts one post; throws 429 `throttled` with Retry-After once the window's budget is spent. */
  async hit(action: "comment" | "reaction", userId: string): Promise<void> {
    if (!this.opts.enabled) return;
    const { max, windowMs } = this.limits[action];
    const key = `${this.opts.prefix}:${action}:${userId}`;
    let count: number;
    let ttlMs: number;
    if (this.opts.redis) {
      const [n, ttl] = (await this.opts.redis.eval(HIT, 1, key, String(windowMs))) as [number, number];
      count = n;
      ttlMs = ttl;
    } else {
      const now = Date.now();
      let w = this.windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        this.windows.set(key, w, { ttl: windowMs });
      }
      count = ++w.count;
      ttlMs = w.resetAt - now;
    }
    if (count > max) {
      const retry = Math.max(1, Math.ceil(ttlMs / 1000));
      throw new AppError(429, "throttled", `Too many ${action}s: at most ${max} a minute. Try again in ${retry} s.`, { retry_after_s: retry }, { "retry-after": String(retry) });
    }
  }
}
