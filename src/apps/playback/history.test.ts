/**
 * Continue watching, end to end: a signed-in user's devices play, seek and pause over the real
 * WebSocket (and the HTTP fallback), positions land in `watch_history`, and the history routes
 * list, remove and pause them. The module's own heartbeat timer is pushed out of the way
 * (PLAYBACK_HEARTBEAT_MS) and the tests call `heartbeat()` themselves, so "saved at most every
 * HISTORY_SAVE_INTERVAL" is checked without waiting on a 10 s timer; HISTORY_SAVE_INTERVAL=1
 * keeps the one throttle wait to a second.
 *
 * A session's state lives in the state hub for a day after its devices left, and a device that
 * comes back finds it there; "a new session starts where the user left off" is about a session
 * record that is gone, so `forgetSession` deletes it through the hub (the key layout of
 * session-store.ts), as its expiry would.
 *
 * At scale (DATABASE_URL + REDIS_URL) the state hub is the real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, waitFor, type Frame, type WsClient } from "../../test/ws-client.js";
import { isFinished } from "./history.service.js";
import type { HistoryItem } from "./playback.schemas.js";
import { PLAYBACK_DURATION_S, insertPlaybackVideo, streamQuery, streamWsUrl } from "./playback.fixtures.js";

interface Page {
  count: number;
  next: string | null;
  results: HistoryItem[];
}
interface StateFrame extends Frame {
  state: { status: string; position: number; playing: boolean };
  version: number;
}

let h: Harness;
/** uploads the videos the viewers watch */
let owner: TestUser;

beforeAll(async () => {
  h = await createHarness({
    HISTORY_SAVE_INTERVAL: "1",
    PLAYBACK_HEARTBEAT_MS: "600000",
    ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
  });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  owner = await createUser(h, { role: "uploader" });
});
afterAll(async () => h.close());

const sessions = () => h.domains.playback.sessions;

async function history(u: TestUser, query = ""): Promise<Page> {
  const r = await h.app.inject({ url: `/api/users/me/history/${query}`, headers: authHeader(u.access) });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as Page;
}

async function entry(u: TestUser, videoId: string): Promise<HistoryItem | undefined> {
  return (await history(u, "?limit=100")).results.find((e) => e.video.id === videoId);
}

/** Polls the list until the video's entry satisfies `ok` (saves trail the frames a little). */
async function entryWhen(u: TestUser, videoId: string, ok: (e: HistoryItem) => boolean): Promise<HistoryItem> {
  let found: HistoryItem | undefined;
  await waitFor(async () => {
    found = await entry(u, videoId);
    return found !== undefined && ok(found);
  });
  return found!;
}

/** The rows themselves, whatever the list shows (it hides videos the user may not see). */
async function rows(userId: string, videoId?: string) {
  let q = h.ctx.db.selectFrom("watch_history").selectAll().where("user_id", "=", userId);
  if (videoId) q = q.where("video_id", "=", videoId);
  return q.execute();
}

async function device(u: TestUser, videoId: string, name: string, room?: string): Promise<{ ws: WsClient; hello: StateFrame }> {
  const ws = openWs(streamWsUrl(h, videoId, { token: u.access, device: name, room }));
  const hello = (await ws.nextOf((f) => f.type === "state")) as StateFrame;
  return { ws, hello };
}

/** Sends a control message and returns the state frame it produced (by this device). */
async function send(c: WsClient, msg: Record<string, unknown>, status: string): Promise<StateFrame> {
  c.send(msg);
  return (await c.nextOf((f) => f.type === "state" && (f as StateFrame).state.status === status && f.by !== null)) as StateFrame;
}

/** The HTTP fallback's control: answers after the change and its history write are done. */
async function httpControl(u: TestUser, videoId: string, body: Record<string, unknown>, q: Record<string, string> = {}) {
  const r = await h.app.inject({ method: "POST", url: `/api/stream/${videoId}/control/${streamQuery({ device: "remote", ...q })}`, headers: authHeader(u.access), payload: body });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { state: StateFrame["state"] };
}

