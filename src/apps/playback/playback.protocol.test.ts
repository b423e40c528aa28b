/**
 * The WebSocket protocol of live playback, with the real `ws` client against a listening app:
 * two devices of one user kept in sync through every client message, reconnect + `sync`, every
 * bad frame (answered and kept open, or closed with its code), the control rate limit, and the
 * video's live `comment`/`reactions` events and `presence` on the same connection.
 *
 * With REDIS_URL set the harness is given it, so the state hub (state records, CAS, pub/sub)
 * is the Redis one and the fan-out goes over it; embedded, the memory hub.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, type Frame, type WsClient } from "../../test/ws-client.js";
import type { StateView } from "./playback-state.js";
import type { Member, SwitchInfo } from "./playback.schemas.js";
import { PLAYBACK_DURATION_S, insertPlaybackVideo, streamWsUrl } from "./playback.fixtures.js";

interface StateFrame {
  type: "state";
  state: StateView;
  by: string | null;
  version?: number;
  session?: { kind: string; room: string | null; device: string; can_control: boolean };
  members?: Member[];
}
type SwitchFrame = SwitchInfo & { type: "switch" };
interface ErrorFrame {
  type: "error";
  error: { code: string; message: string; details: unknown };
}
interface PresenceFrame {
  type: "presence";
  members: Member[];
  count: number;
  room: string | null;
}

const isState = (f: Frame) => f.type === "state";
/** a state frame caused by a change (the fan-out), not an answer to `sync` or a no-op */
const isChange = (f: Frame) => f.type === "state" && f.by !== null;

async function nextChange(c: WsClient): Promise<StateFrame> {
  return (await c.nextOf(isChange)) as unknown as StateFrame;
}
async function nextError(c: WsClient): Promise<ErrorFrame> {
  return (await c.nextOf((f) => f.type === "error")) as unknown as ErrorFrame;
}
async function nextSwitch(c: WsClient): Promise<SwitchFrame> {
  return (await c.nextOf((f) => f.type === "switch")) as unknown as SwitchFrame;
}
/**
 * The sender of a change with URLs gets both its `switch` and the change's fan-out, in either
 * order (the fan-out goes over the hub, the switch straight back).
 */
async function switchAndChange(c: WsClient): Promise<{ sw: SwitchFrame; st: StateFrame }> {
  let sw: SwitchFrame | undefined;
  let st: StateFrame | undefined;
  await c.nextOf((f) => {
    if (f.type === "switch") sw = f as unknown as SwitchFrame;
    else if (isChange(f)) st = f as unknown as StateFrame;
    return sw !== undefined && st !== undefined;
  });
  return { sw: sw!, st: st! };
}

/** `sync`: the sender's answer is a state frame with `by: null`. */
async function sync(c: WsClient): Promise<StateFrame> {
  c.send({ type: "sync" });
  return (await c.nextOf((f) => f.type === "state" && f.by === null)) as unknown as StateFrame;
}

let pingSeq = 0;
/**
 * A round trip through the socket (ping → pong): every frame the server sent this client before
 * the pong has arrived once it returns; those frames are returned (and taken).
 */
async function drain(c: WsClient): Promise<Frame[]> {
  const before = c.frames.length;
  const mark = ++pingSeq;
  c.send({ type: "ping", client_time: mark });
  await c.nextOf((f) => f.type === "pong" && f.client_time === mark);
  return c.frames.slice(before).filter((f) => !(f.type === "pong" && f.client_time === mark));
}

/** Opens one device and takes its greeting. */
async function device(h: Harness, videoId: string, q: Record<string, string | undefined>): Promise<{ c: WsClient; hello: StateFrame }> {
  const c = openWs(streamWsUrl(h, videoId, q));
  const hello = (await c.nextOf(isState)) as unknown as StateFrame;
  return { c, hello };
}

let h: Harness;

/** With Redis available, the harness's state hub and buses use it (REDIS_URL is not inherited). */
const scaleEnv = (): Record<string, string> => (TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {});

