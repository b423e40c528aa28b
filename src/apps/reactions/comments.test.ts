import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import type { PageOf } from "./comment.service.js";
import { call, insertVideo, postComment } from "./reactions.fixtures.js";
import type { Comment, CommentLikeState, Reply } from "./reactions.schemas.js";

let h: Harness;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
let mod: TestUser;

beforeAll(async () => {
  h = await createHarness();
  owner = await createUser(h, { role: "uploader" });
  alice = await createUser(h, { role: "user" });
  bob = await createUser(h, { role: "user" });
  mod = await createUser(h, { role: "moderator" });
});
afterAll(async () => h?.close());

const list = (videoId: string, query = "", as?: TestUser) => call<PageOf<Comment>>(h, { method: "GET", url: `/api/videos/${videoId}/comments/${query}`, as });
const count = async (videoId: string) => (await h.ctx.db.selectFrom("comments").select("id").where("video_id", "=", videoId).execute()).length;
const pathOf = (url: string) => url.slice(url.indexOf("/api/"));

describe("posting", () => {
  it("answers 201 with the comment: trimmed text kept as written, author, time refs within the duration", async () => {
    const v = await insertVideo(h, owner.user.id, { durationS: 100 });
    const r = await call<Comment>(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: { text: "  <script>alert('x')</script> at 1:05 and 2:00 & 01:00:00\n " } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      video_id: v,
      parent_id: null,
      author: { id: alice.user.id, username: alice.user.username, avatar_url: null },
      text: "<script>alert('x')</script> at 1:05 and 2:00 & 01:00:00",
      deleted: false,
      pinned: false,
      likes: 0,
      reply_count: 0,
      time_refs: [65],
      edited: null,
      replies: [],
    });
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("attaches a reply to a reply to the top-level comment, and counts replies", async () => {
    const v = await insertVideo(h, owner.user.id);
    const top = await postComment(h, v, alice, "top");
    const reply = await postComment(h, v, bob, "reply", top.id);
    const deeper = await postComment(h, v, alice, "reply to reply", reply.id);
    expect([reply.parent_id, deeper.parent_id]).toEqual([top.id, top.id]);
    const page = await list(v);
    expect(page.json.results).toHaveLength(1);
    expect(page.json.results[0]).toMatchObject({ id: top.id, reply_count: 2 });
    expect(page.json.results[0]!.replies.map((r) => r.text)).toEqual(["reply", "reply to reply"]);
  });

  it("takes 5,000 emoji escaped in JSON (64 KB body limit), refuses a bigger body with 413", async () => {
    const v = await insertVideo(h, owner.user.id);
    const escaped = `{"text":"${"\\ud83d\\ude00".repeat(5000)}"}`;
    expect(Buffer.byteLength(escaped)).toBeLessThan(64 * 1024);
    const ok = await call<Comment>(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: escaped });
    expect(ok.status).toBe(201);
    expect([...ok.json.text!].length).toBe(5000);
    const big = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: JSON.stringify({ text: "a".repeat(70_000) }) });
    expect([big.status, big.json.error?.code]).toEqual([413, "payload_too_large"]);
    expect(await count(v)).toBe(1);
  });

  describe("bad input: a clear 4xx in the one error shape, nothing stored", () => {
    let v: string;
    let other: string;
    let deletedParent: string;
    beforeAll(async () => {
      v = await insertVideo(h, owner.user.id);
      other = await insertVideo(h, owner.user.id);
      const p = await postComment(h, v, alice, "to be deleted");
      await call(h, { method: "DELETE", url: `/api/comments/${p.id}/`, as: alice });
      deletedParent = p.id;
    });

    const cases: [string, () => unknown, number, string][] = [
      ["empty text", () => ({ text: "" }), 400, "comment_empty"],
      ["whitespace text", () => ({ text: " \n\t " }), 400, "comment_empty"],
      ["5,001 code points", () => ({ text: "é".repeat(5001) }), 400, "comment_too_long"],
      ["a null byte", () => ({ text: "a\u0000b" }), 400, "invalid_text"],
      ["a lone surrogate", () => '{"text":"half \\ud83d of it"}', 400, "invalid_text"],
      ["no text", () => ({}), 400, "validation_error"],
      // (numbers are coerced to strings app-wide; an object is not)
      ["text not a string", () => ({ text: { html: "<b>" } }), 400, "validation_error"],
      ["an extra field", () => ({ text: "hi", html: true }), 400, "validation_error"],
      ["a non-UUID parent", () => ({ text: "hi", parent_id: "12" }), 400, "validation_error"],
      ["an unknown parent", () => ({ text: "hi", parent_id: "00000000-0000-4000-8000-000000000000" }), 400, "invalid_parent"],
      ["a deleted parent", () => ({ text: "hi", parent_id: deletedParent }), 400, "invalid_parent"],
      ["an empty body", () => "", 400, "empty_json_body"],
      ["broken JSON", () => '{"text":', 400, "invalid_json"],
    ];
    it.each(cases)("%s", async (_what, body, status, code) => {
      const before = await count(v);
      const r = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: body() });
      expect(r.status).toBe(status);
      if (code !== "empty_json_body" && code !== "invalid_json") expect(r.json.error?.code).toBe(code);
      expect(Object.keys(r.json.error ?? {}).sort()).toEqual(["code", "details", "message"]);
      expect(await count(v)).toBe(before);
    });

    it("a parent from another video", async () => {
      const p = await postComment(h, other, alice, "elsewhere");
      const r = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body: { text: "hi", parent_id: p.id } });
      expect([r.status, r.json.error?.code]).toEqual([400, "invalid_parent"]);
    });

    it("invalid UTF-8 bytes", async () => {
      const before = await count(v);
      const body = Buffer.concat([Buffer.from('{"text":"bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const r = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: alice, body });
      expect([r.status, r.json.error?.code]).toEqual([400, "invalid_utf8"]);
      expect(await count(v)).toBe(before);
    });

    it("a non-UUID or unknown comment id", async () => {
      expect((await call(h, { method: "GET", url: "/api/comments/xyz/replies/" })).status).toBe(400);
      const unknown = await call(h, { method: "PATCH", url: "/api/comments/00000000-0000-4000-8000-000000000000/", as: alice, body: { text: "x" } });
      expect([unknown.status, unknown.json.error?.code]).toEqual([404, "comment_not_found"]);
    });
  });
});

