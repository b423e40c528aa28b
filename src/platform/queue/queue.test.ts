/**
 * Runs the queue contract on the embedded queue over SQLite (always), over Postgres (DATABASE_URL)
 * and on BullMQ (REDIS_URL), plus the adapter choice of createQueue.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { Redis } from "ioredis";
import { Queue as BullMQQueue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "../../test/test-env.js";
import { createDb, migrateToLatest, type Db } from "../db/db.js";
import { BullQueue, fairKeys } from "./bullmq.queue.js";
import { DbQueue } from "./db.queue.js";
import { fastPolicies, queueContract, transcodeJob, transcodeResult, type ContractQueueOptions, type QueueHarness } from "./queue.contract.js";
import type { JobEvent } from "./queue.js";
import { createQueue } from "./queue.factory.js";

const pgUrl = TEST_DATABASE_URL;
const redisUrl = TEST_REDIS_URL;
if (!pgUrl) console.warn("skipped: Queue contract on DbQueue over Postgres (DATABASE_URL is not a postgres URL)");
if (!redisUrl) console.warn("skipped: Queue contract on BullQueue (REDIS_URL not set)");

/** Short polling and abort grace so the suite is quick; the lease comes from the policies. */
function dbQueue(db: Db, dialect: "sqlite" | "postgres", o: ContractQueueOptions = {}): DbQueue {
  return new DbQueue(db, { dialect, policies: o.policies, pollMs: 20, reapMs: 100, abortGraceMs: 300 });
}