async function dropRedisKeys(prefix: string): Promise<void> {
  if (!TEST_REDIS_URL) return;
  const { Redis } = await import("ioredis");
  const admin = new Redis(TEST_REDIS_URL);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
}

beforeAll(async () => {
  h = await createHarness(scaleEnv());
  await h.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  const prefix = h.config.redisPrefix;
  await h.close();
  await dropRedisKeys(prefix);
});

/** A fresh user with a fresh public video and their two devices connected. */
async function twoDevices(): Promise<{ user: TestUser; videoId: string; phone: WsClient; tv: WsClient; hello: StateFrame }> {
  const user = await createUser(h);
  const videoId = await insertPlaybackVideo(h, user.user.id);
  const { c: phone, hello } = await device(h, videoId, { token: user.access, device: "phone" });
  const { c: tv } = await device(h, videoId, { token: user.access, device: "tv" });
  return { user, videoId, phone, tv, hello };
}

describe("two devices of one user", () => {
  it("greets each device with the shared session", async () => {
    const { user, videoId, phone, tv } = await twoDevices();
    // The greeting of the second device already lists both.
    const again = await device(h, videoId, { token: user.access, device: "tv" });
    expect(again.hello).toMatchObject({
      type: "state",
      by: null,
      session: { kind: "personal", room: null, device: "tv", can_control: true },
      state: { status: "idle", playing: false, position: 0, speed: 1, quality: "auto", audio_lang: "en", subtitle_lang: null, waiting_for: [] },
    });
    expect(again.hello.members!.map((m) => m.device).sort()).toEqual(["phone", "tv"]);
    expect(again.hello.members!.every((m) => m.user?.id === user.user.id && m.transport === "ws")).toBe(true);
    await Promise.all([phone.close(), tv.close(), again.c.close()]);
  });

  it("play, pause, seek and change_speed reach both devices, versioned, with the sender as `by`", async () => {
    const { phone, tv, hello } = await twoDevices();
    const versions = [hello.state.version];
    /** one change by `from`: both devices get the same frame; returns the receiver's copy */
    const step = async (from: WsClient, msg: Record<string, unknown>, by: string): Promise<StateFrame> => {
      from.send(msg);
      const [a, b] = await Promise.all([nextChange(phone), nextChange(tv)]);
      expect(a.by).toBe(by);
      expect(b.by).toBe(by);
      expect(a.version).toBe(b.version);
      expect(a.state.version).toBe(a.version);
      expect(a.state.status).toBe(b.state.status);
      versions.push(a.version!);
      return from === phone ? b : a;
    };

    let s = await step(phone, { type: "play" }, "phone");
    expect(s.state).toMatchObject({ status: "playing", playing: true, speed: 1 });
    s = await step(tv, { type: "pause" }, "tv");
    expect(s.state).toMatchObject({ status: "paused", playing: false });
    s = await step(phone, { type: "seek", position: 42 }, "phone");
    expect(s.state).toMatchObject({ status: "paused", position: 42 });
    s = await step(tv, { type: "change_speed", speed: 1.5 }, "tv");
    expect(s.state).toMatchObject({ speed: 1.5, position: 42, status: "paused" });
    s = await step(phone, { type: "seek", position: PLAYBACK_DURATION_S }, "phone");
    expect(s.state.position).toBe(PLAYBACK_DURATION_S);
    // Boundaries of the speed range are accepted.
    s = await step(phone, { type: "change_speed", speed: 0.25 }, "phone");
    expect(s.state.speed).toBe(0.25);
    s = await step(tv, { type: "change_speed", speed: 4 }, "tv");
    expect(s.state.speed).toBe(4);
    // Play from the very end restarts.
    s = await step(tv, { type: "play" }, "tv");
    expect(s.state).toMatchObject({ status: "playing", speed: 4 });
    expect(s.state.position).toBeLessThan(1);
    // A seek while playing keeps playing.
    s = await step(phone, { type: "seek", position: 10 }, "phone");
    expect(s.state.status).toBe("playing");
    expect(s.state.position).toBeGreaterThanOrEqual(10);

    for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
    // Nothing else was sent to either device (no switch frames, no stray state).
    for (const c of [phone, tv]) expect((await drain(c)).filter((f) => f.type !== "presence")).toEqual([]);
    await Promise.all([phone.close(), tv.close()]);
  });

  it("extrapolates the position while playing (with the speed) and holds it once paused", async () => {
    const { phone, tv } = await twoDevices();
    phone.send({ type: "change_speed", speed: 2 });
    await Promise.all([nextChange(phone), nextChange(tv)]);
    phone.send({ type: "play" });
    const started = await nextChange(tv);
    await nextChange(phone);
    await new Promise((r) => setTimeout(r, 150));
    const later = await sync(tv);
    const elapsedS = (later.state.server_time - started.state.server_time) / 1000;
    expect(elapsedS).toBeGreaterThan(0.1);
    expect(later.state.position).toBeCloseTo(started.state.position + elapsedS * 2, 2);
    expect(later.state.version).toBe(started.version);

    phone.send({ type: "pause" });
    const paused = await nextChange(tv);
    await nextChange(phone);
    expect(paused.state.position).toBeGreaterThanOrEqual(later.state.position);
    await new Promise((r) => setTimeout(r, 60));
    const held = await sync(phone);
    expect(held.state).toMatchObject({ status: "paused", position: paused.state.position, version: paused.version });
    await Promise.all([phone.close(), tv.close()]);
  });

  it("change_quality: session scope reaches both; device scope changes only the sender", async () => {
    const { videoId, phone, tv } = await twoDevices();
    phone.send({ type: "change_quality", quality: "480P" });
    const { sw, st: a } = await switchAndChange(phone);
    expect(sw).toMatchObject({
      quality: "480p",
      playlist_url: `/api/videos/${videoId}/hls/480p/index.m3u8`,
      hls_url: `/api/videos/${videoId}/hls/master.m3u8`,
      mp4_url: `/api/videos/${videoId}/stream/480p/`,
      audio: { id: "a0_en", language: "en" },
      subtitles: null,
    });
    const b = await nextChange(tv);
    expect(a.state.quality).toBe("480p");
    expect(b).toMatchObject({ by: "phone", state: { quality: "480p" } });
    // The same quality again changes nothing: answered to the sender, no new version.
    phone.send({ type: "change_quality", quality: "480p", scope: "session" });
    expect(await nextSwitch(phone)).toMatchObject({ quality: "480p" });
    expect((await drain(tv)).filter(isState)).toEqual([]);

    // Device scope: the TV plays 240p, the session (and the phone) stays at 480p.
    tv.send({ type: "change_quality", quality: "240p", scope: "device" });
    const tvSwitch = await nextSwitch(tv);
    expect(tvSwitch).toMatchObject({ quality: "240p", playlist_url: `/api/videos/${videoId}/hls/240p/index.m3u8` });
    expect((await sync(tv)).state.quality).toBe("240p");
    expect((await sync(phone)).state.quality).toBe("480p");
    expect((await drain(phone)).filter((f) => f.type === "switch" || isChange(f))).toEqual([]);
    // Later changes keep each device's view: the TV's frames say 240p, the phone's 480p.
    phone.send({ type: "play" });
    const [pa, tb] = await Promise.all([nextChange(phone), nextChange(tv)]);
    expect(pa.state.quality).toBe("480p");
    expect(tb.state.quality).toBe("240p");
    expect(pa.version).toBe(tb.version);

    // A device that follows `auto` on its own while the session has a rung.
    phone.send({ type: "change_quality", quality: "auto", scope: "device" });
    expect(await nextSwitch(phone)).toMatchObject({ quality: "auto", playlist_url: null, mp4_url: null });
    expect((await sync(phone)).state.quality).toBe("480p"); // `auto` on the device = follow the session

    // A session change while the TV overrides: the TV keeps its rung, the session changes.
    phone.send({ type: "change_quality", quality: "auto" });
    const { st: p2 } = await switchAndChange(phone);
    const t2 = await nextChange(tv);
    expect(p2.state.quality).toBe("auto");
    expect(t2.state.quality).toBe("240p");
    // Only the senders got switch frames.
    expect((await drain(tv)).filter((f) => f.type === "switch")).toEqual([]);
    await Promise.all([phone.close(), tv.close()]);
  });

  it("change_lang: audio by any language form, track id or name; subtitles by any form, off and null", async () => {
    const { videoId, phone, tv } = await twoDevices();
    const lang = async (msg: Record<string, unknown>): Promise<{ sw: SwitchFrame; st: StateFrame }> => {
      phone.send({ type: "change_lang", ...msg });
      const { sw, st: mine } = await switchAndChange(phone);
      const other = await nextChange(tv);
      expect(other.by).toBe("phone");
      expect(other.version).toBe(mine.version);
      expect(other.state.audio_lang).toBe(mine.state.audio_lang);
      expect(other.state.subtitle_lang).toBe(mine.state.subtitle_lang);
      return { sw, st: other };
    };
    const audioUrl = (dir: string) => `/api/videos/${videoId}/hls/audio/${dir}/index.m3u8`;

    let r = await lang({ audio: "fra" });
    expect(r.st.state.audio_lang).toBe("fr");
    expect(r.sw.audio).toEqual({ id: "a2_fr", language: "fr", name: "français", url: audioUrl("a2_fr") });
    r = await lang({ audio: "a1_en" });
    expect(r.st.state.audio_lang).toBe("en");
    // The other device learns which of the two English tracks, not just "en".
    expect(r.st.state.audio_track).toBe("a1_en");
    expect(r.sw.audio).toMatchObject({ id: "a1_en", name: "English commentary", url: audioUrl("a1_en") });
    r = await lang({ audio: "fre" });
    expect(r.st.state.audio_lang).toBe("fr");
    expect(r.sw.audio?.id).toBe("a2_fr");
    r = await lang({ audio: "english commentary" });
    expect(r.sw.audio?.id).toBe("a1_en");
    // A later quality change keeps the commentary track (it used to fall back to the default English).
    phone.send({ type: "change_quality", quality: "240p" });
    expect((await switchAndChange(phone)).sw.audio?.id).toBe("a1_en");
    await nextChange(tv);
    r = await lang({ audio: "fr" });
    expect(r.sw.audio?.id).toBe("a2_fr");
    // A language shared by two tracks picks the default one.
    r = await lang({ audio: "eng" });
    expect(r.st.state.audio_lang).toBe("en");
    expect(r.sw.audio?.id).toBe("a0_en");

    r = await lang({ subtitles: "de" });
    expect(r.st.state).toMatchObject({ subtitle_lang: "de", audio_lang: "en" });
    expect(r.sw.subtitles).toMatchObject({ lang: "de", name: "Deutsch" });
    r = await lang({ subtitles: "off" });
    expect(r.st.state.subtitle_lang).toBeNull();
    expect(r.sw.subtitles).toBeNull();
    r = await lang({ subtitles: "deu" });
    expect(r.st.state.subtitle_lang).toBe("de");
    r = await lang({ subtitles: null });
    expect(r.st.state.subtitle_lang).toBeNull();
    r = await lang({ subtitles: "ger" });
    expect(r.st.state.subtitle_lang).toBe("de");
    // Both at once, the state keeps everything else.
    r = await lang({ audio: "fr", subtitles: "en" });
    expect(r.st.state).toMatchObject({ audio_lang: "fr", subtitle_lang: "en", quality: "240p", status: "idle" });
    expect(r.sw.subtitles).toEqual({ lang: "en", name: "English", url: `/api/videos/${videoId}/hls/subs/s0_en/subs.vtt` });
    expect((await drain(tv)).filter((f) => f.type === "switch")).toEqual([]);
    await Promise.all([phone.close(), tv.close()]);
  });

  it("buffering/ready in a personal session change only presence; sync and ping answer the sender alone", async () => {
    const { phone, tv } = await twoDevices();
    phone.send({ type: "play" });
    const playing = await nextChange(tv);
    await nextChange(phone);

    tv.send({ type: "buffering" });
    const ans = (await tv.nextOf(isState)) as unknown as StateFrame;
    // A personal session does not wait for its devices: nothing changes, no version.
    expect(ans).toMatchObject({ by: null, version: playing.version, state: { status: "playing" } });
    const buffering = (await phone.nextOf((f) => f.type === "presence" && (f as unknown as PresenceFrame).members.some((m) => m.device === "tv" && m.buffering))) as unknown as PresenceFrame;
    expect(buffering).toMatchObject({ count: 2, room: null });
    tv.send({ type: "ready" });
    expect(await tv.nextOf(isState)).toMatchObject({ by: null, version: playing.version });
    await phone.nextOf((f) => f.type === "presence" && (f as unknown as PresenceFrame).members.every((m) => !m.buffering));
    expect((await drain(phone)).filter(isState)).toEqual([]);

    const s = await sync(phone);
    expect(s).toMatchObject({ type: "state", by: null, version: playing.version, state: { status: "playing", version: playing.version } });
    expect((await drain(tv)).filter(isState)).toEqual([]);

    const t0 = Date.now();
    phone.send({ type: "ping", client_time: 12345.5 });
    const pong = await phone.nextOf((f) => f.type === "pong");
    expect(pong).toEqual({ type: "pong", server_time: expect.any(Number), client_time: 12345.5 });
    expect(pong.server_time as number).toBeGreaterThanOrEqual(t0 - 5);
    expect(pong.server_time as number).toBeLessThanOrEqual(Date.now() + 5);
    phone.send({ type: "ping" });
    expect(await phone.nextOf((f) => f.type === "pong")).toEqual({ type: "pong", server_time: expect.any(Number) });
    expect((await drain(tv)).filter((f) => f.type === "pong" || isState(f))).toEqual([]);
    await Promise.all([phone.close(), tv.close()]);
  });

  it("presence lists the session's devices as they come and go", async () => {
    const user = await createUser(h);
    const videoId = await insertPlaybackVideo(h, user.user.id);
    const { c: phone, hello } = await device(h, videoId, { token: user.access, device: "phone" });
    expect(hello.members!.map((m) => m.device)).toEqual(["phone"]);
    const devicesOf = (f: Frame) => (f as unknown as PresenceFrame).members.map((m) => m.device).sort().join(",");
    const { c: tv } = await device(h, videoId, { token: user.access, device: "tv" });
    const p = (await phone.nextOf((f) => f.type === "presence" && devicesOf(f) === "phone,tv")) as unknown as PresenceFrame;
    expect(p).toMatchObject({ count: 2, room: null });
    expect(p.members.find((m) => m.device === "tv")).toEqual({ device: "tv", user: { id: user.user.id, username: user.user.username }, transport: "ws", buffering: false, can_control: true });
    await tv.nextOf((f) => f.type === "presence" && devicesOf(f) === "phone,tv");
    await tv.close();
    expect(await phone.nextOf((f) => f.type === "presence" && devicesOf(f) === "phone")).toMatchObject({ count: 1 });
    await phone.close();
  });

  it("forwards the video's live comment and reactions events", async () => {
    const { user, videoId, phone, tv } = await twoDevices();
    const viewer = await createUser(h);
    const anon = await device(h, videoId, { device: "anon-watcher" });
    const posted = await h.app.inject({ method: "POST", url: `/api/videos/${videoId}/comment/`, headers: authHeader(viewer.access), payload: { text: "Nice drop at 1:23" } });
    expect(posted.statusCode).toBe(201);
    for (const c of [phone, tv, anon.c]) {
      const e = await c.nextOf((f) => f.type === "comment");
      expect(e).toMatchObject({ type: "comment", action: "created", comment: { text: "Nice drop at 1:23" } });
    }
    const liked = await h.app.inject({ method: "POST", url: `/api/videos/${videoId}/like/`, headers: authHeader(user.access) });
    expect(liked.statusCode).toBe(200);
    for (const c of [phone, tv, anon.c]) expect(await c.nextOf((f) => f.type === "reactions")).toMatchObject({ type: "reactions", likes: 1, dislikes: 0 });
    await Promise.all([phone.close(), tv.close(), anon.c.close()]);
  });
});