describe("listing", () => {
  let v: string;
  const ids: string[] = [];
  beforeAll(async () => {
    v = await insertVideo(h, owner.user.id);
    for (let i = 0; i < 7; i++) {
      ids.push((await postComment(h, v, alice, `c${i}`)).id);
      await new Promise((r) => setTimeout(r, 2)); // distinct created_at
    }
    // likes: c3 gets 2, c5 gets 1
    await call(h, { method: "POST", url: `/api/comments/${ids[3]}/like/`, as: alice });
    await call(h, { method: "POST", url: `/api/comments/${ids[3]}/like/`, as: bob });
    await call(h, { method: "POST", url: `/api/comments/${ids[5]}/like/`, as: bob });
    for (let i = 0; i < 5; i++) await postComment(h, v, bob, `r${i}`, ids[0]);
  });

  const walk = async (query: string): Promise<string[][]> => {
    const pages: string[][] = [];
    let url: string | null = `/api/videos/${v}/comments/${query}`;
    while (url) {
      const r: { json: PageOf<Comment> } = await call<PageOf<Comment>>(h, { method: "GET", url });
      pages.push(r.json.results.map((c) => c.text!));
      url = r.json.next ? pathOf(r.json.next) : null;
    }
    return pages;
  };

  it("pages newest first by default, oldest first and by likes on request, without skips or repeats", async () => {
    expect(await walk("?limit=3")).toEqual([["c6", "c5", "c4"], ["c3", "c2", "c1"], ["c0"]]);
    expect(await walk("?limit=3&ordering=created")).toEqual([["c0", "c1", "c2"], ["c3", "c4", "c5"], ["c6"]]);
    const byLikes = (await walk("?limit=2&ordering=-likes")).flat();
    expect(byLikes.slice(0, 2)).toEqual(["c3", "c5"]);
    expect(byLikes.sort()).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    expect(await walk("?limit=7")).toEqual([["c6", "c5", "c4", "c3", "c2", "c1", "c0"]]);
    expect(await walk("?limit=100")).toEqual([["c6", "c5", "c4", "c3", "c2", "c1", "c0"]]);
  });

  it("goes back with previous, and refuses bad limits, orderings and cursors", async () => {
    const first = await list(v, "?limit=3");
    expect(first.json.previous).toBeNull();
    const second = await call<PageOf<Comment>>(h, { method: "GET", url: pathOf(first.json.next!) });
    const back = await call<PageOf<Comment>>(h, { method: "GET", url: pathOf(second.json.previous!) });
    expect(back.json.results.map((c) => c.text)).toEqual(["c6", "c5", "c4"]);
    for (const q of ["?limit=0", "?limit=101", "?ordering=likes", "?cursor=%%%"]) expect((await list(v, q)).status).toBe(400);
    const likesCursor = new URL((await list(v, "?limit=1&ordering=-likes")).json.next!, "http://localhost").searchParams.get("cursor")!;
    expect((await list(v, `?cursor=${likesCursor}`)).json.error?.code).toBe("invalid_cursor");
  });

  it("carries the first 3 replies and pages the rest at /replies/", async () => {
    const c0 = (await list(v, "?ordering=created&limit=1")).json.results[0]!;
    expect([c0.reply_count, c0.replies.map((r) => r.text)]).toEqual([5, ["r0", "r1", "r2"]]);
    const p1 = await call<PageOf<Reply>>(h, { method: "GET", url: `/api/comments/${ids[0]}/replies/?limit=4` });
    expect(p1.json.results.map((r) => r.text)).toEqual(["r0", "r1", "r2", "r3"]);
    const p2 = await call<PageOf<Reply>>(h, { method: "GET", url: pathOf(p1.json.next!) });
    expect([p2.json.results.map((r) => r.text), p2.json.next]).toEqual([["r4"], null]);
  });

  it("puts the pinned comment first on the first page only; pinning another replaces it", async () => {
    const pin = await call<Comment>(h, { method: "POST", url: `/api/comments/${ids[2]}/pin/`, as: owner });
    expect([pin.status, pin.json.pinned]).toEqual([200, true]);
    const first = await list(v, "?limit=3");
    expect(first.json.results.map((c) => [c.text, c.pinned])).toEqual([["c2", true], ["c6", false], ["c5", false], ["c4", false]]);
    const all = (await walk("?limit=3")).flat();
    expect(all.filter((t) => t === "c2")).toHaveLength(1);
    await call(h, { method: "POST", url: `/api/comments/${ids[4]}/pin/`, as: owner });
    expect((await list(v, "?limit=1")).json.results.map((c) => c.text)).toEqual(["c4", "c6"]);
    const reply = (await call<PageOf<Reply>>(h, { method: "GET", url: `/api/comments/${ids[0]}/replies/` })).json.results[0]!;
    expect((await call(h, { method: "POST", url: `/api/comments/${reply.id}/pin/`, as: owner })).json.error?.code).toBe("not_top_level");
    expect((await call(h, { method: "POST", url: `/api/comments/${ids[1]}/pin/`, as: alice })).status).toBe(403);
    const unpin = await call<Comment>(h, { method: "DELETE", url: `/api/comments/${ids[4]}/pin/`, as: owner });
    expect([unpin.status, unpin.json.pinned]).toEqual([200, false]);
    expect((await list(v, "?limit=1")).json.results.map((c) => c.text)).toEqual(["c6"]);
  });
});