/** Ends a user's personal session record, as its expiry a day later would. */
async function forgetSession(videoId: string, userId: string): Promise<void> {
  const key = `pb:${videoId}:u:${userId}`;
  expect(await h.ctx.hub.get(key), `no session record under ${key}: has session-store.ts's key layout changed?`).not.toBeNull();
  await h.ctx.hub.delete(key);
}

/** Until the server has processed a device's departure (its session is gone from this process). */
async function gone(videoId: string, sid: string): Promise<void> {
  await waitFor(() => ![...h.domains.playback.local.sessions.values()].some((s) => s.ref.videoId === videoId && s.ref.sid === sid));
}

async function video(visibility: "public" | "unlisted" | "private" = "public", by: TestUser = owner): Promise<string> {
  return insertPlaybackVideo(h, by.user.id, visibility);
}

describe("saving positions", () => {
  it("saves on seek and on pause: video, position, duration, finished, updated", async () => {
    const u = await createUser(h);
    const v = await video();
    const title = (await h.domains.videos.repo.findWithOwner(v))!.title;
    const { ws, hello } = await device(u, v, "tv");
    expect(hello.state).toMatchObject({ status: "idle", position: 0 });
    expect((await history(u)).count).toBe(0);

    const before = Date.now();
    await send(ws, { type: "seek", position: 30 }, "paused");
    const e = await entryWhen(u, v, (x) => x.position === 30);
    expect(e).toEqual({ video: { id: v, title, duration: PLAYBACK_DURATION_S, poster: null }, position: 30, duration: PLAYBACK_DURATION_S, finished: false, updated: expect.any(String) });
    expect(Date.parse(e.updated)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(e.updated)).toBeLessThanOrEqual(Date.now());

    await send(ws, { type: "play" }, "playing");
    await new Promise((r) => setTimeout(r, 50));
    const paused = await send(ws, { type: "pause" }, "paused");
    expect(paused.state.position).toBeGreaterThanOrEqual(30.05);
    // The saved position is the one every device was told, to the millisecond.
    const e2 = await entryWhen(u, v, (x) => x.position !== 30);
    expect(e2.position).toBe(paused.state.position);
    expect(Date.parse(e2.updated)).toBeGreaterThan(Date.parse(e.updated));
    await ws.close();
  });

  it("while playing, saves at most every HISTORY_SAVE_INTERVAL (the heartbeat's ticks)", async () => {
    const u = await createUser(h);
    const v = await video();
    const { ws } = await device(u, v, "tv");
    await send(ws, { type: "play" }, "playing");
    // playing is not a reason to write by itself
    expect(await rows(u.user.id, v)).toHaveLength(0);

    await sessions().heartbeat();
    const first = await entry(u, v);
    expect(first).toMatchObject({ duration: PLAYBACK_DURATION_S, finished: false });
    // a second tick within the interval writes nothing
    await sessions().heartbeat();
    expect(await entry(u, v)).toEqual(first);

    let next: HistoryItem | undefined;
    await waitFor(async () => {
      await sessions().heartbeat();
      next = await entry(u, v);
      return next!.updated !== first!.updated;
    }, 10_000);
    const gapMs = Date.parse(next!.updated) - Date.parse(first!.updated);
    expect(gapMs).toBeGreaterThanOrEqual(1000);
    // the position played on meanwhile, at speed 1 (each position is read a moment before its stamp)
    expect(Math.abs(next!.position - first!.position - gapMs / 1000)).toBeLessThan(0.25);
    await ws.close();
  });

  it("saves when the last device leaves, not when one of two does", async () => {
    const u = await createUser(h);
    const v = await video();
    const phone = await device(u, v, "phone");
    const tv = await device(u, v, "tv");
    await send(phone.ws, { type: "seek", position: 40 }, "paused");
    const seeked = await entryWhen(u, v, (x) => x.position === 40);

    await phone.ws.close();
    await tv.ws.nextOf((f) => f.type === "presence" && f.count === 1);
    expect(await entry(u, v)).toEqual(seeked);

    await send(tv.ws, { type: "play" }, "playing");
    await new Promise((r) => setTimeout(r, 100));
    await tv.ws.close();
    const left = await entryWhen(u, v, (x) => x.updated !== seeked.updated);
    expect(left.position).toBeGreaterThanOrEqual(40.1);
    expect(left.position).toBeLessThan(45);
  });

  it("saves the ticks of a device that joined a session another device started (HTTP fallback)", async () => {
    const u = await createUser(h);
    const v = await video();
    // The phone is present over HTTP (its state request registers it), and starts playback.
    const st = await h.app.inject({ url: `/api/stream/${v}/state/${streamQuery({ device: "remote" })}`, headers: authHeader(u.access) });
    expect(st.statusCode).toBe(200);
    expect((await httpControl(u, v, { type: "play" })).state.status).toBe("playing");
    // The TV joins the playing session; nothing changes after it joined.
    const tv = await device(u, v, "tv");
    expect(tv.hello.state.status).toBe("playing");
    await sessions().heartbeat();
    expect(await entry(u, v)).toMatchObject({ duration: PLAYBACK_DURATION_S });
    await tv.ws.close();
  });

  it("does not record anonymous viewers", async () => {
    const v = await video();
    const anon = openWs(streamWsUrl(h, v, { device: "kiosk" }));
    await anon.nextOf((f) => f.type === "state");
    await send(anon, { type: "seek", position: 20 }, "paused");
    await send(anon, { type: "play" }, "playing");
    await sessions().heartbeat();
    await anon.close();
    await gone(v, "a:kiosk");
    expect(await h.ctx.db.selectFrom("watch_history").selectAll().where("video_id", "=", v).execute()).toEqual([]);
  });
});

