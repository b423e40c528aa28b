/**
 * Redis view counter (REDIS_URL): dedupe with a seen key that lives one window, the per-address
 * cap with a counter per video and address that lives one window from its first view (`INCR`,
 * `EXPIRE` on the first), and counts with `HINCRBY` on one pending hash, all in a single script
 * so a view costs one round trip and two instances cannot both take an address's last place.
 * Every instance runs a flusher that drains the hash atomically (HGETALL + DEL in a script), so
 * each increment reaches the database exactly once even with several API instances.
 */
import type { Redis } from "ioredis";
import type { Db } from "../../platform/db/db.js";
import { applyViewCounts, type Viewer, type ViewCounter, type ViewCounterOptions } from "./view-counter.js";

// KEYS[1] seen key, KEYS[2] pending hash, KEYS[3] the address's counter (ignored when ARGV[3] is
// '0': accounts); ARGV[1] window s, ARGV[2] video id, ARGV[3] the cap per address or '0'.
// A capped viewer is not marked seen: once the address's window ends it can count.
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local cap = tonumber(ARGV[3])
if cap > 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used >= cap then return 0 end
  if redis.call('INCR', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1`;
// KEYS[1] pending hash: returns its fields and values and removes it in one atomic step.
const DRAIN = `local v = redis.call('HGETALL', KEYS[1]) redis.call('DEL', KEYS[1]) return v`;

export class RedisViewCounter implements ViewCounter {
  private readonly timer: NodeJS.Timeout | null;
  private flushing: Promise<number> | null = null;
  private readonly pendingKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly db: Db,
    private readonly opts: ViewCounterOptions & { prefix?: string },
  ) {
    this.pendingKey = `${this.prefix}pending`;
    const every = opts.flushIntervalMs ?? 1000;
    this.timer = every > 0 ? setInterval(() => void this.flush().catch((err) => opts.onError?.(err)), every) : null;
    this.timer?.unref();
  }

  private get prefix(): string {
    return this.opts.prefix ?? "vidflux:views:";
  }

  async record(videoId: string, viewer: Viewer): Promise<boolean> {
    const seen = `${this.prefix}seen:${videoId}:${viewer.key}`;
    const address = viewer.address === null ? seen : `${this.prefix}addr:${videoId}:${viewer.address}`;
    const cap = viewer.address === null ? "0" : String(this.opts.maxPerAddress);
    const r = await this.redis.eval(RECORD, 3, seen, this.pendingKey, address, String(this.opts.windowS), videoId, cap);
    return Number(r) === 1;
  }

  async flush(): Promise<number> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing = this.drain();
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async drain(): Promise<number> {
    const flat = (await this.redis.eval(DRAIN, 1, this.pendingKey)) as string[];
    if (!flat.length) return 0;
    const counts = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counts.set(flat[i]!, Number(flat[i + 1]));
    try {
      return await applyViewCounts(this.db, counts);
    } catch (err) {
      // Give the counts back to the shared hash: this or another instance retries them.
      const m = this.redis.multi();
      for (const [id, n] of counts) m.hincrby(this.pendingKey, id, n);
      await m.exec();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
