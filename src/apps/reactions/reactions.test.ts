import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import type { VideoDetail } from "../videos/index.js";
import { call, insertVideo, postComment } from "./reactions.fixtures.js";
import type { ReactionState } from "./reactions.schemas.js";

let h: Harness;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  h = await createHarness();
  owner = await createUser(h, { role: "uploader" });
  alice = await createUser(h, { role: "user" });
  bob = await createUser(h, { role: "user" });
});
afterAll(async () => h?.close());

const react = (videoId: string, as: TestUser, kind: "like" | "dislike", method: "POST" | "DELETE" = "POST", body?: unknown) =>
  call<ReactionState>(h, { method, url: `/api/videos/${videoId}/${kind}/`, as, body });

describe("likes and dislikes", () => {
  it("sets, repeats without change, switches and removes, answering {likes, dislikes, my_reaction}", async () => {
    const v = await insertVideo(h, owner.user.id);
    expect((await react(v, alice, "like")).json).toEqual({ likes: 1, dislikes: 0, my_reaction: "like" });
    // the same POST again (a retry, a double click) changes nothing
    expect((await react(v, alice, "like")).json).toEqual({ likes: 1, dislikes: 0, my_reaction: "like" });
    expect((await react(v, bob, "like")).json).toEqual({ likes: 2, dislikes: 0, my_reaction: "like" });
    // liking a disliked video switches it, and back
    expect((await react(v, alice, "dislike")).json).toEqual({ likes: 1, dislikes: 1, my_reaction: "dislike" });
    expect((await react(v, alice, "dislike")).json).toEqual({ likes: 1, dislikes: 1, my_reaction: "dislike" });
    // DELETE on either URL removes whichever reaction it is; again changes nothing
    expect((await react(v, alice, "like", "DELETE")).json).toEqual({ likes: 1, dislikes: 0, my_reaction: null });
    expect((await react(v, alice, "dislike", "DELETE")).json).toEqual({ likes: 1, dislikes: 0, my_reaction: null });
    const rows = await h.ctx.db.selectFrom("reactions").selectAll().where("video_id", "=", v).execute();
    expect(rows.map((r) => [r.user_id, r.kind])).toEqual([[bob.user.id, "like"]]);
  });

  it("accepts no body or {}, refuses a body with fields", async () => {
    const v = await insertVideo(h, owner.user.id);
    expect((await react(v, alice, "like", "POST", {})).status).toBe(200);
    const bad = await react(v, bob, "like", "POST", { kind: "dislike" });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.code).toBe("validation_error");
    expect((await react(v, bob, "like", "POST", "not json")).status).toBe(400);
    expect((await h.ctx.db.selectFrom("reactions").selectAll().where("video_id", "=", v).execute()).length).toBe(1);
  });

  it("shows counts on the detail and list, my_reaction on the detail for the signed-in viewer", async () => {
    const v = await insertVideo(h, owner.user.id);
    await react(v, alice, "dislike");
    const mine = await call<VideoDetail>(h, { method: "GET", url: `/api/videos/${v}/`, as: alice });
    expect([mine.json.likes, mine.json.dislikes, mine.json.my_reaction, mine.json.comments_enabled]).toEqual([0, 1, "dislike", true]);
    expect((await call<VideoDetail>(h, { method: "GET", url: `/api/videos/${v}/`, as: bob })).json.my_reaction).toBeNull();
    expect((await call<VideoDetail>(h, { method: "GET", url: `/api/videos/${v}/` })).json.my_reaction).toBeNull();
    const list = await call<{ results: { id: string; likes: number; dislikes: number }[] }>(h, { method: "GET", url: `/api/videos/?owner=${owner.user.id}` });
    expect(list.json.results.find((r) => r.id === v)).toMatchObject({ likes: 0, dislikes: 1 });
  });

  it("answers 404 for a video that is not playable yet, and for a malformed or unknown id", async () => {
    const v = await insertVideo(h, owner.user.id, { playable: false });
    expect((await react(v, alice, "like")).status).toBe(404);
    expect((await react("00000000-0000-4000-8000-000000000000", alice, "like")).status).toBe(404);
    expect((await react("nope", alice, "like")).status).toBe(400);
  });
});

