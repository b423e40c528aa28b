import { describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { lockerContract } from "./locker.contract.js";
import { MemoryLocker } from "./memory.locker.js";
import { RedisLocker } from "./redis.locker.js";
import { LockInterruptedError } from "./locker.js";

// One in-process locker is shared by every request of an instance: a and b are the same object.
lockerContract("memory", async () => {
  const l = new MemoryLocker();
  return { a: l, b: l, close: () => l.close() };
});

if (!TEST_REDIS_URL) console.warn("[vidflux] skipped: Redis locker contract (set REDIS_URL=redis://…)");

describe.skipIf(!TEST_REDIS_URL)("redis locker", () => {
  // Two lockers on two connections stand for two API instances.
  lockerContract("redis", async () => {
    const prefix = `vidflux-test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    const ra = new Redis(TEST_REDIS_URL!);
    const rb = new Redis(TEST_REDIS_URL!);
    const a = new RedisLocker(ra, { prefix, tickMs: 50 });
    const b = new RedisLocker(rb, { prefix, tickMs: 50 });
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        const keys = await ra.keys(`${prefix}*`);
        if (keys.length) await ra.del(...keys);
        ra.disconnect();
        rb.disconnect();
      },
    };
  });

  it("aborts the holder's signal when its lock expired and someone else took it", async () => {
    const prefix = `vidflux-test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    const r = new Redis(TEST_REDIS_URL!);
    try {
      const l = new RedisLocker(r, { prefix, ttlMs: 300, tickMs: 50 });
      const lock = await l.acquire("x");
      await r.set(`${prefix}lock:x`, "someone-else");
      await new Promise((res) => setTimeout(res, 200));
      expect(lock.signal.aborted).toBe(true);
      expect((lock.signal.reason as LockInterruptedError).why).toBe("lost");
      await lock.release();
      expect(await r.get(`${prefix}lock:x`)).toBe("someone-else");
      await r.del(`${prefix}lock:x`);
    } finally {
      r.disconnect();
    }
  });
});