describe("comment likes", () => {
  it("likes once per user, unlikes, and counts exactly", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, alice, "like me");
    const like = (as: TestUser, method: "POST" | "DELETE" = "POST") => call<CommentLikeState>(h, { method, url: `/api/comments/${c.id}/like/`, as });
    expect((await like(bob)).json).toEqual({ likes: 1, liked: true });
    expect((await like(bob)).json).toEqual({ likes: 1, liked: true });
    expect((await like(alice)).json).toEqual({ likes: 2, liked: true });
    expect((await like(bob, "DELETE")).json).toEqual({ likes: 1, liked: false });
    expect((await like(bob, "DELETE")).json).toEqual({ likes: 1, liked: false });
    expect((await call(h, { method: "POST", url: `/api/comments/${c.id}/like/`, as: bob, body: { extra: 1 } })).status).toBe(400);
  });
});

describe("editing and deleting", () => {
  it("lets the author edit (marked edited), nobody else", async () => {
    const v = await insertVideo(h, owner.user.id, { durationS: 60 });
    const c = await postComment(h, v, alice, "first");
    const e = await call<Comment>(h, { method: "PATCH", url: `/api/comments/${c.id}/`, as: alice, body: { text: " fixed at 0:30 " } });
    expect(e.status).toBe(200);
    expect(e.json).toMatchObject({ text: "fixed at 0:30", time_refs: [30] });
    expect(e.json.edited).not.toBeNull();
    for (const as of [bob, owner, mod]) expect((await call(h, { method: "PATCH", url: `/api/comments/${c.id}/`, as, body: { text: "mine now" } })).status).toBe(403);
    expect((await call(h, { method: "PATCH", url: `/api/comments/${c.id}/`, as: alice, body: { text: "   " } })).json.error?.code).toBe("comment_empty");
  });

  it("keeps a deleted comment with replies as a placeholder, drops it with its last reply", async () => {
    const v = await insertVideo(h, owner.user.id);
    const top = await postComment(h, v, alice, "top");
    const r1 = await postComment(h, v, bob, "r1", top.id);
    const r2 = await postComment(h, v, bob, "r2", top.id);
    expect((await call(h, { method: "DELETE", url: `/api/comments/${top.id}/`, as: alice })).status).toBe(204);
    const placeholder = (await list(v)).json.results[0]!;
    expect(placeholder).toMatchObject({ id: top.id, deleted: true, text: null, author: null, reply_count: 2, time_refs: [] });
    expect((await call(h, { method: "DELETE", url: `/api/comments/${top.id}/`, as: alice })).status).toBe(404);
    expect((await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: bob, body: { text: "x", parent_id: top.id } })).json.error?.code).toBe("invalid_parent");
    // the reply's author, then the video's owner
    expect((await call(h, { method: "DELETE", url: `/api/comments/${r1.id}/`, as: bob })).status).toBe(204);
    expect((await list(v)).json.results[0]).toMatchObject({ reply_count: 1 });
    expect((await call(h, { method: "DELETE", url: `/api/comments/${r2.id}/`, as: owner })).status).toBe(204);
    expect((await list(v)).json.results).toEqual([]);
    expect(await count(v)).toBe(0);
  });

  it("drops a comment without replies at once; moderators may delete, other users may not", async () => {
    const v = await insertVideo(h, owner.user.id);
    const a = await postComment(h, v, alice, "a");
    const b = await postComment(h, v, alice, "b");
    expect((await call(h, { method: "DELETE", url: `/api/comments/${a.id}/`, as: bob })).status).toBe(403);
    expect((await call(h, { method: "DELETE", url: `/api/comments/${a.id}/`, as: mod })).status).toBe(204);
    expect((await call(h, { method: "DELETE", url: `/api/comments/${b.id}/` })).status).toBe(401);
    expect((await list(v)).json.results.map((c) => c.text)).toEqual(["b"]);
  });
});