describe("resuming", () => {
  it("starts a new personal session where the user left off", async () => {
    const u = await createUser(h);
    const v = await video();
    const first = await device(u, v, "tv");
    await send(first.ws, { type: "seek", position: 50 }, "paused");
    const seeked = await entryWhen(u, v, (x) => x.position === 50);
    await first.ws.close();
    await entryWhen(u, v, (x) => x.updated !== seeked.updated);
    await forgetSession(v, u.user.id);

    const again = await device(u, v, "phone");
    expect(again.hello.state).toMatchObject({ status: "idle", position: 50, playing: false });
    await again.ws.close();
  });

  it("starts a finished video (position near the end) at 0, and lists it as finished", async () => {
    const u = await createUser(h);
    const v = await video();
    const first = await device(u, v, "tv");
    await send(first.ws, { type: "seek", position: 115 }, "paused");
    const seeked = await entryWhen(u, v, (x) => x.position === 115);
    expect(seeked.finished).toBe(true);
    await first.ws.close();
    await entryWhen(u, v, (x) => x.updated !== seeked.updated);
    await forgetSession(v, u.user.id);

    const again = await device(u, v, "tv");
    expect(again.hello.state).toMatchObject({ status: "idle", position: 0 });
    expect(await entry(u, v)).toMatchObject({ position: 115, finished: true });
    await again.ws.close();
  });

  it("counts the last 5 % or 10 s, whichever is shorter, as finished", () => {
    expect(isFinished(109.999, 120)).toBe(false);
    expect(isFinished(110, 120)).toBe(false);
    expect(isFinished(113.999, 120)).toBe(false);
    expect(isFinished(114, 120)).toBe(true);
    expect(isFinished(120, 120)).toBe(true);
    // long videos: the last 10 s
    expect(isFinished(3589.9, 3600)).toBe(false);
    expect(isFinished(3590, 3600)).toBe(true);
    expect(isFinished(5, null)).toBe(false);
    expect(isFinished(0, 0)).toBe(false);
  });
});

