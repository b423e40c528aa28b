import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { describe } from "vitest";
import { createDb, migrateToLatest, type Db } from "../../platform/db/db.js";
import { newId, nowIso } from "../../lib/ids.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { MemoryViewCounter } from "./memory.view-counter.js";
import { RedisViewCounter } from "./redis.view-counter.js";
import { viewCounterContract, type ViewCounterHarness } from "./view-counter.contract.js";

async function sqliteDb(): Promise<{ db: Db; ownerId: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "vidflux-views-"));
  const db = createDb({ kind: "sqlite", sqlitePath: path.join(dir, "db.sqlite3") });
  await migrateToLatest(db);
  const ownerId = newId();
  await db
    .insertInto("users")
    .values({ id: ownerId, username: "owner", username_key: "owner", email: "o@example.com", password_hash: "x", role: "uploader", display_name: "Owner", bio: "", avatar_key: null, is_active: 1, date_joined: nowIso(), last_login: null })
    .execute();
  return {
    db,
    ownerId,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function insertVideo(db: Db, ownerId: string): Promise<string> {
  const id = newId();
  const now = nowIso();
  await db
    .insertInto("videos")
    .values({
      id, owner_id: ownerId, title: "t", description: "", visibility: "public", language: null, original_filename: "a.mp4", size_bytes: 1,
      status: "ready", playable: 1, failure_code: null, failure_message: null, progress: null, source_key: null, probe: null, duration_s: 2,
      media: null, chapters: null, poster_choice: null, custom_poster_key: null, views: 0, likes: 0, dislikes: 0, created_at: now, updated_at: now, published_at: now,
    })
    .execute();
  return id;
}

describe("MemoryViewCounter", () => {
  viewCounterContract("memory", async (): Promise<ViewCounterHarness> => {
    const s = await sqliteDb();
    return {
      db: s.db,
      make: (windowS, maxPerAddress) => new MemoryViewCounter(s.db, { windowS, maxPerAddress, flushIntervalMs: 0 }),
      newVideo: () => insertVideo(s.db, s.ownerId),
      close: () => s.close(),
    };
  });
});

if (!TEST_REDIS_URL) console.warn("[vidflux] skipped: RedisViewCounter contract (set REDIS_URL=redis://…)");
describe.skipIf(!TEST_REDIS_URL)("RedisViewCounter", () => {
  viewCounterContract("redis", async (): Promise<ViewCounterHarness> => {
    const s = await sqliteDb();
    const redis = new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: null });
    const prefix = `vidflux-test:${process.pid}:${newId()}:views:`;
    return {
      db: s.db,
      // Each counter gets its own prefix so dedupe state never leaks between tests.
      make: (windowS, maxPerAddress) => new RedisViewCounter(redis, s.db, { windowS, maxPerAddress, flushIntervalMs: 0, prefix: `${prefix}${newId()}:` }),
      newVideo: () => insertVideo(s.db, s.ownerId),
      async close() {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
        await s.close();
      },
    };
  });
});