describe("reconnect + sync", () => {
  it("a device that reconnects with its id gets the current state, in the greeting and on sync", async () => {
    const { user, videoId, phone, tv } = await twoDevices();
    phone.send({ type: "play" });
    await Promise.all([nextChange(phone), nextChange(tv)]);
    await phone.close();
    await tv.nextOf((f) => f.type === "presence" && (f as unknown as PresenceFrame).count === 1);

    tv.send({ type: "seek", position: 30 });
    await nextChange(tv);
    tv.send({ type: "change_lang", audio: "fr", subtitles: "de" });
    await nextChange(tv);
    tv.send({ type: "change_speed", speed: 1.25 });
    await nextChange(tv);
    tv.send({ type: "pause" });
    const last = await nextChange(tv);

    const back = await device(h, videoId, { token: user.access, device: "phone" });
    expect(back.hello).toMatchObject({
      by: null,
      session: { kind: "personal", device: "phone" },
      state: { status: "paused", speed: 1.25, audio_lang: "fr", subtitle_lang: "de", version: last.version, position: last.state.position },
    });
    expect(back.hello.state.position).toBeGreaterThanOrEqual(30);
    expect(back.hello.members!.map((m) => m.device).sort()).toEqual(["phone", "tv"]);
    const s = await sync(back.c);
    expect(s.state).toEqual({ ...last.state, server_time: s.state.server_time });
    expect(s.version).toBe(last.version);
    // The greeting covered every version: no older state frame follows it.
    expect((await drain(back.c)).filter(isChange)).toEqual([]);
    // And the reconnected device is in sync again.
    tv.send({ type: "play" });
    expect(await nextChange(back.c)).toMatchObject({ by: "tv", version: last.version! + 1, state: { status: "playing" } });
    await Promise.all([back.c.close(), tv.close()]);
  });
});

