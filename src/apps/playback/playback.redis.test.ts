/**
 * Two API processes over the real Redis (two harnesses sharing one REDIS_PREFIX): one user's
 * devices on both share one session through every change; a watch room has members on both
 * (control, waiting, presence); an HTTP device on one and a WebSocket device on the other see
 * each other; and a video deleted or made private through one process closes the sockets the
 * other holds (the video-changed announcement goes through the state hub).
 *
 * As in src/apps/reactions/live.routes.test.ts, each harness has its own database (its own
 * SQLite file, or its own PostgreSQL schema): real processes share one, so the rows the test
 * needs are written to both.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { SseClient, type SseMessage } from "../../test/sse-client.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, waitFor, type Frame, type WsClient } from "../../test/ws-client.js";
import { insertReadyVideo } from "../streaming/streaming.fixtures.js";
import { usernameKey } from "../users/index.js";
import { PLAYBACK_DURATION_S, playbackMedia, streamQuery, streamWsUrl } from "./playback.fixtures.js";

interface StateView {
  status: string;
  playing: boolean;
  position: number;
  speed: number;
  quality: string;
  audio_lang: string | null;
  subtitle_lang: string | null;
  version: number;
  waiting_for: string[];
}
interface StateFrame {
  type: "state";
  by: string | null;
  version?: number;
  state: StateView;
  session?: { kind: string; room: string | null; device: string; can_control: boolean };
}
interface MemberView {
  device: string;
  user: { id: string; username: string } | null;
  transport: "ws" | "http";
}

const baseOf = (h: Harness) => `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
async function nextState(c: WsClient, match: (f: StateFrame) => boolean = () => true): Promise<StateFrame> {
  return (await c.nextOf((f: Frame) => f.type === "state" && match(f as unknown as StateFrame))) as unknown as StateFrame;
}
async function nextPresence(c: WsClient, match: (members: MemberView[]) => boolean): Promise<MemberView[]> {
  return ((await c.nextOf((f) => f.type === "presence" && match(f.members as MemberView[]))) as { members: MemberView[] }).members;
}
async function sseNext<T>(sse: SseClient, event: string, match: (data: T) => boolean = () => true): Promise<T> {
  for (;;) {
    const m: SseMessage = await sse.next();
    if (m.event !== event) continue;
    const data = JSON.parse(m.data) as T;
    if (match(data)) return data;
  }
}

if (!TEST_REDIS_URL) console.warn("playback.redis.test.ts: REDIS_URL not set, skipping the cross-process playback suite");

describe.skipIf(!TEST_REDIS_URL)("playback across API processes (Redis)", () => {
  let a: Harness;
  let b: Harness;
  const prefix = `vftest-playback-${randomUUID()}`;
  let owner: TestUser;
  let bob: TestUser;

  /** A user made on A, and the same row on B (one database in production). */
  async function user(role: "user" | "uploader" = "user"): Promise<TestUser> {
    const u = await createUser(a, { role });
    const row = await a.ctx.db.selectFrom("users").selectAll().where("id", "=", u.user.id).executeTakeFirstOrThrow();
    await b.ctx.db.insertInto("users").values({ ...row, username_key: usernameKey(row.username) }).execute();
    // and its session: access tokens are refused once their refresh-token family is gone
    const sessions = await a.ctx.db.selectFrom("refresh_tokens").selectAll().where("user_id", "=", u.user.id).execute();
    await b.ctx.db.insertInto("refresh_tokens").values(sessions).execute();
    return u;
  }
  /** A ready video (the playback fixture's renditions) in both databases. */
  async function video(visibility: "public" | "unlisted" | "private" = "public"): Promise<string> {
    const id = randomUUID();
    for (const h of [a, b]) await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, visibility, media: playbackMedia(id), durationS: PLAYBACK_DURATION_S });
    return id;
  }

  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix };
    a = await createHarness(env);
    b = await createHarness(env);
    await a.app.listen({ host: "127.0.0.1", port: 0 });
    await b.app.listen({ host: "127.0.0.1", port: 0 });
    owner = await user("uploader");
    bob = await user();
  });
  afterAll(async () => {
    // fetch (undici) re-dials right after an aborted SSE stream's socket closes and sends nothing
    // on the new connection; Node's server.close() counts such a socket as busy and would wait
    // out headersTimeout (60 s) for it. Every client of this suite is closed by now.
    for (const h of [a, b]) h?.app.server.closeAllConnections();
    await b?.close();
    await a?.close();
    const { Redis } = await import("ioredis");
    const admin = new Redis(TEST_REDIS_URL!);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it("one user's device on process A and device on process B share one session through every change", async () => {
    const v = await video();
    const phone = openWs(streamWsUrl(a, v, { token: bob.access, device: "phone" }));
    const tv = openWs(streamWsUrl(b, v, { token: bob.access, device: "tv" }));
    const [hp, ht] = await Promise.all([nextState(phone), nextState(tv)]);
    expect(hp.session).toMatchObject({ kind: "personal", device: "phone" });
    expect(ht.session).toMatchObject({ kind: "personal", device: "tv" });
    expect(ht.state.version).toBe(hp.state.version);
    try {
      const steps: [WsClient, string, Record<string, unknown>, (s: StateView) => void][] = [
        [phone, "phone", { type: "play" }, (s) => expect(s).toMatchObject({ status: "playing", playing: true })],
        [tv, "tv", { type: "seek", position: 42 }, (s) => expect(s.position).toBeGreaterThanOrEqual(42)],
        [phone, "phone", { type: "change_speed", speed: 2 }, (s) => expect(s.speed).toBe(2)],
        [tv, "tv", { type: "change_quality", quality: "240p" }, (s) => expect(s.quality).toBe("240p")],
        [phone, "phone", { type: "change_lang", audio: "fre", subtitles: "deu" }, (s) => expect(s).toMatchObject({ audio_lang: "fr", subtitle_lang: "de" })],
        [tv, "tv", { type: "change_lang", audio: "a1_en", subtitles: "off" }, (s) => expect(s).toMatchObject({ audio_lang: "en", subtitle_lang: null })],
        [phone, "phone", { type: "pause" }, (s) => expect(s).toMatchObject({ status: "paused", playing: false, speed: 2, quality: "240p" })],
      ];
      let version = hp.state.version;
      for (const [from, device, msg, check] of steps) {
        from.send(msg);
        const [onPhone, onTv] = await Promise.all([nextState(phone, (f) => f.by === device), nextState(tv, (f) => f.by === device)]);
        // One version per change, the same on both processes, in order.
        expect([onPhone.version, onTv.version]).toEqual([version + 1, version + 1]);
        version += 1;
        check(onPhone.state);
        check(onTv.state);
      }
      // The paused position is the same everywhere, and a `sync` on B reads the shared record.
      tv.send({ type: "sync" });
      const synced = await nextState(tv, (f) => f.by === null);
      expect(synced.state).toMatchObject({ version, status: "paused" });
      const paused = phone.frames.filter((f) => f.type === "state" && (f as unknown as StateFrame).by === "phone").pop() as unknown as StateFrame;
      expect(synced.state.position).toBe(paused.state.position);
      // Presence spans the processes: both devices, whichever process holds them.
      const both = (f: Frame) => f.type === "presence" && (f.members as MemberView[]).length === 2;
      await waitFor(() => tv.frames.some(both) && phone.frames.some(both));
      const members = tv.frames.find(both)!.members as MemberView[];
      expect(members.map((m) => [m.device, m.transport])).toEqual([
        ["phone", "ws"],
        ["tv", "ws"],
      ]);
    } finally {
      await phone.close();
      await tv.close();
    }
  });

  it("a room with members on both processes: owner-only control, the waiting state and presence", async () => {
    const v = await video();
    const created = await a.app.inject({ method: "POST", url: `/api/stream/${v}/rooms/`, headers: authHeader(owner.access), payload: { control: "owner" } });
    expect(created.statusCode).toBe(201);
    const code = created.json<{ code: string }>().code;
    // The room is in the shared store: process B finds it.
    expect((await b.app.inject({ url: `/api/stream/${v}/rooms/${code}/` })).statusCode).toBe(200);

    const host = openWs(streamWsUrl(a, v, { room: code, token: owner.access, device: "host" }));
    const guest = openWs(streamWsUrl(b, v, { room: code, token: bob.access, device: "guest" }));
    const anon = openWs(streamWsUrl(b, v, { room: code, device: "anon" }));
    const all = [host, guest, anon];
    try {
      const hello = await Promise.all(all.map((c) => nextState(c)));
      expect(hello.map((f) => [f.session?.kind, f.session?.room, f.session?.can_control])).toEqual([
        ["room", code, true],
        ["room", code, false],
        ["room", code, false],
      ]);
      // Presence: the three, on A and on B.
      for (const c of all) {
        const members = await nextPresence(c, (m) => m.length === 3);
        expect(members.map((m) => [m.device, m.user?.id ?? null])).toEqual([
          ["anon", null],
          ["guest", bob.user.id],
          ["host", owner.user.id],
        ]);
      }
      const listed = (await a.app.inject({ url: `/api/stream/${v}/rooms/${code}/` })).json<{ members: MemberView[] }>();
      expect(listed.members.map((m) => m.device)).toEqual(["anon", "guest", "host"]);

      guest.send({ type: "seek", position: 5 });
      expect(await guest.nextOf((f) => f.type === "error")).toMatchObject({ error: { code: "control_forbidden" } });

      // B's guest buffers, A's host plays: the room waits, on both processes, until it is ready.
      guest.send({ type: "buffering" });
      await nextPresence(host, (m) => m.some((x) => x.device === "guest" && (x as MemberView & { buffering: boolean }).buffering));
      host.send({ type: "play" });
      for (const f of await Promise.all(all.map((c) => nextState(c, (s) => s.by === "host")))) expect(f.state).toMatchObject({ status: "waiting", waiting_for: ["guest"] });
      guest.send({ type: "ready" });
      const started = await Promise.all(all.map((c) => nextState(c, (s) => s.by === "guest")));
      for (const f of started) expect(f.state).toMatchObject({ status: "playing", playing: true, waiting_for: [] });
      expect(new Set(started.map((f) => f.version)).size).toBe(1);

      // A member leaving B is gone from A's presence.
      await anon.close();
      expect((await nextPresence(host, (m) => m.length === 2)).map((m) => m.device)).toEqual(["guest", "host"]);

      // Ended through B: the member on A is closed too.
      const ended = await b.app.inject({ method: "DELETE", url: `/api/stream/${v}/rooms/${code}/`, headers: authHeader(owner.access) });
      expect(ended.statusCode).toBe(204);
      for (const c of [host, guest]) expect(await c.closed).toEqual({ code: 4404, reason: "room_ended" });
    } finally {
      await Promise.all(all.map((c) => c.close()));
    }
  });

  it("an HTTP device on process B and a WebSocket device on process A see each other's changes", async () => {
    const v = await video();
    const q = { token: bob.access, device: "laptop" };
    const ws = openWs(streamWsUrl(a, v, { token: bob.access, device: "tv" }));
    const hello = await nextState(ws);
    const sse = await SseClient.connect(`${baseOf(b)}/api/stream/${v}/events/${streamQuery(q)}`);
    try {
      expect(sse.status).toBe(200);
      expect(await sseNext<StateFrame>(sse, "state")).toMatchObject({ session: { device: "laptop" }, state: { version: hello.state.version } });
      const presence = await nextPresence(ws, (m) => m.some((x) => x.device === "laptop"));
      expect(presence.find((m) => m.device === "laptop")).toMatchObject({ transport: "http", user: { id: bob.user.id } });

      ws.send({ type: "play" });
      expect((await sseNext<StateFrame>(sse, "state", (d) => d.by === "tv")).state.status).toBe("playing");

      const res = await fetch(`${baseOf(b)}/api/stream/${v}/control/${streamQuery(q)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "change_quality", quality: "480p" }),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as StateFrame & { version: number; switch: { quality: string } };
      expect(answer.switch.quality).toBe("480p");
      const onWs = await nextState(ws, (f) => f.by === "laptop");
      expect([onWs.version, onWs.state.quality]).toEqual([answer.version, "480p"]);

      // A long poll on B is answered by a change made on A.
      const poll = fetch(`${baseOf(b)}/api/stream/${v}/state/${streamQuery({ ...q, device: "remote", since: answer.version })}`);
      await nextPresence(ws, (m) => m.some((x) => x.device === "remote"));
      ws.send({ type: "pause" });
      const polled = (await (await poll).json()) as { state: StateView };
      expect(polled.state).toMatchObject({ status: "paused", version: answer.version + 1 });
    } finally {
      sse.close();
      await ws.close();
    }
  });

  it("a video deleted or made private through process A closes the sockets process B holds", async () => {
    const v = await video();
    const viewer = openWs(streamWsUrl(b, v, { token: bob.access, device: "tv" }));
    const guest = openWs(streamWsUrl(b, v, { device: "anon" }));
    const ownerWs = openWs(streamWsUrl(b, v, { token: owner.access, device: "studio" }));
    await Promise.all([viewer, guest, ownerWs].map((c) => nextState(c)));

    // Private: the anonymous viewer and Bob must go (4403 video_unavailable / 4404), the owner stays.
    await b.ctx.db.updateTable("videos").set({ visibility: "private" }).where("id", "=", v).execute();
    const patched = await a.app.inject({ method: "PATCH", url: `/api/videos/${v}/`, headers: authHeader(owner.access), payload: { visibility: "private" } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(await guest.nextOf((f) => f.type === "error")).toMatchObject({ error: { code: "video_unavailable" } });
    expect(await guest.closed).toEqual({ code: 4403, reason: "video_unavailable" });
    expect(await viewer.closed).toEqual({ code: 4404, reason: "video_not_found" });
    expect(ownerWs.ws.readyState).toBe(ownerWs.ws.OPEN);

    // Deleted: even the owner's socket on B closes.
    await b.ctx.db.deleteFrom("videos").where("id", "=", v).execute();
    const deleted = await a.app.inject({ method: "DELETE", url: `/api/videos/${v}/`, headers: authHeader(owner.access) });
    expect(deleted.statusCode).toBe(204);
    expect(await ownerWs.nextOf((f) => f.type === "error")).toMatchObject({ error: { code: "video_not_found" } });
    expect(await ownerWs.closed).toEqual({ code: 4404, reason: "video_not_found" });
  });
});
