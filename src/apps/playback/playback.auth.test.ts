/**
 * Who may open `/ws/stream/{video_id}/`, with the real `ws` client: every refusal is an `error`
 * frame then a close code mirroring HTTP (4401/4403/4404); owner, staff and playback-token
 * holders are admitted to private videos, anyone to public and unlisted ones (anonymous
 * viewers each in a session of their own); and sockets are closed when the video turns private
 * (those who may no longer watch) or is deleted (everyone).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, type Frame, type WsClient } from "../../test/ws-client.js";
import type { StateView } from "./playback-state.js";
import type { Member } from "./playback.schemas.js";
import { insertPlaybackVideo, streamWsUrl } from "./playback.fixtures.js";

interface Hello {
  type: "state";
  state: StateView;
  by: null;
  session: { kind: string; room: string | null; device: string; can_control: boolean };
  members: Member[];
}

let h: Harness;
let owner: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  // With Redis available the state hub (and the video channel that re-checks access) is Redis.
  h = await createHarness(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {});
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  owner = await createUser(h, { role: "uploader" });
  stranger = await createUser(h);
});
afterAll(async () => {
  const prefix = h.config.redisPrefix;
  await h.close();
  if (TEST_REDIS_URL) {
    const { Redis } = await import("ioredis");
    const admin = new Redis(TEST_REDIS_URL);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  }
});

const open = (videoId: string, q: Record<string, string | undefined> = {}) => openWs(streamWsUrl(h, videoId, q));

/** The connection is refused: one error frame with `code`, then the close `closeCode` (reason = code). */
async function expectRefused(c: WsClient, closeCode: number, code: string): Promise<void> {
  const closed = await c.closed;
  expect(closed).toEqual({ code: closeCode, reason: code });
  expect(c.frames).toEqual([{ type: "error", error: { code, message: expect.any(String), details: null } }]);
}

async function expectAdmitted(c: WsClient, device?: string): Promise<Hello> {
  const hello = (await c.next()) as unknown as Hello;
  expect(hello).toMatchObject({ type: "state", by: null, session: { kind: "personal", room: null, can_control: true } });
  if (device) expect(hello.session.device).toBe(device);
  return hello;
}

const isChange = (f: Frame) => f.type === "state" && f.by !== null;

describe("refusals", () => {
  it("an unknown video, or an id that is not one: 4404", async () => {
    await expectRefused(open(crypto.randomUUID(), { token: owner.access }), 4404, "video_not_found");
    await expectRefused(open("not-a-uuid"), 4404, "video_not_found");
  });

  it("a video not playable yet: 4404, even for its owner", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id);
    await h.ctx.db.updateTable("videos").set({ playable: 0 }).where("id", "=", id).execute();
    await expectRefused(open(id, { token: owner.access }), 4404, "video_not_found");
    await expectRefused(open(id), 4404, "video_not_found");
  });

  it("a private video: anonymous 4401, a signed-in stranger 4404 (its existence is not confirmed)", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "private");
    await expectRefused(open(id), 4401, "not_authenticated");
    await expectRefused(open(id, { token: stranger.access }), 4404, "video_not_found");
  });

  it("bad tokens: garbage 4401; a playback token for another video, expired or forged 4403", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "private");
    const other = await insertPlaybackVideo(h, owner.user.id, "private");
    await expectRefused(open(id, { token: "garbage" }), 4401, "token_invalid");
    // A garbage token is refused on a public video too, rather than ignored.
    const pub = await insertPlaybackVideo(h, owner.user.id);
    await expectRefused(open(pub, { token: "garbage" }), 4401, "token_invalid");

    const forOther = await h.domains.streaming.playback.issue(other);
    await expectRefused(open(id, { token: forOther }), 4403, "playback_token_wrong_video");
    const expired = await h.domains.users.tokens.signClaims({ vid: id, typ: "playback" }, -60);
    await expectRefused(open(id, { token: expired }), 4403, "playback_token_expired");
    const valid = await h.domains.streaming.playback.issue(id);
    const [head, body] = valid.split(".");
    const forged = `${head}.${body}.${"A".repeat(43)}`;
    await expectRefused(open(id, { token: forged }), 4403, "playback_token_invalid");
  });

  it("a revoked access token (or a deleted account's) is refused with 4401", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id);
    const gone = await createUser(h);
    await h.ctx.db.deleteFrom("users").where("id", "=", gone.user.id).execute();
    await expectRefused(open(id, { token: gone.access }), 4401, "user_not_found");
  });
});

