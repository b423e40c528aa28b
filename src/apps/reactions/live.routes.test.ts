import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { usernameKey } from "../users/index.js";
import { call, insertVideo, postComment, SseClient } from "./reactions.fixtures.js";

const baseOf = (h: Harness) => `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;

describe("the viewers' live channel (one process)", () => {
  let h: Harness;
  let base: string;
  let owner: TestUser;
  let alice: TestUser;
  beforeAll(async () => {
    h = await createHarness();
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    base = baseOf(h);
    owner = await createUser(h, { role: "uploader" });
    alice = await createUser(h, { role: "user" });
  });
  afterAll(async () => h?.close());

  it("starts with a snapshot, then carries comment and reaction events, and resumes with Last-Event-ID", async () => {
    const v = await insertVideo(h, owner.user.id);
    const sse = await SseClient.connect(`${base}/api/videos/${v}/live/`);
    try {
      expect(sse.status).toBe(200);
      const snap = await sse.next();
      expect([snap.event, snap.json.likes, snap.json.dislikes]).toEqual(["snapshot", 0, 0]);
      const c = await postComment(h, v, alice, "live!");
      const created = await sse.next();
      expect([created.event, created.id, created.json.action]).toEqual(["comment", "1", "created"]);
      expect(created.json.comment).toMatchObject({ id: c.id, text: "live!" });
      await call(h, { method: "POST", url: `/api/videos/${v}/like/`, as: alice });
      expect((await sse.next()).json).toMatchObject({ type: "reactions", likes: 1, dislikes: 0, seq: 2 });
      // the same like again changes nothing and publishes nothing
      await call(h, { method: "POST", url: `/api/videos/${v}/like/`, as: alice });
      await call(h, { method: "PATCH", url: `/api/comments/${c.id}/`, as: alice, body: { text: "edited" } });
      expect((await sse.next()).json).toMatchObject({ type: "comment", action: "edited", seq: 3, comment: { text: "edited" } });
      await call(h, { method: "DELETE", url: `/api/comments/${c.id}/`, as: alice });
      expect((await sse.next()).json).toMatchObject({ type: "comment", action: "deleted", seq: 4, comment: { id: c.id } });
      sse.close();
      const again = await SseClient.connect(`${base}/api/videos/${v}/live/`, { "last-event-id": "2" });
      try {
        expect([(await again.next()).id, (await again.next()).id]).toEqual(["3", "4"]);
      } finally {
        again.close();
      }
    } finally {
      sse.close();
    }
  });

  it("is for those who may see the video; the owner's events stay the owner's", async () => {
    const priv = await insertVideo(h, owner.user.id, { visibility: "private" });
    expect((await SseClient.connect(`${base}/api/videos/${priv}/live/`)).status).toBe(404);
    expect((await SseClient.connect(`${base}/api/videos/${priv}/live/?token=${alice.access}`)).status).toBe(404);
    const ok = await SseClient.connect(`${base}/api/videos/${priv}/live/?token=${owner.access}`);
    expect(ok.status).toBe(200);
    ok.close();
    const pub = await insertVideo(h, owner.user.id);
    expect((await SseClient.connect(`${base}/api/videos/${pub}/events/?token=${alice.access}`)).status).toBe(403);
    // a comment does not appear on the owner's conversion channel
    const own = await SseClient.connect(`${base}/api/videos/${pub}/events/?token=${owner.access}`);
    try {
      expect((await own.next()).event).toBe("snapshot");
      await postComment(h, pub, alice, "not for the owner's channel");
      await expect(own.next(300)).rejects.toThrow(/timed out/);
    } finally {
      own.close();
    }
  });
});

if (!TEST_REDIS_URL) console.warn("live.routes.test.ts: REDIS_URL not set, skipping the cross-instance suite");

describe.skipIf(!TEST_REDIS_URL)("live events across API processes (Redis)", () => {
  let a: Harness;
  let b: Harness;
  const prefix = `vftest-live-${randomUUID()}`;

  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix };
    a = await createHarness(env);
    b = await createHarness(env);
    await b.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    const { Redis } = await import("ioredis");
    const admin = new Redis(TEST_REDIS_URL!);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it("a comment and a like posted through process A reach an SSE subscriber of process B", async () => {
    // Each harness has its own database; real processes share one, so both get the same rows.
    const ownerA = await createUser(a, { role: "uploader" });
    const alice = await createUser(a, { role: "user" });
    for (const u of [ownerA.user, alice.user]) {
      const row = await a.ctx.db.selectFrom("users").selectAll().where("id", "=", u.id).executeTakeFirstOrThrow();
      await b.ctx.db.insertInto("users").values({ ...row, username_key: usernameKey(row.username) }).execute();
    }
    const v = await insertVideo(a, ownerA.user.id);
    await insertVideo(b, ownerA.user.id, { id: v });

    const sse = await SseClient.connect(`${baseOf(b)}/api/videos/${v}/live/`);
    try {
      expect((await sse.next()).event).toBe("snapshot");
      const c = await postComment(a, v, alice, "from A");
      const got = await sse.next();
      expect([got.event, got.json.action, (got.json.comment as { id: string }).id]).toEqual(["comment", "created", c.id]);
      await call(a, { method: "POST", url: `/api/videos/${v}/dislike/`, as: alice });
      expect((await sse.next()).json).toMatchObject({ type: "reactions", likes: 0, dislikes: 1 });
      // the owner's conversion channel of B heard nothing of it
      expect(await b.ctx.events.history(v, 0)).toEqual([]);
    } finally {
      sse.close();
    }
  });
});
