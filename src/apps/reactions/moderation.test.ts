import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import type { PageOf } from "./comment.service.js";
import { call, insertVideo, postComment } from "./reactions.fixtures.js";
import type { Comment, ModerationReport, Reply, Report } from "./reactions.schemas.js";

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

const reports = (query = "") => call<PageOf<ModerationReport>>(h, { method: "GET", url: `/api/moderation/reports/${query}`, as: mod });

describe("reports", () => {
  it("records a report once while open; the queue shows open ones newest first with the content", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, alice, "buy pills at 0:10");
    const first = await call<Report>(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "spam", details: " pills " } });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ target_kind: "comment", target_id: c.id, video_id: v, reason: "spam", details: "pills", status: "open", resolved: null });
    const again = await call<Report>(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "hate" } });
    expect([again.status, again.json.id]).toEqual([200, first.json.id]);
    const videoReport = await call<Report>(h, { method: "POST", url: `/api/videos/${v}/report/`, as: alice, body: { reason: "copyright" } });
    expect(videoReport.status).toBe(201);

    const queue = await reports();
    const mine = queue.json.results.filter((r) => r.video_id === v);
    expect(mine.map((r) => r.target_kind)).toEqual(["video", "comment"]);
    expect(mine[1]).toMatchObject({ reporter: { id: bob.user.id, username: bob.user.username }, content: { video: { id: v, owner_id: owner.user.id }, comment: { id: c.id, text: "buy pills at 0:10" } } });
  });

  it.each([
    [{ reason: "boring" }, "validation_error"],
    [{}, "validation_error"],
    [{ reason: "spam", extra: 1 }, "validation_error"],
    [{ reason: "spam", details: "x".repeat(2001) }, "validation_error"],
  ])("refuses %j", async (body, code) => {
    const v = await insertVideo(h, owner.user.id);
    const r = await call(h, { method: "POST", url: `/api/videos/${v}/report/`, as: bob, body });
    expect([r.status, r.json.error?.code]).toEqual([400, code]);
    expect((await h.ctx.db.selectFrom("reports").select("id").where("video_id", "=", v).execute()).length).toBe(0);
  });

  it("dismisses a report, after which the same user may report again", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, alice, "fine");
    const r = await call<Report>(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "other" } });
    const d = await call<Report>(h, { method: "POST", url: `/api/moderation/reports/${r.json.id}/resolve/`, as: mod, body: { action: "dismiss" } });
    expect([d.status, d.json.status]).toEqual([200, "dismissed"]);
    expect(d.json.resolved).not.toBeNull();
    expect((await call(h, { method: "POST", url: `/api/moderation/reports/${r.json.id}/resolve/`, as: mod, body: { action: "remove" } })).json.error?.code).toBe("report_resolved");
    expect((await reports()).json.results.some((x) => x.id === r.json.id)).toBe(false);
    expect((await reports("?status=dismissed")).json.results.some((x) => x.id === r.json.id)).toBe(true);
    expect((await call(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "other" } })).status).toBe(201);
    expect((await list(v)).json.results).toHaveLength(1);
  });

  it("removes the reported comment and closes every open report on it", async () => {
    const v = await insertVideo(h, owner.user.id);
    const c = await postComment(h, v, alice, "nasty");
    const r1 = await call<Report>(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "harassment" } });
    const r2 = await call<Report>(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: owner, body: { reason: "hate" } });
    const done = await call<Report>(h, { method: "POST", url: `/api/moderation/reports/${r1.json.id}/resolve/`, as: mod, body: { action: "remove" } });
    expect([done.status, done.json.status]).toEqual([200, "removed"]);
    expect((await list(v)).json.results).toEqual([]);
    const other = await h.ctx.db.selectFrom("reports").select("status").where("id", "=", r2.json.id).executeTakeFirstOrThrow();
    expect(other.status).toBe("removed");
    expect((await call(h, { method: "POST", url: "/api/moderation/reports/00000000-0000-4000-8000-000000000000/resolve/", as: mod, body: { action: "dismiss" } })).status).toBe(404);
    expect((await call(h, { method: "POST", url: `/api/moderation/reports/${r1.json.id}/resolve/`, as: mod, body: { action: "ban" } })).status).toBe(400);
  });

  it("removes a reported video", async () => {
    const v = await insertVideo(h, owner.user.id);
    const r = await call<Report>(h, { method: "POST", url: `/api/videos/${v}/report/`, as: bob, body: { reason: "violence" } });
    const done = await call<Report>(h, { method: "POST", url: `/api/moderation/reports/${r.json.id}/resolve/`, as: mod, body: { action: "remove" } });
    expect([done.status, done.json.status]).toEqual([200, "removed"]);
    expect((await call(h, { method: "GET", url: `/api/videos/${v}/`, as: owner })).status).toBe(404);
  });

  it("pages the queue", async () => {
    const v = await insertVideo(h, owner.user.id);
    for (let i = 0; i < 3; i++) {
      const c = await postComment(h, v, alice, `p${i}`);
      await call(h, { method: "POST", url: `/api/comments/${c.id}/report/`, as: bob, body: { reason: "spam" } });
      await new Promise((r) => setTimeout(r, 2));
    }
    const seen: string[] = [];
    let url: string | null = "/api/moderation/reports/?limit=2";
    while (url) {
      const page: { json: PageOf<ModerationReport> } = await call<PageOf<ModerationReport>>(h, { method: "GET", url, as: mod });
      seen.push(...page.json.results.map((r) => r.id));
      url = page.json.next ? page.json.next.slice(page.json.next.indexOf("/api/")) : null;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const open = await h.ctx.db.selectFrom("reports").select("id").where("status", "=", "open").execute();
    expect(seen.sort()).toEqual(open.map((r) => r.id).sort());
  });
});

