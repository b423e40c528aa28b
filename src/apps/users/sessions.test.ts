/**
 * Access tokens belong to their session (the refresh-token family, `sid`): ending the session
 * (logout, refresh-token reuse, password change, deactivation) refuses its access tokens at
 * once instead of 15 minutes later, and closes its open WebSocket and SSE connections (the
 * owner's live video events, live playback control), through the real API and real sockets.
 * Tokens without `exp` are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { SseClient } from "../../test/sse-client.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, type WsClient } from "../../test/ws-client.js";
import { insertPlaybackVideo, streamWsUrl } from "../playback/playback.fixtures.js";

let h: Harness;
let base: string;

beforeAll(async () => {
  // With Redis available the announcements go through the Redis state hub.
  h = await createHarness(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {});
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  const addr = h.app.server.address();
  if (!addr || typeof addr === "string") throw new Error("not listening");
  base = `http://127.0.0.1:${addr.port}`;
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

const me = (access: string) => h.app.inject({ url: "/api/users/me/", headers: authHeader(access) });
const post = (url: string, payload: object, headers: Record<string, string> = {}) => h.app.inject({ method: "POST", url, payload, headers });
const secret = () => new TextEncoder().encode(h.config.auth.jwtSecret!);
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

async function login(u: TestUser): Promise<{ access: string; refresh: string }> {
  const r = await post("/api/auth/login/", { username: u.user.username, password: u.password });
  expect(r.statusCode).toBe(200);
  return r.json() as { access: string; refresh: string };
}

async function expectRevoked(access: string): Promise<void> {
  const r = await me(access);
  expect(r.statusCode).toBe(401);
  expect(r.json().error.code).toBe("token_revoked");
}

describe("access tokens die with their session", () => {
  it("carry the session's id (the refresh-token family)", async () => {
    const u = await createUser(h);
    expect(claimsOf(u.access).sid).toBe(claimsOf(u.refresh).fam);
    const rotated = (await post("/api/auth/token/refresh/", { refresh: u.refresh })).json() as { access: string; refresh: string };
    expect(claimsOf(rotated.access).sid).toBe(claimsOf(u.refresh).fam);
  });

  it("logout refuses the session's access token at once; the account's other sessions go on", async () => {
    const u = await createUser(h);
    const other = await login(u);
    expect((await me(u.access)).statusCode).toBe(200);
    expect((await post("/api/auth/logout/", { refresh: u.refresh })).statusCode).toBe(204);
    await expectRevoked(u.access);
    expect((await me(other.access)).statusCode).toBe(200);
  });

  it("refresh-token reuse refuses every access token of that session, including the thief's fresh one", async () => {
    const u = await createUser(h);
    const rotated = (await post("/api/auth/token/refresh/", { refresh: u.refresh })).json() as { access: string; refresh: string };
    expect((await me(rotated.access)).statusCode).toBe(200);
    const reuse = await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect(reuse.json().error.code).toBe("token_reused");
    await expectRevoked(rotated.access);
    await expectRevoked(u.access);
  });

  it("refuses a token without `exp` (jose would take it as never expiring), and one without a session", async () => {
    const u = await createUser(h);
    const sid = claimsOf(u.access).sid as string;
    const noExp = await new SignJWT({ ver: 0, sid, typ: "access" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(u.user.id).setIssuer("vidflux").setIssuedAt().sign(secret());
    const r = await me(noExp);
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe("token_invalid");
    // Well signed and expiring, but naming no session: nothing could ever revoke it.
    const noSid = await new SignJWT({ ver: 0, typ: "access" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(u.user.id).setIssuer("vidflux").setIssuedAt().setExpirationTime("10m").sign(secret());
    expect((await me(noSid)).json().error.code).toBe("token_invalid");
    // A session that was never issued.
    const made = await h.domains.users.tokens.signAccess(u.user.id, 0, crypto.randomUUID());
    await expectRevoked(made);
  });

  it("a playback token without `exp` is refused too", async () => {
    const owner = await createUser(h, { role: "uploader" });
    const id = await insertPlaybackVideo(h, owner.user.id, "private");
    const forever = await new SignJWT({ vid: id, pe: 0, typ: "playback" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuer("vidflux").setIssuedAt().sign(secret());
    const r = await h.app.inject({ url: `/api/videos/${id}/hls/master.m3u8?token=${forever}` });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe("playback_token_invalid");
  });
});

describe("open connections close when their session ends", () => {
  const wsBase = () => base.replace("http:", "ws:");

  async function expectEnded(c: WsClient, code = "session_ended"): Promise<void> {
    expect(await c.closed).toEqual({ code: 4401, reason: code });
    expect(c.frames.at(-1)).toMatchObject({ type: "error", error: { code } });
  }

  it("logout closes the session's video-events WebSocket and SSE stream, not another session's", async () => {
    const owner = await createUser(h, { role: "uploader" });
    const second = await login(owner);
    const v = await insertPlaybackVideo(h, owner.user.id);
    const ws = openWs(`${wsBase()}/ws/videos/${v}/?token=${owner.access}`);
    const otherWs = openWs(`${wsBase()}/ws/videos/${v}/?token=${second.access}`);
    const sse = await SseClient.connect(`${base}/api/videos/${v}/events/?token=${owner.access}`);
    try {
      expect((await ws.next()).type).toBe("snapshot");
      expect((await otherWs.next()).type).toBe("snapshot");
      expect((await sse.next()).event).toBe("snapshot");
      const t0 = Date.now();
      expect((await post("/api/auth/logout/", { refresh: owner.refresh })).statusCode).toBe(204);
      await expectEnded(ws);
      await sse.waitEnd(2000);
      expect(Date.now() - t0).toBeLessThan(1500);
      // The other session's socket is still open and live.
      await h.ctx.events.publish(v, { type: "status", status: "processing" });
      expect((await otherWs.nextOf((f) => f.type === "status")).status).toBe("processing");
      // EventSource's reconnect is refused.
      expect((await h.app.inject({ url: `/api/videos/${v}/events/?token=${owner.access}` })).statusCode).toBe(401);
    } finally {
      sse.close();
      await ws.close();
      await otherWs.close();
    }
  });

  it("a password change closes every playback control socket of the account (WebSocket and SSE)", async () => {
    const u = await createUser(h);
    const owner = await createUser(h, { role: "uploader" });
    const id = await insertPlaybackVideo(h, owner.user.id);
    const ws = openWs(streamWsUrl(h, id, { token: u.access, device: "tv" }));
    const sse = await SseClient.connect(`${base}/api/stream/${id}/events/?token=${u.access}&device=phone`);
    try {
      expect((await ws.next()).type).toBe("state");
      expect((await sse.next()).event).toBe("state");
      const r = await post("/api/users/me/password/", { old_password: u.password, new_password: "an-entirely-new-passphrase" }, authHeader(u.access));
      expect(r.statusCode).toBe(200);
      await expectEnded(ws);
      await sse.waitEnd(2000);
      // The pair the change returned is a new session: it connects.
      const fresh = openWs(streamWsUrl(h, id, { token: (r.json() as { access: string }).access, device: "tv" }));
      expect((await fresh.next()).type).toBe("state");
      await fresh.close();
    } finally {
      sse.close();
      await ws.close();
    }
  });

  it("refresh-token reuse and deactivation close the sockets they revoke", async () => {
    const u = await createUser(h);
    const admin = await createUser(h, { role: "admin" });
    const owner = await createUser(h, { role: "uploader" });
    const id = await insertPlaybackVideo(h, owner.user.id);
    const a = openWs(streamWsUrl(h, id, { token: u.access, device: "a" }));
    expect((await a.next()).type).toBe("state");
    await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect((await post("/api/auth/token/refresh/", { refresh: u.refresh })).json().error.code).toBe("token_reused");
    await expectEnded(a);

    const other = await login(u);
    const b = openWs(streamWsUrl(h, id, { token: other.access, device: "b" }));
    expect((await b.next()).type).toBe("state");
    const off = await h.app.inject({ method: "PATCH", url: `/api/users/${u.user.id}/`, payload: { is_active: false }, headers: authHeader(admin.access) });
    expect(off.statusCode).toBe(200);
    await expectEnded(b);
  });

  it("without an announcement (a revocation another path made), the periodic re-check closes the socket", async () => {
    const owner = await createUser(h, { role: "uploader" });
    const v = await insertPlaybackVideo(h, owner.user.id);
    const ws = openWs(`${wsBase()}/ws/videos/${v}/?token=${owner.access}`);
    expect((await ws.next()).type).toBe("snapshot");
    // Straight in the database: nothing is announced.
    await h.ctx.db.updateTable("refresh_tokens").set({ revoked_at: new Date().toISOString() }).where("user_id", "=", owner.user.id).execute();
    await h.domains.users.sessions.recheck();
    await expectEnded(ws);
  });

  it("the owner's video-events socket stays open when the video turns private (playback sockets are what close)", async () => {
    const owner = await createUser(h, { role: "uploader" });
    const viewer = await createUser(h);
    const id = await insertPlaybackVideo(h, owner.user.id);
    const events = openWs(`${wsBase()}/ws/videos/${id}/?token=${owner.access}`);
    const watching = openWs(streamWsUrl(h, id, { token: viewer.access, device: "tv" }));
    try {
      expect((await events.next()).type).toBe("snapshot");
      expect((await watching.next()).type).toBe("state");
      const r = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, payload: { visibility: "private" }, headers: authHeader(owner.access) });
      expect(r.statusCode).toBe(200);
      expect((await watching.closed).code).toBe(4404);
      const updated = await events.nextOf((f) => f.type === "updated");
      expect(updated).toMatchObject({ type: "updated", fields: ["visibility"] });
      await h.ctx.events.publish(id, { type: "status", status: "processing" });
      expect((await events.nextOf((f) => f.type === "status")).status).toBe("processing");
    } finally {
      await events.close();
      await watching.close();
    }
  });
});

describe.skipIf(!TEST_REDIS_URL)("across API processes (Redis)", () => {
  let a: Harness;
  let b: Harness;
  const prefix = `vftest-sessions-${crypto.randomUUID()}`;
  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix };
    a = await createHarness(env);
    b = await createHarness(env);
    await b.app.listen({ port: 0, host: "127.0.0.1" });
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

  it("a logout on process A closes the session's socket on process B at once", async () => {
    // Two databases here, one in production: B gets the same rows. B's database still calls the
    // session live, so only the announcement can close B's socket.
    const u = await createUser(a, { role: "uploader" });
    const user = await a.ctx.db.selectFrom("users").selectAll().where("id", "=", u.user.id).executeTakeFirstOrThrow();
    await b.ctx.db.insertInto("users").values(user).execute();
    await b.ctx.db.insertInto("refresh_tokens").values(await a.ctx.db.selectFrom("refresh_tokens").selectAll().where("user_id", "=", u.user.id).execute()).execute();
    const id = await insertPlaybackVideo(b, u.user.id);
    const ws = openWs(streamWsUrl(b, id, { token: u.access, device: "tv" }));
    expect((await ws.next()).type).toBe("state");
    const t0 = Date.now();
    expect((await a.app.inject({ method: "POST", url: "/api/auth/logout/", payload: { refresh: u.refresh } })).statusCode).toBe(204);
    expect(await ws.closed).toEqual({ code: 4401, reason: "session_ended" });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
