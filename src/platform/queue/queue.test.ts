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
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "../../test/test-env.js";
import { createDb, migrateToLatest, type Db } from "../db/db.js";
import { BullQueue } from "./bullmq.queue.js";
import { DbQueue } from "./db.queue.js";
import { queueContract, type ContractQueueOptions, type QueueHarness } from "./queue.contract.js";
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
