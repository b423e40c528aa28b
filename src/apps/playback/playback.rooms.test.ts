/**
 * Watch rooms over the WebSocket: three members (the signed-in creator, another signed-in user,
 * an anonymous viewer of a public video) in one session, owner-only control, the waiting state
 * (a `play` while someone buffers, ended by readiness or by ROOM_WAIT_TIMEOUT_MS), the room's
 * HTTP face (create, look up, end) and its idle expiry (ROOM_IDLE_TTL). With REDIS_URL set the
 * harnesses keep the rooms in Redis; members on two processes are in playback.redis.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, waitFor, type Frame, type WsClient } from "../../test/ws-client.js";
import { insertPlaybackVideo, streamWsUrl } from "./playback.fixtures.js";

interface StateFrame {
  type: "state";
  by: string | null;
  version?: number;
  state: { status: string; playing: boolean; position: number; speed: number; quality: string; audio_lang: string | null; waiting_for: string[]; version: number };
  session?: { kind: string; room: string | null; device: string; can_control: boolean };
}
interface MemberView {
  device: string;
  user: { id: string; username: string } | null;
  transport: string;
  buffering: boolean;
  can_control: boolean;
}

/**
 * At scale the rooms live in Redis (PEXPIRE'd records, member hashes, pub/sub) as in production;
 * embedded, in the memory hub. Each harness gets its own prefix, cleared afterwards.
 */
function hubEnv(): { env: Record<string, string>; clear(): Promise<void> } {
  if (!TEST_REDIS_URL) return { env: {}, clear: async () => undefined };
  const prefix = `vftest-rooms-${randomUUID()}`;
  return {
    env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix },
    async clear() {
      const { Redis } = await import("ioredis");
      const admin = new Redis(TEST_REDIS_URL!);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    },
  };
}

const isState = (f: Frame): f is Frame & StateFrame => f.type === "state";
/** The next `state` frame that matches (the others, presence and older states, are skipped). */
async function nextState(c: WsClient, match: (f: StateFrame) => boolean = () => true, timeoutMs?: number): Promise<StateFrame> {
  return (await c.nextOf((f) => isState(f) && match(f), timeoutMs)) as unknown as StateFrame;
}
async function nextError(c: WsClient): Promise<{ code: string; message: string }> {
  return ((await c.nextOf((f) => f.type === "error")) as { error: { code: string; message: string } }).error;
}

async function createRoom(h: Harness, videoId: string, as: TestUser, control: "everyone" | "owner" = "everyone"): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: `/api/stream/${videoId}/rooms/`, headers: authHeader(as.access), payload: { control } });
  expect(res.statusCode, res.body).toBe(201);
  const room = res.json<{ code: string; control: string; created_by: { id: string }; ws_url: string }>();
  expect(room).toMatchObject({ control, created_by: { id: as.user.id }, ws_url: `/ws/stream/${videoId}/?room=${room.code}` });
  return room.code;
}

async function getRoom(h: Harness, videoId: string, code: string) {
  return h.app.inject({ method: "GET", url: `/api/stream/${videoId}/rooms/${code}/` });
}

interface Trio {
  a: WsClient;
  b: WsClient;
  c: WsClient;
  all: WsClient[];
  hello: StateFrame[];
  close(): Promise<void>;
}

/** The creator's device A, Bob's device B and an anonymous device C, each greeted. */
async function joinThree(h: Harness, videoId: string, code: string, creator: TestUser, bob: TestUser): Promise<Trio> {
  const a = openWs(streamWsUrl(h, videoId, { room: code, token: creator.access, device: "A" }));
  const b = openWs(streamWsUrl(h, videoId, { room: code, token: bob.access, device: "B" }));
  const c = openWs(streamWsUrl(h, videoId, { room: code, device: "C" }));
  const all = [a, b, c];
  const hello = await Promise.all(all.map((x) => nextState(x)));
  // Everyone is in before the test starts: the presence that lists all three reached each.
  await Promise.all(all.map((x) => x.nextOf((f) => f.type === "presence" && f.count === 3)));
  return { a, b, c, all, hello, close: async () => void (await Promise.all(all.map((x) => x.close()))) };
}