describe("bad frames", () => {
  let user: TestUser;
  let videoId: string;
  beforeAll(async () => {
    user = await createUser(h);
    videoId = await insertPlaybackVideo(h, user.user.id);
  });

  /** Sends `frame` and expects an error frame with `code`; then the connection still works. */
  const refused = async (c: WsClient, frame: unknown, code: string): Promise<ErrorFrame> => {
    c.send(frame);
    const e = await nextError(c);
    expect(e.error.code).toBe(code);
    expect(typeof e.error.message).toBe("string");
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    return e;
  };

  it("answers every refused frame with an error and keeps the connection (and the state) as it was", async () => {
    const { c, hello } = await device(h, videoId, { token: user.access, device: "bad-frames" });
    c.send({ type: "seek", position: 7 });
    const before = await nextChange(c);

    // Not JSON: nothing to point at. JSON without a string `type`: the entry names `type`.
    for (const raw of ["{nope", ""]) {
      const e = await refused(c, raw, "bad_message");
      expect(e.error.details).toBeNull();
    }
    for (const raw of ["42", "[1,2]", "null", '"play"', '{"type":5}', '{"no_type":true}']) {
      const e = await refused(c, raw, "bad_message");
      expect(e.error.details).toEqual([{ location: "message", field: "type", code: "bad_message", message: "must be a string" }]);
    }
    const unknown = await refused(c, { type: "rewind" }, "unknown_message");
    expect(unknown.error.details).toEqual([{ location: "message", field: "type", code: "unknown_message", message: expect.stringContaining("change_quality") }]);
    await refused(c, { type: "PLAY" }, "unknown_message");

    const oor = await refused(c, { type: "seek", position: -1 }, "position_out_of_range");
    expect(oor.error.details).toEqual([{ location: "message", field: "position", code: "position_out_of_range", message: `0 to ${PLAYBACK_DURATION_S}` }]);
    await refused(c, { type: "seek", position: PLAYBACK_DURATION_S + 0.5 }, "position_out_of_range");
    await refused(c, { type: "seek", position: 1000 }, "position_out_of_range");
    const speed = await refused(c, { type: "change_speed", speed: 0 }, "speed_out_of_range");
    expect(speed.error.details).toEqual([{ location: "message", field: "speed", code: "speed_out_of_range", message: "0.25 to 4" }]);
    await refused(c, { type: "change_speed", speed: 10 }, "speed_out_of_range");
    await refused(c, { type: "change_speed", speed: -1 }, "speed_out_of_range");

    const invalid: [Record<string, unknown>, string][] = [
      [{ type: "seek" }, "position"],
      [{ type: "seek", position: "10" }, "position"],
      [{ type: "seek", position: null }, "position"],
      [{ type: "change_speed" }, "speed"],
      [{ type: "change_speed", speed: "fast" }, "speed"],
      [{ type: "change_quality" }, "quality"],
      [{ type: "change_quality", quality: 240 }, "quality"],
      [{ type: "change_quality", quality: "240p", scope: "everyone" }, "scope"],
      [{ type: "change_lang", audio: 5 }, "audio"],
      [{ type: "change_lang", subtitles: false }, "subtitles"],
      [{ type: "change_lang", audio: "x".repeat(65) }, "audio"],
      [{ type: "play", position: 3 }, "position"],
    ];
    for (const [frame, field] of invalid) {
      const e = await refused(c, frame, "validation_error");
      const details = e.error.details as { location: string; field: string; code: string; message: string }[];
      expect(Array.isArray(details) && details.length).toBeGreaterThan(0);
      for (const d of details) expect(d).toEqual({ location: "message", field: expect.any(String), code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
      expect(details.map((d) => d.field)).toContain(field);
    }

    const q = await refused(c, { type: "change_quality", quality: "1080p" }, "quality_unavailable");
    expect(q.error.details).toEqual([{ location: "message", field: "quality", code: "quality_unavailable", message: "one of auto, 480p, 240p" }]);
    await refused(c, { type: "change_quality", quality: "1080p", scope: "device" }, "quality_unavailable");
    const a = await refused(c, { type: "change_lang", audio: "de" }, "language_unavailable");
    expect(a.error.details).toEqual([{ location: "message", field: "audio", code: "language_unavailable", message: expect.stringContaining("fr") }]);
    await refused(c, { type: "change_lang", audio: "klingon commentary" }, "language_unavailable");
    const s = await refused(c, { type: "change_lang", subtitles: "fra" }, "language_unavailable");
    expect(s.error.details).toEqual([{ location: "message", field: "subtitles", code: "language_unavailable", message: "one of off, en, de" }]);
    // A refused half refuses the whole message: the valid audio was not applied either.
    await refused(c, { type: "change_lang", audio: "fr", subtitles: "it" }, "language_unavailable");

    // Nothing refused changed the session.
    const after = await sync(c);
    expect(after.version).toBe(before.version);
    expect(after.state).toMatchObject({ position: 7, speed: 1, quality: "auto", audio_lang: "en", subtitle_lang: null });
    expect(after.version).toBeGreaterThan(hello.state.version);
    // And control still works.
    c.send({ type: "play" });
    expect(await nextChange(c)).toMatchObject({ by: "bad-frames", state: { status: "playing" } });
    await c.close();
  });

  it("accepts a large text frame under the size limit (answered, not closed)", async () => {
    const { c } = await device(h, videoId, { token: user.access });
    const big = JSON.stringify({ type: "sync", pad: "x".repeat(60 * 1024) });
    expect(Buffer.byteLength(big)).toBeLessThan(64 * 1024);
    const e = await refused(c, big, "validation_error");
    expect(e.error.details).toEqual([expect.objectContaining({ field: "pad" })]);
    expect((await sync(c)).type).toBe("state");
    await c.close();
  });

  it("closes with 1009 on a frame over 64 KiB", async () => {
    const { c } = await device(h, videoId, { token: user.access });
    c.send(JSON.stringify({ type: "sync", pad: "x".repeat(64 * 1024) }));
    expect((await c.closed).code).toBe(1009);
  });

  it("closes with 1003 on a binary frame", async () => {
    const { c } = await device(h, videoId, { token: user.access });
    c.ws.send(Buffer.from(JSON.stringify({ type: "sync" })), { binary: true });
    expect((await c.closed).code).toBe(1003);
  });

  it("a closed device leaves the others of its session working", async () => {
    const { c: a } = await device(h, videoId, { token: user.access, device: "survivor" });
    const { c: b } = await device(h, videoId, { token: user.access, device: "binary-sender" });
    b.ws.send(Buffer.alloc(4), { binary: true });
    expect((await b.closed).code).toBe(1003);
    a.send({ type: "pause" });
    expect(await nextChange(a)).toMatchObject({ by: "survivor" });
    await a.close();
  });
});

describe("control rate limit", () => {
  let rl: Harness;
  beforeAll(async () => {
    rl = await createHarness({ ...scaleEnv(), RATE_LIMIT: "true", PLAYBACK_CONTROL_RATE: "1", PLAYBACK_CONTROL_BURST: "3" });
    await rl.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    const prefix = rl.config.redisPrefix;
    await rl.close();
    await dropRedisKeys(prefix);
  });

  it("answers rate_limited past the burst (open, per device), then closes with 1008 if it goes on", async () => {
    const user = await createUser(rl);
    const videoId = await insertPlaybackVideo(rl, user.user.id);
    const { c } = await device(rl, videoId, { token: user.access, device: "flooder" });
    const { c: other } = await device(rl, videoId, { token: user.access, device: "calm" });
    // One burst, so no token refills in between however slow the machine: 3 pass, the 4th not.
    for (let i = 0; i < 3; i++) c.send({ type: "sync" });
    c.send({ type: "seek", position: 5 });
    const answer = () => c.nextOf((f) => f.type !== "presence");
    for (let i = 0; i < 3; i++) expect(await answer()).toMatchObject({ type: "state", by: null });
    const e = (await answer()) as unknown as ErrorFrame;
    expect(e.type).toBe("error");
    expect(e.error).toMatchObject({ code: "rate_limited", details: { retry_after_s: expect.any(Number) } });
    expect((e.error.details as { retry_after_s: number }).retry_after_s).toBeGreaterThan(0);
    expect((e.error.details as { retry_after_s: number }).retry_after_s).toBeLessThanOrEqual(1);
    // Still open: pings are not control, and the other device has a bucket of its own.
    await drain(c);
    other.send({ type: "seek", position: 5 });
    expect(await nextChange(other)).toMatchObject({ by: "calm", state: { position: 5 } });
    await nextChange(c);

    // Going on: after ten refusals in a row, 1008.
    for (let i = 0; i < 12; i++) c.send({ type: "sync" });
    const closed = await c.closed;
    expect(closed).toEqual({ code: 1008, reason: "rate_limited" });
    const refusals = c.frames.filter((f) => f.type === "error" && (f as unknown as ErrorFrame).error.code === "rate_limited");
    expect(refusals.length).toBeGreaterThanOrEqual(10);
    // The other device is unaffected.
    expect((await sync(other)).state.position).toBe(5);
    await other.close();
  });
});