describe("the history routes", () => {
  it("refuse anonymous callers with 401", async () => {
    const v = await video();
    const calls = [
      h.app.inject({ url: "/api/users/me/history/" }),
      h.app.inject({ method: "DELETE", url: "/api/users/me/history/" }),
      h.app.inject({ method: "DELETE", url: `/api/users/me/history/${v}/` }),
      h.app.inject({ url: "/api/users/me/history/settings/" }),
      h.app.inject({ method: "PUT", url: "/api/users/me/history/settings/", payload: { paused: true } }),
    ];
    for (const r of await Promise.all(calls)) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ error: { code: expect.any(String) } });
    }
  });

  it("DELETE one entry (204, then 404 history_not_found), DELETE all clears the list", async () => {
    const u = await createUser(h);
    const other = await createUser(h);
    const [a, b, c] = [await video(), await video(), await video()];
    const hist = h.domains.playback.history;
    for (const v of [a, b, c]) await hist.record(u.user.id, v, 12, PLAYBACK_DURATION_S, "seek");
    await hist.record(other.user.id, a, 33, PLAYBACK_DURATION_S, "seek");

    const del = (path: string) => h.app.inject({ method: "DELETE", url: `/api/users/me/history/${path}`, headers: authHeader(u.access) });
    const r1 = await del(`${a}/`);
    expect(r1.statusCode).toBe(204);
    expect(r1.body).toBe("");
    const r2 = await del(`${a}/`);
    expect(r2.statusCode).toBe(404);
    expect(r2.json()).toMatchObject({ error: { code: "history_not_found" } });
    expect((await history(u)).results.map((e) => e.video.id).sort()).toEqual([b, c].sort());
    expect((await del("not-a-uuid/")).statusCode).toBe(400);

    expect((await del("")).statusCode).toBe(204);
    expect(await history(u)).toEqual({ count: 0, next: null, results: [] });
    // someone else's history is theirs
    expect(await entry(other, a)).toMatchObject({ position: 33 });
  });

  it("paginate with limit and offset, newest first, with a next link", async () => {
    const u = await createUser(h);
    const ids = [await video(), await video(), await video()];
    for (const v of ids) {
      await h.domains.playback.history.record(u.user.id, v, 10, PLAYBACK_DURATION_S, "seek");
      // distinct `updated` stamps (milliseconds), so the order is the writes' order
      await new Promise((r) => setTimeout(r, 3));
    }
    const newestFirst = [...ids].reverse();
    const p1 = await history(u, "?limit=2");
    expect(p1.count).toBe(3);
    expect(p1.results.map((e) => e.video.id)).toEqual(newestFirst.slice(0, 2));
    expect(p1.next).toBe("/api/users/me/history/?limit=2&offset=2");
    const p2 = await history(u, p1.next!.replace("/api/users/me/history/", ""));
    expect(p2.results.map((e) => e.video.id)).toEqual(newestFirst.slice(2));
    expect(p2).toMatchObject({ count: 3, next: null });
    expect(await history(u, "?limit=2&offset=3")).toEqual({ count: 3, next: null, results: [] });
    expect((await history(u)).next).toBeNull();
    expect((await history(u, "?offset=1")).results.map((e) => e.video.id)).toEqual(newestFirst.slice(1));
    for (const bad of ["?limit=0", "?limit=101", "?offset=-1", "?limit=x"]) {
      expect((await h.app.inject({ url: `/api/users/me/history/${bad}`, headers: authHeader(u.access) })).statusCode).toBe(400);
    }
  });

  it("do not list a video since turned private by its owner to anyone else (count included)", async () => {
    const viewer = await createUser(h);
    const moderator = await createUser(h, { role: "moderator" });
    const v = await video("public");
    const kept = await video("public");
    const hist = h.domains.playback.history;
    for (const u of [viewer, moderator, owner]) await hist.record(u.user.id, v, 20, PLAYBACK_DURATION_S, "seek");
    await hist.record(viewer.user.id, kept, 5, PLAYBACK_DURATION_S, "seek");

    const patch = (visibility: string) => h.app.inject({ method: "PATCH", url: `/api/videos/${v}/`, headers: authHeader(owner.access), payload: { visibility } });
    expect((await patch("private")).statusCode).toBe(200);
    const seen = await history(viewer, "?limit=1");
    expect(seen.results.map((e) => e.video.id)).toEqual([kept]);
    expect(seen).toMatchObject({ count: 1, next: null });
    // the owner and staff still see it
    expect(await entry(owner, v)).toMatchObject({ position: 20 });
    expect(await entry(moderator, v)).toMatchObject({ position: 20 });
    // the row stays: back to public, back in the list
    expect(await rows(viewer.user.id, v)).toHaveLength(1);
    expect((await patch("unlisted")).statusCode).toBe(200);
    expect(await entry(viewer, v)).toMatchObject({ position: 20 });
  });
});