describe("comments_enabled in the video PATCH", () => {
  it("turns comments off for the owner: new ones get 403 comments_disabled, existing ones stay read-only", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, alice, "before");
    const off = await call<VideoDetail>(h, { method: "PATCH", url: `/api/videos/${v}/`, as: owner, body: { comments_enabled: false } });
    expect([off.status, off.json.comments_enabled]).toEqual([200, false]);
    const refused = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: { text: "after" } });
    expect([refused.status, refused.json.error?.code]).toEqual([403, "comments_disabled"]);
    const edit = await call(h, { method: "PATCH", url: `/api/comments/${c.id}/`, as: alice, body: { text: "edited" } });
    expect([edit.status, edit.json.error?.code]).toEqual([403, "comments_disabled"]);
    const list = await call<{ results: { text: string }[] }>(h, { method: "GET", url: `/api/videos/${v}/comments/` });
    expect(list.json.results.map((r) => r.text)).toEqual(["before"]);
    expect((await call(h, { method: "PATCH", url: `/api/videos/${v}/`, as: alice, body: { comments_enabled: true } })).status).toBe(403);
    expect((await call(h, { method: "PATCH", url: `/api/videos/${v}/`, as: owner, body: { comments_enabled: "no" } })).status).toBe(400);
  });
});

describe("deletions", () => {
  it("deleting an account removes its reactions and comment likes, counters follow, its comments show as deleted account", async () => {
    const v = await insertVideo(h, owner.user.id);
    const leaving = await createUser(h, { role: "user" });
    await react(v, leaving, "like");
    await react(v, alice, "dislike");
    const c = await postComment(h, v, alice, "stays");
    const theirs = await postComment(h, v, leaving, "mine");
    await call(h, { method: "POST", url: `/api/comments/${c.id}/like/`, as: leaving });
    const del = await call(h, { method: "DELETE", url: "/api/users/me/", as: leaving, body: { password: leaving.password } });
    expect(del.status).toBe(204);
    const counts = await h.ctx.db.selectFrom("videos").select(["likes", "dislikes"]).where("id", "=", v).executeTakeFirstOrThrow();
    expect(counts).toEqual({ likes: 0, dislikes: 1 });
    const list = await call<{ results: { id: string; likes: number; author: unknown; text: string }[] }>(h, { method: "GET", url: `/api/videos/${v}/comments/` });
    expect(list.json.results.find((r) => r.id === c.id)?.likes).toBe(0);
    expect(list.json.results.find((r) => r.id === theirs.id)).toMatchObject({ author: null, text: "mine" });
  });

  it("deleting a video removes its comments, reactions and reports", async () => {
    const v = await insertVideo(h, owner.user.id);
    await react(v, alice, "like");
    const c = await postComment(h, v, alice, "going");
    await postComment(h, v, bob, "reply", c.id);
    await call(h, { method: "POST", url: `/api/comments/${c.id}/like/`, as: bob });
    await call(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "spam" } });
    expect((await call(h, { method: "DELETE", url: `/api/videos/${v}/`, as: owner })).status).toBe(204);
    for (const t of ["reactions", "comments", "reports"] as const) {
      expect((await h.ctx.db.selectFrom(t).select("video_id").where("video_id", "=", v).execute()).length).toBe(0);
    }
    expect((await h.ctx.db.selectFrom("comment_likes").selectAll().where("comment_id", "=", c.id).execute()).length).toBe(0);
  });
});

describe("posting limits (RATE_LIMIT on)", () => {
  let r: Harness;
  beforeAll(async () => {
    r = await createHarness({ RATE_LIMIT: "true", RATE_LIMIT_MAX: "10000", COMMENT_RATE_LIMIT: "3", REACTION_RATE_LIMIT: "4" });
  });
  afterAll(async () => r?.close());

  it("answers 429 with Retry-After once a user's budget is spent, per user", async () => {
    const o = await createUser(r, { role: "uploader" });
    const u1 = await createUser(r, { role: "user" });
    const u2 = await createUser(r, { role: "user" });
    const v = await insertVideo(r, o.user.id);
    for (let i = 0; i < 3; i++) expect((await call(r, { method: "POST", url: `/api/videos/${v}/comment/`, as: u1, body: { text: `n${i}` } })).status).toBe(201);
    const over = await call(r, { method: "POST", url: `/api/videos/${v}/comment/`, as: u1, body: { text: "one too many" } });
    expect([over.status, over.json.error?.code]).toEqual([429, "throttled"]);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(over.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await call(r, { method: "POST", url: `/api/videos/${v}/comment/`, as: u2, body: { text: "other user" } })).status).toBe(201);
    expect((await r.ctx.db.selectFrom("comments").select("id").where("author_id", "=", u1.user.id).execute()).length).toBe(3);

    for (let i = 0; i < 4; i++) expect((await call(r, { method: "POST", url: `/api/videos/${v}/like/`, as: u1 })).status).toBe(200);
    const tooMany = await call(r, { method: "POST", url: `/api/videos/${v}/dislike/`, as: u1 });
    expect([tooMany.status, tooMany.json.error?.code]).toEqual([429, "throttled"]);
    expect(tooMany.headers["retry-after"]).toBeDefined();
  });
});