describe("watch rooms", () => {
  let h: Harness;
  let creator: TestUser;
  let bob: TestUser;
  let videoId: string;
  let otherVideoId: string;
  const hub = hubEnv();

  beforeAll(async () => {
    h = await createHarness(hub.env);
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    creator = await createUser(h);
    bob = await createUser(h);
    const uploader = await createUser(h, { role: "uploader" });
    videoId = await insertPlaybackVideo(h, uploader.user.id, "public");
    otherVideoId = await insertPlaybackVideo(h, uploader.user.id, "public");
  });
  afterAll(async () => {
    await h?.close();
    await hub.clear();
  });

  it("keeps three members (two signed in, one anonymous) in sync, and lists them", async () => {
    const code = await createRoom(h, videoId, creator);
    const t = await joinThree(h, videoId, code, creator, bob);
    try {
      for (const [i, dev] of ["A", "B", "C"].entries()) {
        expect(t.hello[i]).toMatchObject({ by: null, session: { kind: "room", room: code, device: dev, can_control: true }, state: { status: "idle", position: 0 } });
      }
      // Presence: the three devices, who they are, over which transport.
      const res = await getRoom(h, videoId, code);
      expect(res.statusCode).toBe(200);
      const presence = res.json<{ members: MemberView[]; code: string }>();
      expect(presence.code).toBe(code);
      expect(presence.members).toEqual([
        { device: "A", user: { id: creator.user.id, username: creator.user.username }, transport: "ws", buffering: false, can_control: true },
        { device: "B", user: { id: bob.user.id, username: bob.user.username }, transport: "ws", buffering: false, can_control: true },
        { device: "C", user: null, transport: "ws", buffering: false, can_control: true },
      ]);
      const frame = t.c.frames.find((f) => f.type === "presence" && f.count === 3) as { members: MemberView[]; room: string };
      expect(frame.room).toBe(code);
      expect(frame.members.map((m) => m.device)).toEqual(["A", "B", "C"]);

      // Every change, whoever makes it, reaches all three (its sender too) with one version.
      t.a.send({ type: "play" });
      const played = await Promise.all(t.all.map((x) => nextState(x, (f) => f.by === "A")));
      for (const f of played) expect(f.state).toMatchObject({ status: "playing", playing: true });
      expect(new Set(played.map((f) => f.version)).size).toBe(1);

      t.c.send({ type: "seek", position: 30 });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "C")))) expect(f.state.position).toBeGreaterThanOrEqual(30);
      t.b.send({ type: "change_speed", speed: 1.5 });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "B")))) expect(f.state.speed).toBe(1.5);
      t.b.send({ type: "change_lang", audio: "fra" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "B" && s.state.audio_lang === "fr")))) expect(f.state.status).toBe("playing");
      // The sender alone also gets where to switch to (before or after the state: two paths).
      await waitFor(() => t.b.frames.some((f) => f.type === "switch"));
      expect(t.b.frames.find((f) => f.type === "switch")).toMatchObject({ audio: { id: "a2_fr", language: "fr" } });
      expect([t.a, t.c].some((x) => x.frames.some((f) => f.type === "switch"))).toBe(false);
      t.c.send({ type: "pause" });
      const paused = await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "C")));
      for (const f of paused) expect(f.state).toMatchObject({ status: "paused", playing: false, speed: 1.5, audio_lang: "fr" });
      expect(new Set(paused.map((f) => f.state.position)).size).toBe(1);
    } finally {
      await t.close();
    }
    // The room outlives a visit: members leave, it stays (until its idle TTL) with nobody in it.
    await waitFor(async () => (await getRoom(h, videoId, code)).json<{ members: unknown[] }>().members.length === 0);
  });

  it("control: owner — the others may only report about themselves", async () => {
    const code = await createRoom(h, videoId, creator, "owner");
    const t = await joinThree(h, videoId, code, creator, bob);
    try {
      expect(t.hello.map((f) => f.session?.can_control)).toEqual([true, false, false]);
      const forbidden: [WsClient, Record<string, unknown>][] = [
        [t.b, { type: "play" }],
        [t.c, { type: "play" }],
        [t.b, { type: "pause" }],
        [t.c, { type: "seek", position: 10 }],
        [t.b, { type: "change_speed", speed: 2 }],
        [t.c, { type: "change_lang", audio: "fr" }],
        [t.b, { type: "change_lang", subtitles: "de" }],
        [t.c, { type: "change_quality", quality: "240p" }],
        [t.b, { type: "change_quality", quality: "480p", scope: "session" }],
      ];
      for (const [who, msg] of forbidden) {
        who.send(msg);
        expect(await nextError(who), JSON.stringify(msg)).toMatchObject({ code: "control_forbidden" });
      }
      // Still connected: messages about the sender itself are accepted.
      for (const x of [t.b, t.c]) {
        expect(x.ws.readyState).toBe(x.ws.OPEN);
        x.send({ type: "sync" });
        expect(await nextState(x)).toMatchObject({ by: null, state: { status: "idle", version: t.hello[0]!.state.version } });
        x.send({ type: "buffering" });
        await nextState(x);
        x.send({ type: "ready" });
        await nextState(x);
      }
      t.c.send({ type: "change_quality", quality: "240p", scope: "device" });
      expect(await t.c.nextOf((f) => f.type === "switch")).toMatchObject({ quality: "240p", playlist_url: `/api/videos/${videoId}/hls/240p/index.m3u8` });
      // Only C's view changed: the session still plays `auto`.
      t.c.send({ type: "sync" });
      expect((await nextState(t.c)).state.quality).toBe("240p");
      t.b.send({ type: "sync" });
      expect((await nextState(t.b)).state.quality).toBe("auto");

      // The creator controls, and the state nobody else could change is what everyone has.
      t.a.send({ type: "seek", position: 12 });
      const seen = await Promise.all(t.all.map((x) => nextState(x, (f) => f.by === "A")));
      expect(seen.map((f) => [f.state.status, f.state.position, f.state.quality])).toEqual([
        ["paused", 12, "auto"],
        ["paused", 12, "auto"],
        ["paused", 12, "240p"],
      ]);
      t.a.send({ type: "play" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "A" && s.state.status === "playing")))) expect(f.state.playing).toBe(true);
      expect(t.all.every((x) => x.ws.readyState === x.ws.OPEN)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it("control: everyone — any member controls", async () => {
    const code = await createRoom(h, videoId, creator, "everyone");
    const t = await joinThree(h, videoId, code, creator, bob);
    try {
      t.c.send({ type: "play" });
      await Promise.all(t.all.map((x) => nextState(x, (f) => f.by === "C" && f.state.status === "playing")));
      t.b.send({ type: "change_quality", quality: "480p" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "B")))) expect(f.state.quality).toBe("480p");
      t.c.send({ type: "change_lang", subtitles: "en" });
      await Promise.all(t.all.map((x) => nextState(x, (f) => f.by === "C")));
      t.b.send({ type: "pause" });
      await Promise.all(t.all.map((x) => nextState(x, (f) => f.by === "B" && f.state.status === "paused")));
      expect(t.all.flatMap((x) => x.frames).filter((f) => f.type === "error")).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("a play waits for a buffering member until it is ready; a member stalling mid-play makes the room wait", async () => {
    const code = await createRoom(h, videoId, creator, "owner");
    const t = await joinThree(h, videoId, code, creator, bob);
    try {
      t.b.send({ type: "buffering" });
      // A member's readiness is in the room's presence.
      await t.a.nextOf((f) => f.type === "presence" && (f.members as MemberView[]).some((m) => m.device === "B" && m.buffering));
      t.a.send({ type: "play" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "A")))) {
        expect(f.state).toMatchObject({ status: "waiting", playing: false, waiting_for: ["B"], position: 0 });
      }
      t.b.send({ type: "ready" });
      const started = await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "B")));
      for (const f of started) expect(f.state).toMatchObject({ status: "playing", playing: true, waiting_for: [] });

      // C stalls while the room plays: nobody runs ahead of it.
      t.c.send({ type: "buffering" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "C")))) {
        expect(f.state).toMatchObject({ status: "waiting", playing: false, waiting_for: ["C"] });
      }
      // A second member stalls: the room waits for both, and starts when the last is ready.
      t.b.send({ type: "buffering" });
      expect((await nextState(t.a, (s) => s.by === "B")).state.waiting_for).toEqual(["B", "C"]);
      t.c.send({ type: "ready" });
      expect((await nextState(t.a, (s) => s.by === "C")).state).toMatchObject({ status: "waiting", waiting_for: ["B"] });
      t.b.send({ type: "ready" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "B" && s.state.status !== "waiting")))) expect(f.state).toMatchObject({ status: "playing", waiting_for: [] });
      // Positions do not jump: the room held still while it waited.
      expect(started[0]!.state.position).toBeLessThan(1);
    } finally {
      await t.close();
    }
  });

  it("refuses a room code that does not exist or belongs to another video (4404 room_not_found)", async () => {
    const other = await createRoom(h, otherVideoId, creator);
    for (const room of ["ZZZZZZZZ", other]) {
      const c = openWs(streamWsUrl(h, videoId, { room, token: bob.access }));
      expect(await nextError(c)).toMatchObject({ code: "room_not_found" });
      expect(await c.closed).toEqual({ code: 4404, reason: "room_not_found" });
    }
    // Codes are read case- and dash-insensitively, as they are typed off a TV.
    const spaced = `${other.slice(0, 4).toLowerCase()}-${other.slice(4)}`;
    const ok = openWs(streamWsUrl(h, otherVideoId, { room: spaced }));
    expect(await nextState(ok)).toMatchObject({ session: { kind: "room", room: other } });
    await ok.close();
    expect((await getRoom(h, videoId, other)).json()).toMatchObject({ error: { code: "room_not_found" } });
    expect((await getRoom(h, videoId, "ZZZZZZZZ")).statusCode).toBe(404);
  });

  it("only signed-in users create rooms; only the creator ends one, closing every member with 4404", async () => {
    const anon = await h.app.inject({ method: "POST", url: `/api/stream/${videoId}/rooms/`, payload: {} });
    expect(anon.statusCode).toBe(401);
    const bad = await h.app.inject({ method: "POST", url: `/api/stream/${videoId}/rooms/`, headers: authHeader(bob.access), payload: { control: "nobody" } });
    expect(bad.statusCode).toBe(400);
    const missing = await h.app.inject({ method: "POST", url: `/api/stream/${crypto.randomUUID()}/rooms/`, headers: authHeader(bob.access), payload: {} });
    expect(missing.statusCode).toBe(404);

    const code = await createRoom(h, videoId, creator, "owner");
    const t = await joinThree(h, videoId, code, creator, bob);
    const del = (as?: TestUser) => h.app.inject({ method: "DELETE", url: `/api/stream/${videoId}/rooms/${code}/`, headers: as ? authHeader(as.access) : {} });
    expect((await del()).statusCode).toBe(401);
    const refused = await del(bob);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: "not_room_creator" } });
    expect(t.all.every((x) => x.ws.readyState === x.ws.OPEN)).toBe(true);

    const ended = await del(creator);
    expect(ended.statusCode).toBe(204);
    for (const x of t.all) {
      expect(await nextError(x)).toMatchObject({ code: "room_ended" });
      expect(await x.closed).toEqual({ code: 4404, reason: "room_ended" });
    }
    expect((await getRoom(h, videoId, code)).statusCode).toBe(404);
    expect((await del(creator)).statusCode).toBe(404);
    const late = openWs(streamWsUrl(h, videoId, { room: code, token: creator.access }));
    expect(await late.closed).toMatchObject({ code: 4404, reason: "room_not_found" });
  });
});