queueContract("DbQueue over SQLite", {
  skip: false,
  async setup(): Promise<QueueHarness> {
    const dir = mkdtempSync(path.join(tmpdir(), "vidflux-queue-"));
    const sqlitePath = path.join(dir, "queue.sqlite3");
    const db = createDb({ kind: "sqlite", sqlitePath });
    await migrateToLatest(db);
    const others: Db[] = [];
    return {
      open: (o) => dbQueue(db, "sqlite", o),
      openElsewhere: (o) => {
        const other = createDb({ kind: "sqlite", sqlitePath });
        others.push(other);
        return dbQueue(other, "sqlite", o);
      },
      reset: async () => {
        await db.deleteFrom("jobs").execute();
      },
      crashSpec: () => ({ kind: "db", dialect: "sqlite", sqlitePath }),
      dispose: async () => {
        for (const other of others) await other.destroy();
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

queueContract("DbQueue over Postgres", {
  skip: !pgUrl,
  async setup(): Promise<QueueHarness> {
    const url = pgUrl!;
    const schema = `queue_test_${randomUUID().replace(/-/g, "")}`;
    const admin = createDb({ kind: "postgres", url, sqlitePath: "" });
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    const db = createDb({ kind: "postgres", url, schema, sqlitePath: "" });
    await migrateToLatest(db, schema);
    const others: Db[] = [];
    return {
      open: (o) => dbQueue(db, "postgres", o),
      openElsewhere: (o) => {
        const other = createDb({ kind: "postgres", url, schema, sqlitePath: "", poolSize: 2 });
        others.push(other);
        return dbQueue(other, "postgres", o);
      },
      reset: async () => {
        await db.deleteFrom("jobs").execute();
      },
      crashSpec: () => ({ kind: "db", dialect: "postgres", url, schema }),
      dispose: async () => {
        for (const other of others) await other.destroy();
        await db.destroy();
        await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
        await admin.destroy();
      },
    };
  },
});

queueContract("BullQueue", {
  skip: !redisUrl,
  async setup(): Promise<QueueHarness> {
    const url = redisUrl!;
    const prefix = `vidflux-test-${randomUUID()}`;
    const redis = new Redis(url);
    const deleteKeys = async () => {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    };
    const open = (o: ContractQueueOptions = {}) =>
      new BullQueue(url, { prefix, policies: o.policies, lockDurationMs: 5_000, stalledIntervalMs: 300, abortGraceMs: 300 });
    return {
      open,
      openElsewhere: open,
      reset: deleteKeys,
      crashSpec: () => ({ kind: "bullmq", redisUrl: url, prefix }),
      dispose: async () => {
        await deleteKeys();
        await redis.quit();
      },
    };
  },
});

/**
 * BullMQ's admission (see bullmq.queue.ts) puts a job in its key's line, adds it held, and later
 * chooses and promotes it: a process dying between two of those steps must neither lose the job
 * nor hold anybody up. The states such a death leaves are written here by hand, as the scripts
 * leave them.
 */
describe.skipIf(!redisUrl)("BullQueue admission when a process dies mid-way", () => {
  const NAME = "video.transcode" as const;
  const HOLD_MS = 24 * 3600 * 1000;
  const prefix = `vidflux-test-admit-${randomUUID()}`;
  const keys = fairKeys(prefix, NAME);
  let redis: Redis;
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = () => {
    const q = new BullQueue(redisUrl!, { prefix, policies: fastPolicies(), lockDurationMs: 5_000, stalledIntervalMs: 300, abortGraceMs: 300, admitIntervalMs: 100, admitStaleMs: 300 });
    opened.push(q);
    return q;
  };
  const completions = (q: BullQueue) => {
    const done = new Set<string>();
    q.onEvent((e: JobEvent) => e.kind === "completed" && done.add(e.jobId));
    return async (jobId: string, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!done.has(jobId)) {
        if (Date.now() > deadline) throw new Error(`${jobId} did not complete within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
  };

  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await Promise.all(opened.map((q) => q.close()));
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== "0");
    await redis.quit();
  });

  it("an admission whose process died after choosing the job but before promoting it is made again", async () => {
    const q = open();
    const completed = completions(q);
    const [first, second] = [`job-${randomUUID()}`, `job-${randomUUID()}`];
    await q.enqueue(NAME, transcodeJob("first"), { jobId: first, fairnessKey: "k1" });
    // the wait list holds `first`: `second` stays held in its line
    await q.enqueue(NAME, transcodeJob("second"), { jobId: second, fairnessKey: "k2" });
    expect(await redis.lrange(`${keys.base}list:k2`, 0, -1)).toEqual([second]);
    // what the admission script leaves when its process dies before the promote
    await redis.multi().lpop(`${keys.base}list:k2`).hdel(keys.keyof, second).zrem(keys.ready, "k2").zadd(keys.admitting, Date.now(), second).exec();

    await q.work({ [NAME]: async (payload) => transcodeResult(payload.videoId) }, { concurrency: 1 });
    await completed(first);
    await completed(second);
    expect(await redis.zcard(keys.admitting)).toBe(0);
  });

  it("an enqueue that died between putting its job in line and adding it holds up nobody, and one still adding keeps its place", async () => {
    const q = open();
    const completed = completions(q);
    await q.work({ [NAME]: async (payload) => transcodeResult(payload.videoId) }, { concurrency: 1 });
    // listed by an enqueue that then died: nothing to admit, and its marker runs out
    // (as the hold script writes it: one atomic step)
    const listed = (id: string, markerMs: number) =>
      redis.multi().set(`${keys.base}adding:${id}`, "1", "PX", markerMs).rpush(`${keys.base}list:k`, id).hset(keys.keyof, id, "k").zadd(keys.ready, -1e12, "k").exec();
    const ghost = `job-${randomUUID()}`;
    await listed(ghost, 500);
    const behind = `job-${randomUUID()}`;
    await q.enqueue(NAME, transcodeJob("behind"), { jobId: behind, fairnessKey: "k" });
    await completed(behind);

    // listed by an enqueue still adding its job: the admitter passes it by until the job is there
    const slow = `job-${randomUUID()}`;
    await listed(slow, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.lrange(`${keys.base}list:k`, 0, -1)).toEqual([slow]);
    const bull = new BullMQQueue(NAME, { connection: { url: redisUrl!, maxRetriesPerRequest: null }, prefix });
    opened.push(bull);
    await bull.add(NAME, transcodeJob("slow"), { jobId: slow, delay: HOLD_MS, attempts: 1 });
    await redis.del(`${keys.base}adding:${slow}`);
    await completed(slow);
  });
});

describe("createQueue", () => {
  it("picks BullMQ when REDIS_URL is set, else the embedded queue", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vidflux-queue-factory-"));
    const db = createDb({ kind: "sqlite", sqlitePath: path.join(dir, "db.sqlite3") });
    try {
      const embedded = await createQueue(loadConfig({ NODE_ENV: "test", DATA_DIR: dir }), db);
      expect(embedded.kind).toBe("memory");
      await embedded.close();
      if (redisUrl) {
        const bull = await createQueue(loadConfig({ NODE_ENV: "test", DATA_DIR: dir, REDIS_URL: redisUrl }), db);
        expect(bull.kind).toBe("bullmq");
        await bull.close();
      }
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
