/**
 * The worker pool with real threads (src/test/spin.thread.ts spins the CPU like a long parse):
 * answers and moved buffers, the bounded queue, the per-task time limit, errors, close.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SpinTask } from "../test/spin.thread.js";
import { WorkerPool, WorkerPoolError } from "./worker-pool.js";

const ENTRY = new URL("../test/spin.thread.ts", import.meta.url);

describe("WorkerPool", () => {
  const pools: Array<WorkerPool<SpinTask, { doubled: Uint8Array }>> = [];
  const pool = (size: number, maxQueue: number, taskTimeoutMs = 10_000) => {
    const p = new WorkerPool<SpinTask, { doubled: Uint8Array }>(ENTRY, { size, maxQueue, taskTimeoutMs });
    pools.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.close();
  });

  it("runs tasks in threads while this event loop stays free", async () => {
    const p = pool(2, 10);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const results = await Promise.all([1, 2, 3, 4].map((value) => p.run({ ms: 150, value })));
    clearInterval(timer);
    expect(results.map((r) => Array.from(r.doubled))).toEqual([[2], [4], [6], [8]]);
    // 4 × 150 ms of spinning on 2 threads: this loop kept ticking meanwhile
    expect(ticks).toBeGreaterThan(10);
    expect(p.pending).toBe(0);
  });

  it("refuses a task past the queue bound at once (busy), then takes tasks again", async () => {
    const p = pool(1, 1);
    const running = p.run({ ms: 300, value: 1 });
    const queued = p.run({ ms: 0, value: 2 });
    await expect(p.run({ ms: 0, value: 3 })).rejects.toMatchObject({ name: "WorkerPoolError", code: "busy" });
    expect((await running).doubled[0]).toBe(2);
    expect((await queued).doubled[0]).toBe(4);
    expect((await p.run({ ms: 0, value: 5 })).doubled[0]).toBe(10);
  });

  it("a task over its time limit fails with timeout, its thread is replaced", async () => {
    const p = pool(1, 4, 200);
    const t0 = Date.now();
    await expect(p.run({ ms: 5000, value: 1 })).rejects.toMatchObject({ code: "timeout" });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await p.run({ ms: 0, value: 7 })).doubled[0]).toBe(14);
  });

  it("an error thrown in the thread rejects that task only", async () => {
    const p = pool(1, 4);
    await expect(p.run({ ms: 0, value: 1, fail: "bad input" })).rejects.toThrow("bad input");
    expect((await p.run({ ms: 0, value: 2 })).doubled[0]).toBe(4);
  });

  it("close fails running and waiting tasks and refuses new ones", async () => {
    const p = pool(1, 4);
    const running = p.run({ ms: 2000, value: 1 });
    const waiting = p.run({ ms: 0, value: 2 });
    await new Promise((r) => setTimeout(r, 100));
    // The expectations are attached before close() rejects the tasks: a rejection nobody
    // listens to yet is an unhandled rejection, which fails the whole run.
    const runningRejected = expect(running).rejects.toBeInstanceOf(WorkerPoolError);
    const waitingRejected = expect(waiting).rejects.toMatchObject({ code: "closed" });
    await p.close();
    await runningRejected;
    await waitingRejected;
    await expect(p.run({ ms: 0, value: 3 })).rejects.toMatchObject({ code: "closed" });
  });
});

describe("WorkerPool with an entry that cannot start", () => {
  it("fails the waiting tasks instead of respawning forever", async () => {
    const p = new WorkerPool<SpinTask, { doubled: Uint8Array }>(new URL("../test/no-such.thread.ts", import.meta.url), { size: 1, maxQueue: 4, taskTimeoutMs: 1000 });
    try {
      const results = await Promise.allSettled([1, 2, 3].map((value) => p.run({ ms: 0, value })));
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: "crashed" });
    } finally {
      await p.close();
    }
  });
});
