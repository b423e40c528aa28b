/**
 * Exact counters under real concurrency: PostgreSQL only (SQLite runs one writer at a time, so it
 * cannot show a race). Requests go through the HTTP routes at once, over the pool's connections.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_DATABASE_URL } from "../../test/test-env.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { call, insertVideo, postComment } from "./reactions.fixtures.js";

if (!TEST_DATABASE_URL) console.warn("reactions.concurrency.test.ts: DATABASE_URL not set, skipping the PostgreSQL concurrency suite");

describe.skipIf(!TEST_DATABASE_URL)("reaction counters under concurrency (PostgreSQL)", () => {
  let h: Harness;
  let owner: TestUser;
  let users: TestUser[];

  beforeAll(async () => {
    h = await createHarness();
    owner = await createUser(h, { role: "uploader" });
    users = await Promise.all(Array.from({ length: 50 }, () => createUser(h, { role: "user" })));
  });
  afterAll(async () => h?.close());

  const counts = async (videoId: string) => h.ctx.db.selectFrom("videos").select(["likes", "dislikes"]).where("id", "=", videoId).executeTakeFirstOrThrow();
  const rows = async (videoId: string, kind: "like" | "dislike") =>
    (await h.ctx.db.selectFrom("reactions").select("user_id").where("video_id", "=", videoId).where("kind", "=", kind).execute()).length;

  it("50 users reacting at once give exact totals", async () => {
    const v = await insertVideo(h, owner.user.id);
    const answers = await Promise.all(users.map((u, i) => call(h, { method: "POST", url: `/api/videos/${v}/${i % 5 === 0 ? "dislike" : "like"}/`, as: u })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await counts(v)).toEqual({ likes: 40, dislikes: 10 });
    // everybody switches at once
    await Promise.all(users.map((u, i) => call(h, { method: "POST", url: `/api/videos/${v}/${i % 5 === 0 ? "like" : "dislike"}/`, as: u })));
    expect(await counts(v)).toEqual({ likes: 10, dislikes: 40 });
    await Promise.all(users.slice(0, 25).map((u) => call(h, { method: "DELETE", url: `/api/videos/${v}/like/`, as: u })));
    const after = await counts(v);
    expect(after).toEqual({ likes: await rows(v, "like"), dislikes: await rows(v, "dislike") });
    expect(after.likes + after.dislikes).toBe(25);
  });

  it("one user firing 20 concurrent likes counts one like", async () => {
    const v = await insertVideo(h, owner.user.id);
    const u = users[0]!;
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(h, { method: "POST", url: `/api/videos/${v}/like/`, as: u })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(await counts(v)).toEqual({ likes: 1, dislikes: 0 });
    // 20 concurrent switches and removals mixed: the counters still match the rows
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(h, { method: i % 3 === 0 ? "DELETE" : "POST", url: `/api/videos/${v}/${i % 2 ? "like" : "dislike"}/`, as: u })),
    );
    expect(await counts(v)).toEqual({ likes: await rows(v, "like"), dislikes: await rows(v, "dislike") });
  });

  it("comment likes and reply counts stay exact", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, owner, "count me");
    await Promise.all(users.flatMap((u) => [call(h, { method: "POST", url: `/api/comments/${c.id}/like/`, as: u }), call(h, { method: "POST", url: `/api/comments/${c.id}/like/`, as: u })]));
    await Promise.all(users.slice(0, 20).map((u) => call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: u, body: { text: "reply", parent_id: c.id } })));
    const row = await h.ctx.db.selectFrom("comments").select(["likes", "reply_count"]).where("id", "=", c.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ likes: 50, reply_count: 20 });
  });
});