const list = (v: string) => call<PageOf<Comment>>(h, { method: "GET", url: `/api/videos/${v}/comments/` });

describe("blocks and hidden commenters", () => {
  it("a blocked user cannot comment anywhere until unblocked; existing comments stay", async () => {
    const v = await insertVideo(h, owner.user.id);
    const troll = await createUser(h, { role: "user" });
    await postComment(h, v, troll, "before the block");
    const b = await call(h, { method: "POST", url: "/api/moderation/blocks/", as: mod, body: { user_id: troll.user.id, reason: "spam" } });
    expect(b.status).toBe(201);
    const refused = await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: troll, body: { text: "again" } });
    expect([refused.status, refused.json.error?.code]).toEqual([403, "comment_blocked"]);
    expect((await list(v)).json.results.map((c) => c.text)).toEqual(["before the block"]);
    expect((await call(h, { method: "POST", url: "/api/moderation/blocks/", as: mod, body: { user_id: "00000000-0000-4000-8000-000000000000" } })).status).toBe(404);
    type BlockRow = { user_id: string; username: string | null; reason: string | null };
    const listed = await call<PageOf<BlockRow>>(h, { method: "GET", url: "/api/moderation/blocks/?limit=100", as: mod });
    expect(listed.status).toBe(200);
    expect(listed.json.results.find((x) => x.user_id === troll.user.id)).toMatchObject({ username: troll.user.username, reason: "spam" });
    expect((await call(h, { method: "GET", url: "/api/moderation/blocks/", as: troll })).status).toBe(403);
    expect((await call(h, { method: "DELETE", url: `/api/moderation/blocks/${troll.user.id}/`, as: mod })).status).toBe(204);
    const after = await call<PageOf<BlockRow>>(h, { method: "GET", url: "/api/moderation/blocks/?limit=100", as: mod });
    expect(after.json.results.some((x) => x.user_id === troll.user.id)).toBe(false);
    expect((await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: troll, body: { text: "sorry" } })).status).toBe(201);
  });

  it("the owner hides a commenter from their videos only: comments disappear there and new ones are refused", async () => {
    const v = await insertVideo(h, owner.user.id);
    const elsewhere = await insertVideo(h, alice.user.id);
    const pest = await createUser(h, { role: "user" });
    const top = await postComment(h, v, bob, "top");
    await postComment(h, v, pest, "pest top");
    await postComment(h, v, pest, "pest reply", top.id);
    expect((await call(h, { method: "PUT", url: `/api/users/me/hidden-commenters/${pest.user.id}/`, as: owner })).status).toBe(204);
    expect((await call(h, { method: "PUT", url: `/api/users/me/hidden-commenters/${pest.user.id}/`, as: owner })).status).toBe(204);
    const page = await list(v);
    expect(page.json.results.map((c) => c.text)).toEqual(["top"]);
    expect(page.json.results[0]!.replies).toEqual([]);
    expect((await call(h, { method: "POST", url: `/api/videos/${v}/comment/`, as: pest, body: { text: "hello?" } })).json.error?.code).toBe("comment_blocked");
    expect((await call(h, { method: "POST", url: `/api/videos/${elsewhere}/comment/`, as: pest, body: { text: "still fine here" } })).status).toBe(201);
    expect((await call(h, { method: "PUT", url: `/api/users/me/hidden-commenters/${owner.user.id}/`, as: owner })).json.error?.code).toBe("cannot_hide_self");
    expect((await call(h, { method: "DELETE", url: `/api/users/me/hidden-commenters/${pest.user.id}/`, as: owner })).status).toBe(204);
    expect((await list(v)).json.results.map((c) => c.text)).toEqual(["pest top", "top"]);
  });
});

describe("recent comments across videos", () => {
  it("lists the newest first for moderators, with video ids, without deleted placeholders", async () => {
    const v1 = await insertVideo(h, owner.user.id);
    const v2 = await insertVideo(h, owner.user.id);
    await postComment(h, v1, alice, "older");
    const newest = await postComment(h, v2, bob, "newest");
    const r = await call<PageOf<Reply>>(h, { method: "GET", url: "/api/comments/?ordering=-created&limit=2", as: mod });
    expect(r.json.results[0]).toMatchObject({ id: newest.id, video_id: v2, text: "newest" });
    expect(r.json.results[1]!.text).toBe("older");
    expect(r.json.next).not.toBeNull();
    expect((await call(h, { method: "GET", url: "/api/comments/?ordering=-likes", as: mod })).status).toBe(400);
  });
});
