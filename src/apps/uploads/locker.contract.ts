/** The Locker contract, run against the memory and the Redis implementations. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LockInterruptedError, LockTimeoutError, type Locker } from "./locker.js";

export function lockerContract(name: string, make: () => Promise<{ a: Locker; b: Locker; close(): Promise<void> }>): void {
  describe(`Locker contract: ${name}`, () => {
    let a: Locker;
    let b: Locker;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ a, b, close } = await make());
    });
    afterAll(async () => {
      await close();
    });
    const key = () => `k-${Math.random().toString(36).slice(2)}`;

    it("gives a free lock at once and again after release", async () => {
      const k = key();
      const l1 = await a.acquire(k, { waitMs: 0 });
      await l1.release();
      const l2 = await b.acquire(k, { waitMs: 0 });
      expect(l2.signal.aborted).toBe(false);
      await l2.release();
    });

    it("refuses a held lock after waitMs without disturbing the holder when asked not to", async () => {
      const k = key();
      const l1 = await a.acquire(k);
      await expect(b.acquire(k, { waitMs: 150, requestRelease: false })).rejects.toBeInstanceOf(LockTimeoutError);
      expect(l1.signal.aborted).toBe(false);
      await l1.release();
    });

    it("asks the holder to let go and takes the lock once it does", async () => {
      const k = key();
      const l1 = await a.acquire(k);
      l1.signal.addEventListener("abort", () => void l1.release());
      const l2 = await b.acquire(k, { waitMs: 5_000 });
      expect(l1.signal.aborted).toBe(true);
      expect(l1.signal.reason).toBeInstanceOf(LockInterruptedError);
      expect(l2.signal.aborted).toBe(false);
      await l2.release();
    });

    it("releasing twice is harmless and never frees someone else's lock", async () => {
      const k = key();
      const l1 = await a.acquire(k);
      await l1.release();
      const l2 = await b.acquire(k, { waitMs: 0 });
      await l1.release();
      await expect(a.acquire(k, { waitMs: 100, requestRelease: false })).rejects.toBeInstanceOf(LockTimeoutError);
      await l2.release();
    });

    it("lets one of many concurrent waiters in at a time", async () => {
      const k = key();
      let inside = 0;
      let max = 0;
      await Promise.all(
        [a, b, a, b].map(async (l) => {
          const lock = await l.acquire(k, { waitMs: 10_000, requestRelease: false });
          inside++;
          max = Math.max(max, inside);
          await new Promise((r) => setTimeout(r, 30));
          inside--;
          await lock.release();
        }),
      );
      expect(max).toBe(1);
    });
  });
}