describe("admissions", () => {
  it("a private video admits its owner, a moderator and an admin", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "private");
    const moderator = await createUser(h, { role: "moderator" });
    const admin = await createUser(h, { role: "admin" });
    for (const u of [owner, moderator, admin]) {
      const c = open(id, { token: u.access, device: `dev-${u.user.role}` });
      const hello = await expectAdmitted(c, `dev-${u.user.role}`);
      expect(hello.members).toEqual([{ device: `dev-${u.user.role}`, user: { id: u.user.id, username: u.user.username }, transport: "ws", buffering: false, can_control: true }]);
      await c.close();
    }
    // The Authorization header works as well as ?token=.
    const c = openWs(streamWsUrl(h, id), { headers: authHeader(owner.access) });
    await expectAdmitted(c);
    await c.close();
  });

  it("a valid playback token admits an anonymous viewer to a private video", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "private");
    const token = await h.domains.streaming.playback.issue(id);
    const c = open(id, { token, device: "kiosk" });
    const hello = await expectAdmitted(c, "kiosk");
    expect(hello.members).toEqual([expect.objectContaining({ device: "kiosk", user: null })]);
    c.send({ type: "play" });
    expect(await c.nextOf(isChange)).toMatchObject({ by: "kiosk", state: { status: "playing" } });
    await c.close();
  });

  it("anonymous viewers may watch public and unlisted videos, each in a session of their own", async () => {
    for (const visibility of ["public", "unlisted"] as const) {
      const id = await insertPlaybackVideo(h, owner.user.id, visibility);
      const a = open(id, { device: "anon-a" });
      const b = open(id); // no device: a random one
      const ha = await expectAdmitted(a, "anon-a");
      const hb = await expectAdmitted(b);
      expect(hb.session.device).toMatch(/^[0-9a-f-]{36}$/);
      expect(ha.members.map((m) => m.device)).toEqual(["anon-a"]);
      expect(hb.members.map((m) => m.device)).toEqual([hb.session.device]);

      a.send({ type: "seek", position: 33 });
      expect(await a.nextOf(isChange)).toMatchObject({ by: "anon-a", state: { position: 33, status: "paused" } });
      b.send({ type: "sync" });
      const sb = await b.nextOf((f) => f.type === "state");
      expect(sb).toMatchObject({ by: null, state: { status: "idle", position: 0 } });
      // b never heard of a's change, nor of a's presence.
      expect(b.frames.filter((f) => isChange(f) || (f.type === "presence" && JSON.stringify(f).includes("anon-a")))).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("access changes of a watched video", () => {
  it("turning private closes the anonymous viewer's socket (4403) and a token holder's (the token predates the change), not the owner's", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "public");
    const token = await h.domains.streaming.playback.issue(id);
    const anon = open(id, { device: "anon" });
    const other = open(id, { token: stranger.access, device: "stranger" });
    const mine = open(id, { token: owner.access, device: "owner-tv" });
    const holder = open(id, { token, device: "holder" });
    await Promise.all([expectAdmitted(anon), expectAdmitted(other), expectAdmitted(mine), expectAdmitted(holder)]);

    const res = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(owner.access), payload: { visibility: "private" } });
    expect(res.statusCode).toBe(200);
    const closedAnon = await anon.closed;
    expect(closedAnon).toEqual({ code: 4403, reason: "video_unavailable" });
    expect(anon.frames.at(-1)).toMatchObject({ type: "error", error: { code: "video_unavailable" } });
    // A signed-in stranger may not see a private video at all: 4404, as on joining.
    expect(await other.closed).toEqual({ code: 4404, reason: "video_not_found" });

    // A playback token dies with any visibility change (playback-epoch.test.ts has the media side).
    expect(await holder.closed).toEqual({ code: 4403, reason: "playback_token_revoked" });

    // The owner is still connected and in control.
    for (const [c, dev] of [[mine, "owner-tv"]] as const) {
      c.send({ type: "ping", client_time: 1 });
      await c.nextOf((f) => f.type === "pong");
      c.send({ type: "pause" });
      expect(await c.nextOf(isChange)).toMatchObject({ by: dev });
      expect(c.ws.readyState).toBe(c.ws.OPEN);
    }
    // A new anonymous connection is refused now.
    await expectRefused(open(id), 4401, "not_authenticated");
    await mine.close();
  });

  it("deleting the video closes every socket with 4404", async () => {
    const id = await insertPlaybackVideo(h, owner.user.id, "public");
    const clients = [open(id, { token: owner.access, device: "phone" }), open(id, { token: owner.access, device: "tv" }), open(id, { device: "anon" })];
    await Promise.all(clients.map((c) => expectAdmitted(c)));
    const res = await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(owner.access) });
    expect(res.statusCode).toBe(204);
    for (const c of clients) {
      expect(await c.closed).toEqual({ code: 4404, reason: "video_not_found" });
      expect(c.frames.at(-1)).toMatchObject({ type: "error", error: { code: "video_not_found" } });
    }
    await expectRefused(open(id, { token: owner.access }), 4404, "video_not_found");
  });
});