describe("pausing history", () => {
  it("stops recording, and a new session starts at 0 while paused", async () => {
    const u = await createUser(h);
    const v = await video();
    const settings = (method: "GET" | "PUT", paused?: unknown) =>
      h.app.inject({ method, url: "/api/users/me/history/settings/", headers: authHeader(u.access), ...(method === "PUT" ? { payload: { paused } } : {}) });
    expect((await settings("GET")).json()).toEqual({ paused: false });
    await h.domains.playback.history.record(u.user.id, v, 50, PLAYBACK_DURATION_S, "seek");
    const saved = await entry(u, v);

    const put = await settings("PUT", true);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ paused: true });
    expect((await settings("GET")).json()).toEqual({ paused: true });

    const tv = await device(u, v, "tv");
    expect(tv.hello.state).toMatchObject({ status: "idle", position: 0 });
    // HTTP control answers after its history write, so "nothing written" is known at once.
    await httpControl(u, v, { type: "seek", position: 70 });
    await httpControl(u, v, { type: "play" });
    await sessions().heartbeat();
    await httpControl(u, v, { type: "pause" });
    expect(await entry(u, v)).toEqual(saved);

    expect((await settings("PUT", false)).json()).toEqual({ paused: false });
    expect((await settings("GET")).json()).toEqual({ paused: false });
    await httpControl(u, v, { type: "seek", position: 80 });
    expect(await entry(u, v)).toMatchObject({ position: 80 });
    await tv.ws.close();

    expect((await settings("PUT", "yes")).statusCode).toBe(400);
  });
});

describe("rooms", () => {
  it("do not record history, for the creator nor the members", async () => {
    const member = await createUser(h);
    const v = await video();
    const created = await h.app.inject({ method: "POST", url: `/api/stream/${v}/rooms/`, headers: authHeader(owner.access), payload: { control: "everyone" } });
    expect(created.statusCode, created.body).toBe(201);
    const code = (created.json() as { code: string }).code;

    const m = await device(member, v, "phone", code);
    expect(m.hello.session).toMatchObject({ kind: "room", room: code });
    await send(m.ws, { type: "seek", position: 30 }, "paused");
    await httpControl(owner, v, { type: "seek", position: 35 }, { room: code });
    await httpControl(member, v, { type: "play" }, { room: code });
    await sessions().heartbeat();
    await httpControl(owner, v, { type: "pause" }, { room: code });
    await m.ws.close();
    await gone(v, `r:${code}`);
    expect(await rows(member.user.id, v)).toEqual([]);
    expect(await rows(owner.user.id, v)).toEqual([]);
  });
});

describe("deletion", () => {
  it("removes the rows of a deleted video (FK cascade)", async () => {
    const u = await createUser(h);
    const v = await video();
    const keep = await video();
    await h.domains.playback.history.record(u.user.id, v, 10, PLAYBACK_DURATION_S, "seek");
    await h.domains.playback.history.record(u.user.id, keep, 10, PLAYBACK_DURATION_S, "seek");
    expect(await rows(u.user.id, v)).toHaveLength(1);
    const r = await h.app.inject({ method: "DELETE", url: `/api/videos/${v}/`, headers: authHeader(owner.access) });
    expect(r.statusCode, r.body).toBe(204);
    expect(await rows(u.user.id, v)).toEqual([]);
    expect(await rows(u.user.id)).toHaveLength(1);
  });

  it("removes the rows and the setting of a deleted account (FK cascade)", async () => {
    const u = await createUser(h);
    const v = await video();
    await h.domains.playback.history.record(u.user.id, v, 10, PLAYBACK_DURATION_S, "seek");
    await h.domains.playback.history.setPaused(u.user.id, true);
    const r = await h.app.inject({ method: "DELETE", url: "/api/users/me/", headers: authHeader(u.access), payload: { password: u.password } });
    expect(r.statusCode, r.body).toBe(204);
    expect(await rows(u.user.id)).toEqual([]);
    expect(await h.ctx.db.selectFrom("watch_settings").selectAll().where("user_id", "=", u.user.id).execute()).toEqual([]);
    // the video watched stays
    expect(await h.domains.videos.repo.findWithOwner(v)).toBeDefined();
  });
});