describe("watch room timings", () => {
  let h: Harness;
  let creator: TestUser;
  let bob: TestUser;
  let videoId: string;
  const WAIT_MS = 300;
  const hub = hubEnv();

  beforeAll(async () => {
    // A short wait, a room that ends 1 s after its last member left, and a heartbeat well inside
    // that second (it is what keeps an occupied room alive).
    h = await createHarness({ ...hub.env, ROOM_WAIT_TIMEOUT_MS: String(WAIT_MS), ROOM_IDLE_TTL: "1", PLAYBACK_HEARTBEAT_MS: "200" });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    creator = await createUser(h);
    bob = await createUser(h);
    videoId = await insertPlaybackVideo(h, creator.user.id, "public");
  });
  afterAll(async () => {
    await h?.close();
    await hub.clear();
  });

  it("a wait for a member that never gets ready ends by itself after ROOM_WAIT_TIMEOUT_MS", async () => {
    const code = await createRoom(h, videoId, creator, "owner");
    const t = await joinThree(h, videoId, code, creator, bob);
    try {
      t.b.send({ type: "buffering" });
      await t.a.nextOf((f) => f.type === "presence" && (f.members as MemberView[]).some((m) => m.device === "B" && m.buffering));
      const sent = Date.now();
      t.a.send({ type: "play" });
      for (const f of await Promise.all(t.all.map((x) => nextState(x, (s) => s.by === "A")))) expect(f.state).toMatchObject({ status: "waiting", waiting_for: ["B"] });
      const started = await Promise.all(t.all.map((x) => nextState(x, (s) => s.state.status === "playing", 3000)));
      expect(Date.now() - sent).toBeGreaterThanOrEqual(WAIT_MS - 20);
      // Nobody's device ended it: the server did, for everyone at once.
      for (const f of started) expect(f).toMatchObject({ by: null, state: { playing: true, waiting_for: [] } });
      expect(new Set(started.map((f) => f.version)).size).toBe(1);
    } finally {
      await t.close();
    }
  });

  it("a room stays while a member is in it, and ends ROOM_IDLE_TTL after the last one left", async () => {
    const code = await createRoom(h, videoId, creator, "everyone");
    const member = openWs(streamWsUrl(h, videoId, { room: code, token: bob.access, device: "B" }));
    await nextState(member);
    // Well past the 1 s TTL: the heartbeat keeps pushing the room's expiry back.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      expect((await getRoom(h, videoId, code)).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 250));
    }
    member.send({ type: "play" });
    expect((await nextState(member, (f) => f.by === "B")).state.status).toBe("playing");
    await member.close();
    // Gone within the TTL (plus a heartbeat of slack), not at once.
    const left = Date.now();
    expect((await getRoom(h, videoId, code)).statusCode).toBe(200);
    await waitFor(async () => (await getRoom(h, videoId, code)).statusCode === 404, 3000);
    expect(Date.now() - left).toBeGreaterThanOrEqual(500);
    const late = openWs(streamWsUrl(h, videoId, { room: code, token: bob.access }));
    expect(await nextError(late)).toMatchObject({ code: "room_not_found" });
    expect((await late.closed).code).toBe(4404);
  });
});
