/**
 * Redis locks for several API instances: `SET key token NX PX ttl`, renewed while held, released
 * only by the token's owner (compare-and-delete in Lua, so an expired holder cannot delete a lock
 * someone else took since). A waiter asks the holder to let go through a second key the holder
 * checks at every renewal tick.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { DEFAULT_LOCK_WAIT_MS, LockInterruptedError, LockTimeoutError, type AcquireOptions, type Lock, type Locker } from "./locker.js";

// KEYS[1] lock, KEYS[2] release request; ARGV[1] token, ARGV[2] ttl ms.
// → -1 lost, 0 held, 1 held and someone asks for it.
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return redis.call('exists', KEYS[2])
end
return -1`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

export interface RedisLockerOptions {
  /** key prefix, e.g. `vidflux:` (tests use a unique one) */
  prefix?: string;
  /** lock lifetime without renewal; a crashed holder's lock frees itself after this */
  ttlMs?: number;
  /** renewal and release-request check period */
  tickMs?: number;
  /** how often a waiter retries */
  pollMs?: number;
}

export class RedisLocker implements Locker {
  readonly kind = "redis" as const;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly tickMs: number;
  private readonly pollMs: number;
  private readonly live = new Set<() => Promise<void>>();

  constructor(
    private readonly redis: Redis,
    opts: RedisLockerOptions = {},
  ) {
    this.prefix = `${opts.prefix ?? "vidflux:"}lock:`;
    this.ttlMs = opts.ttlMs ?? 15_000;
    this.tickMs = opts.tickMs ?? Math.min(500, Math.floor(this.ttlMs / 3));
    this.pollMs = opts.pollMs ?? 50;
  }

  async acquire(key: string, opts: AcquireOptions = {}): Promise<Lock> {
    const lockKey = this.prefix + key;
    const releaseKey = `${lockKey}:release`;
    const token = randomUUID();
    const deadline = Date.now() + (opts.waitMs ?? DEFAULT_LOCK_WAIT_MS);
    for (;;) {
      const ok = await this.redis.set(lockKey, token, "PX", this.ttlMs, "NX");
      if (ok === "OK") {
        await this.redis.del(releaseKey);
        return this.hold(lockKey, releaseKey, token);
      }
      if (opts.requestRelease !== false) await this.redis.set(releaseKey, "1", "PX", this.ttlMs);
      if (Date.now() + this.pollMs > deadline) throw new LockTimeoutError(key);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private hold(lockKey: string, releaseKey: string, token: string): Lock {
    const ctrl = new AbortController();
    let ticking = false;
    const timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      this.redis
        .eval(RENEW, 2, lockKey, releaseKey, token, String(this.ttlMs))
        .then((r) => {
          if (ctrl.signal.aborted) return;
          if (Number(r) === -1) ctrl.abort(new LockInterruptedError("lost"));
          else if (Number(r) === 1) ctrl.abort(new LockInterruptedError("release_requested"));
        })
        // A Redis hiccup is not a loss yet: the TTL covers a few missed ticks.
        .catch(() => undefined)
        .finally(() => {
          ticking = false;
        });
    }, this.tickMs);
    timer.unref();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      this.live.delete(release);
      await this.redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
    };
    this.live.add(release);
    return { signal: ctrl.signal, release };
  }

  async close(): Promise<void> {
    for (const release of [...this.live]) await release();
  }
}
