/**
 * The HTTP-only fallback of live playback: `GET …/state/` (with long polling), `POST …/control/`
 * and the `…/events/` SSE stream, interoperating with WebSocket devices of the same session, and
 * the routes' OpenAPI entries. Real HTTP (fetch, the SSE client) wherever a request outlives a
 * change made meanwhile; `app.inject` for one-shot requests.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { SseClient, type SseMessage } from "../../test/sse-client.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs, type Frame, type WsClient } from "../../test/ws-client.js";
import { insertPlaybackVideo, PLAYBACK_DURATION_S, streamQuery, streamWsUrl } from "./playback.fixtures.js";

interface StateView {
  status: string;
  playing: boolean;
  position: number;
  speed: number;
  quality: string;
  audio_lang: string | null;
  subtitle_lang: string | null;
  version: number;
  updated_at: string;
  server_time: number;
  waiting_for: string[];
}
interface MemberView {
  device: string;
  user: { id: string; username: string } | null;
  transport: "ws" | "http";
  buffering: boolean;
  can_control: boolean;
}
interface StateBody {
  type: "state";
  state: StateView;
  session: { kind: string; room: string | null; device: string; can_control: boolean };
  members: MemberView[];
  by: string | null;
}
interface ControlBody {
  type: "state";
  state: StateView;
  by: string | null;
  version: number;
  switch?: Record<string, unknown> & { quality: string; playlist_url: string | null; audio: { id: string; language: string } | null; subtitles: { lang: string } | null };
}
interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

const LONG_POLL_MS = 300;
let h: Harness;
let base: string;
let owner: TestUser;
let alice: TestUser;
let publicId: string;
let privateId: string;

beforeAll(async () => {
  h = await createHarness({ PLAYBACK_LONG_POLL_MS: String(LONG_POLL_MS) });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  owner = await createUser(h, { role: "uploader" });
  alice = await createUser(h);
  publicId = await insertPlaybackVideo(h, owner.user.id, "public");
  privateId = await insertPlaybackVideo(h, owner.user.id, "private");
});
afterAll(async () => {
  // fetch (undici) re-dials right after an aborted SSE stream's socket closes and sends nothing
  // on the new connection; Node's server.close() counts such a socket as busy and would wait out
  // headersTimeout (60 s) for it. Every client of this file is closed by now.
  h?.app.server.closeAllConnections();
  await h?.close();
});

type Query = Record<string, string | number | undefined>;
const stateUrl = (videoId: string, q: Query = {}) => `/api/stream/${videoId}/state/${streamQuery(q)}`;
const controlUrl = (videoId: string, q: Query = {}) => `/api/stream/${videoId}/control/${streamQuery(q)}`;
const getState = (videoId: string, q: Query = {}, headers: Record<string, string> = {}) => h.app.inject({ method: "GET", url: stateUrl(videoId, q), headers });
const control = (videoId: string, q: Query, body: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: "POST", url: controlUrl(videoId, q), headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(body) });

const isState = (f: Frame) => f.type === "state";
async function wsState(c: WsClient, match: (f: { by: string | null; state: StateView }) => boolean = () => true): Promise<{ by: string | null; state: StateView; version: number }> {
  return (await c.nextOf((f) => isState(f) && match(f as unknown as { by: string | null; state: StateView }))) as unknown as { by: string | null; state: StateView; version: number };
}
/** The next SSE message of `event` (others skipped), its data parsed. */
async function sseNext<T>(sse: SseClient, event: string, match: (data: T) => boolean = () => true): Promise<T> {
  for (;;) {
    const m: SseMessage = await sse.next();
    if (m.event !== event) continue;
    const data = JSON.parse(m.data) as T;
    if (match(data)) return data;
  }
}

describe("GET /api/stream/{id}/state/", () => {
  it("answers the session's state, its device and members; signed-in devices share the user's session", async () => {
    const anon = await getState(publicId);
    expect(anon.statusCode).toBe(200);
    const a = anon.json<StateBody>();
    expect(a).toMatchObject({ type: "state", by: null, session: { kind: "personal", room: null, can_control: true }, state: { status: "idle", playing: false, position: 0, speed: 1, quality: "auto", audio_lang: "en", subtitle_lang: null, waiting_for: [] } });
    expect(a.session.device).toMatch(/.+/);
    // An anonymous viewer's device is its own session: another device does not see its changes.
    expect((await control(publicId, { device: "anon-1" }, { type: "seek", position: 5 })).statusCode).toBe(200);
    expect((await getState(publicId, { device: "anon-1" })).json<StateBody>().state.position).toBe(5);
    expect((await getState(publicId, { device: "anon-2" })).json<StateBody>().state.position).toBe(0);

    // The token in the query and the Bearer header name the same user: one session for both.
    const viaQuery = await control(publicId, { token: alice.access, device: "phone" }, { type: "seek", position: 7 });
    expect(viaQuery.statusCode, viaQuery.body).toBe(200);
    const viaHeader = (await getState(publicId, { device: "tablet" }, authHeader(alice.access))).json<StateBody>();
    expect(viaHeader).toMatchObject({ session: { kind: "personal", device: "tablet" }, state: { position: 7, status: "paused" } });
    expect(viaHeader.members).toContainEqual({ device: "tablet", user: { id: alice.user.id, username: alice.user.username }, transport: "http", buffering: false, can_control: true });
  });

  it("refuses as the WebSocket does, with the matching HTTP statuses", async () => {
    const cases: [string, Query, Record<string, string>, number, string][] = [
      ["unknown video", {}, {}, 404, "video_not_found"],
      ["private, anonymous", {}, {}, 401, "not_authenticated"],
      ["private, another user", { token: alice.access }, {}, 404, "video_not_found"],
      ["private, another user (header)", {}, authHeader(alice.access), 404, "video_not_found"],
      ["bad access token", { token: "not-a-token" }, {}, 401, "token_invalid"],
      ["no such room", { room: "ZZZZZZZZ" }, {}, 404, "room_not_found"],
      ["device id with spaces", { device: "my phone" }, {}, 400, "validation_error"],
      ["since below 0", { since: -1 }, {}, 400, "validation_error"],
    ];
    for (const [what, q, headers, status, code] of cases) {
      const id = what === "unknown video" ? crypto.randomUUID() : what.startsWith("private") ? privateId : publicId;
      const res = await getState(id, q, headers);
      expect([what, res.statusCode, res.json<ErrorBody>().error.code]).toEqual([what, status, code]);
    }
    const notUuid = await getState("not-a-uuid");
    expect(notUuid.statusCode).toBe(400);

    // Private: its owner, and anyone holding its playback token, but not the token of another video.
    expect((await getState(privateId, { token: owner.access })).statusCode).toBe(200);
    const ptoken = await h.domains.streaming.playback.issue(privateId);
    expect((await getState(privateId, { token: ptoken })).statusCode).toBe(200);
    const wrong = await getState(privateId, { token: await h.domains.streaming.playback.issue(publicId) });
    expect([wrong.statusCode, wrong.json<ErrorBody>().error.code]).toEqual([403, "playback_token_wrong_video"]);
    // The same refusals apply to control and to the SSE stream.
    expect((await control(privateId, {}, { type: "play" })).statusCode).toBe(401);
    expect((await control(privateId, { token: alice.access }, { type: "play" })).statusCode).toBe(404);
    const sse = await SseClient.connect(`${base}/api/stream/${privateId}/events/`);
    expect(sse.status).toBe(401);
    sse.close();
  });

  it("long polling: answers when the version passes `since` (a WebSocket device changed it meanwhile)", async () => {
    const user = await createUser(h);
    const tv = openWs(streamWsUrl(h, publicId, { token: user.access, device: "tv" }));
    const hello = await wsState(tv);
    const since = hello.state.version;
    // Already past: at once.
    const early = await getState(publicId, { token: user.access, device: "remote", since: since - 1 });
    expect(early.json<StateBody>().state.version).toBe(since);

    const started = Date.now();
    const poll = fetch(`${base}${stateUrl(publicId, { token: user.access, device: "remote", since })}`);
    // The poll is held: the remote is announced as present while it waits.
    await tv.nextOf((f) => f.type === "presence" && (f.members as MemberView[]).some((m) => m.device === "remote" && m.transport === "http"));
    tv.send({ type: "play" });
    const res = await poll;
    expect(res.status).toBe(200);
    const body = (await res.json()) as StateBody;
    expect(body.state).toMatchObject({ status: "playing", playing: true, version: since + 1 });
    expect(Date.now() - started).toBeLessThan(LONG_POLL_MS + 250);
    await tv.close();
  });

  it("long polling: answers after PLAYBACK_LONG_POLL_MS with the unchanged state", async () => {
    const user = await createUser(h);
    const first = (await getState(publicId, { token: user.access, device: "remote" })).json<StateBody>();
    const started = Date.now();
    const res = await fetch(`${base}${stateUrl(publicId, { token: user.access, device: "remote", since: first.state.version })}`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(((await res.json()) as StateBody).state).toMatchObject({ version: first.state.version, status: "idle" });
    expect(elapsed).toBeGreaterThanOrEqual(LONG_POLL_MS - 20);
    expect(elapsed).toBeLessThan(LONG_POLL_MS + 1000);
  });
});

describe("POST /api/stream/{id}/control/", () => {
  it("applies every message type and answers the new state (and where to switch for quality and language)", async () => {
    const user = await createUser(h);
    const q = { token: user.access, device: "remote" };
    const send = async (body: unknown) => {
      const res = await control(publicId, q, body);
      expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(200);
      return res.json<ControlBody>();
    };
    const played = await send({ type: "play" });
    expect(played).toMatchObject({ type: "state", by: "remote", state: { status: "playing", playing: true } });
    expect(played.version).toBe(played.state.version);
    const paused = await send({ type: "pause" });
    expect(paused).toMatchObject({ by: "remote", version: played.version + 1, state: { status: "paused", playing: false } });
    expect((await send({ type: "seek", position: 61.5 })).state).toMatchObject({ position: 61.5, status: "paused" });
    expect((await send({ type: "change_speed", speed: 0.25 })).state.speed).toBe(0.25);

    const quality = await send({ type: "change_quality", quality: "480P" });
    expect(quality.state.quality).toBe("480p");
    expect(quality.switch).toMatchObject({ quality: "480p", playlist_url: `/api/videos/${publicId}/hls/480p/index.m3u8`, mp4_url: `/api/videos/${publicId}/stream/480p/`, hls_url: expect.stringContaining("master.m3u8") });
    // Only this device: the session keeps 480p, this device's state and switch say 240p.
    const mine = await send({ type: "change_quality", quality: "240p", scope: "device" });
    expect(mine).toMatchObject({ by: null, state: { quality: "240p" }, switch: { quality: "240p" } });
    expect((await getState(publicId, q)).json<StateBody>().state.quality).toBe("240p");
    expect((await getState(publicId, { ...q, device: "tv" })).json<StateBody>().state.quality).toBe("480p");
    expect((await send({ type: "change_quality", quality: "auto", scope: "device" })).switch).toMatchObject({ quality: "auto", playlist_url: null, mp4_url: null });

    const lang = await send({ type: "change_lang", audio: "English commentary", subtitles: "ger" });
    expect(lang.state).toMatchObject({ audio_lang: "en", subtitle_lang: "de" });
    expect(lang.switch).toMatchObject({ audio: { id: "a1_en", language: "en", name: "English commentary" }, subtitles: { lang: "de" } });
    const off = await send({ type: "change_lang", audio: "fre", subtitles: null });
    expect(off.state).toMatchObject({ audio_lang: "fr", subtitle_lang: null });
    expect(off.switch).toMatchObject({ audio: { id: "a2_fr" }, subtitles: null });

    // Readiness and sync change nothing in a personal session: the state, by nobody, same version.
    const v = off.version;
    for (const type of ["buffering", "ready", "sync"]) {
      expect(await send({ type })).toMatchObject({ by: null, version: v, state: { version: v, status: "paused", position: 61.5 } });
    }
    const final = (await getState(publicId, q)).json<StateBody>().state;
    expect(final).toMatchObject({ status: "paused", position: 61.5, speed: 0.25, quality: "480p", audio_lang: "fr", subtitle_lang: null, version: v });
  });

  it("validates like the WebSocket: the same error codes, as 400s", async () => {
    const fresh = await createUser(h);
    const q = { token: fresh.access, device: "remote" };
    const cases: [unknown, string, string?][] = [
      [{ type: "dance" }, "unknown_message", "type"],
      [{ type: "ping" }, "unknown_message", "type"],
      [{ type: "seek" }, "validation_error", "position"],
      [{ type: "seek", position: "10" }, "validation_error", "position"],
      [{ type: "play", now: true }, "validation_error"],
      [{ type: "change_quality", quality: "480p", scope: "everyone" }, "validation_error", "scope"],
      [{ type: "seek", position: PLAYBACK_DURATION_S + 1 }, "position_out_of_range"],
      [{ type: "seek", position: -1 }, "position_out_of_range"],
      [{ type: "change_speed", speed: 0 }, "speed_out_of_range"],
      [{ type: "change_speed", speed: 10 }, "speed_out_of_range"],
      [{ type: "change_quality", quality: "1080p" }, "quality_unavailable", "quality"],
      [{ type: "change_lang", audio: "ja" }, "language_unavailable", "audio"],
      [{ type: "change_lang", subtitles: "fr" }, "language_unavailable", "subtitles"],
      [[{ type: "play" }], "bad_message"],
      ["play", "bad_message"],
      [{ position: 3 }, "bad_message"],
    ];
    for (const [body, code, field] of cases) {
      const res = await control(publicId, q, body);
      const err = res.json<ErrorBody>().error;
      expect([JSON.stringify(body), res.statusCode, err.code]).toEqual([JSON.stringify(body), 400, code]);
      if (field) expect(err.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    const notJson = await h.app.inject({ method: "POST", url: controlUrl(publicId, q), headers: { "content-type": "application/json" }, payload: "{play" });
    expect(notJson.statusCode).toBe(400);
    // Nothing of it reached the session.
    expect((await getState(publicId, q)).json<StateBody>().state).toMatchObject({ status: "idle", version: 1 });
    expect((await control(publicId, { ...q, device: "a b" }, { type: "play" })).statusCode).toBe(400);
  });

  it("in an owner-only room, the others' control is 403 control_forbidden; their own readiness is not", async () => {
    const room = await h.app.inject({ method: "POST", url: `/api/stream/${publicId}/rooms/`, headers: authHeader(owner.access), payload: { control: "owner" } });
    const code = room.json<{ code: string }>().code;
    const guest = { room: code, device: "guest" };
    for (const body of [{ type: "play" }, { type: "seek", position: 3 }, { type: "change_lang", audio: "fr" }, { type: "change_quality", quality: "240p" }]) {
      const res = await control(publicId, guest, body);
      expect([res.statusCode, res.json<ErrorBody>().error.code]).toEqual([403, "control_forbidden"]);
    }
    for (const body of [{ type: "buffering" }, { type: "ready" }, { type: "sync" }, { type: "change_quality", quality: "240p", scope: "device" }]) {
      expect((await control(publicId, guest, body)).statusCode).toBe(200);
    }
    const state = (await getState(publicId, guest)).json<StateBody>();
    expect(state).toMatchObject({ session: { kind: "room", room: code, device: "guest", can_control: false }, state: { status: "idle", quality: "240p" } });
    const played = await control(publicId, { room: code, token: owner.access, device: "host" }, { type: "play" });
    expect(played.json<ControlBody>()).toMatchObject({ by: "host", state: { status: "playing" } });
  });

  it("a device over its control rate gets 429 rate_limited (RATE_LIMIT on)", async () => {
    const limited = await createHarness({ RATE_LIMIT: "true", PLAYBACK_CONTROL_RATE: "1", PLAYBACK_CONTROL_BURST: "3" });
    try {
      const u = await createUser(limited);
      const v = await insertPlaybackVideo(limited, u.user.id);
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.app.inject({ method: "POST", url: controlUrl(v, { token: u.access, device: "d" }), payload: { type: "sync" } });
        codes.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json<ErrorBody>().error.code).toBe("rate_limited");
          expect(res.headers["retry-after"]).toBeDefined();
        }
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      // The bucket is per device: another device of the same user is not held back.
      expect((await limited.app.inject({ method: "POST", url: controlUrl(v, { token: u.access, device: "e" }), payload: { type: "sync" } })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("GET /api/stream/{id}/events/ (SSE) with WebSocket devices", () => {
  it("streams a WebSocket device's changes; the HTTP device's control reaches the WebSocket; presence shows both", async () => {
    const user = await createUser(h);
    const tv = openWs(streamWsUrl(h, publicId, { token: user.access, device: "tv" }));
    await wsState(tv);
    const sse = await SseClient.connect(`${base}/api/stream/${publicId}/events/${streamQuery({ token: user.access, device: "laptop" })}`);
    try {
      expect(sse.status).toBe(200);
      expect(sse.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const hello = await sseNext<StateBody>(sse, "state");
      expect(hello).toMatchObject({ by: null, session: { kind: "personal", device: "laptop", can_control: true }, state: { status: "idle" } });
      expect(hello.members.map((m) => [m.device, m.transport])).toEqual([
        ["laptop", "http"],
        ["tv", "ws"],
      ]);
      // The WebSocket sees the SSE device arrive, as an HTTP member.
      const presence = await tv.nextOf((f) => f.type === "presence" && (f.members as MemberView[]).some((m) => m.device === "laptop"));
      expect(presence).toMatchObject({ count: 2, room: null });
      expect((presence.members as MemberView[]).find((m) => m.device === "laptop")).toEqual({ device: "laptop", user: { id: user.user.id, username: user.user.username }, transport: "http", buffering: false, can_control: true });

      // WebSocket → SSE
      tv.send({ type: "play" });
      const played = await sseNext<{ by: string; state: StateView; version: number }>(sse, "state", (d) => d.by === "tv");
      expect(played.state).toMatchObject({ status: "playing", playing: true });
      tv.send({ type: "change_speed", speed: 2 });
      expect((await sseNext<{ by: string; state: StateView }>(sse, "state", (d) => d.by === "tv")).state.speed).toBe(2);

      // HTTP (the SSE device's own id) → WebSocket, and back on the SSE stream too.
      const res = await fetch(`${base}${controlUrl(publicId, { token: user.access, device: "laptop" })}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "seek", position: 90 }),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as ControlBody;
      const onTv = await wsState(tv, (f) => f.by === "laptop");
      expect(onTv.state.position).toBeGreaterThanOrEqual(90);
      expect(onTv.version).toBe(answer.version);
      const onSse = await sseNext<{ by: string; version: number }>(sse, "state", (d) => d.by === "laptop");
      expect(onSse.version).toBe(answer.version);

      // A device that only polls is present too, as http.
      expect((await getState(publicId, { token: user.access, device: "watch" })).statusCode).toBe(200);
      await tv.nextOf((f) => f.type === "presence" && (f.members as MemberView[]).some((m) => m.device === "watch" && m.transport === "http"));
      await sseNext<{ members: MemberView[] }>(sse, "presence", (d) => d.members.some((x) => x.device === "watch"));
    } finally {
      sse.close();
    }
    // The SSE device leaves the WebSocket's presence when its stream closes.
    await tv.nextOf((f) => f.type === "presence" && !(f.members as MemberView[]).some((m) => m.device === "laptop"));
    await tv.close();
  });

  it("refuses before streaming: bad room, bad device", async () => {
    const bad = await SseClient.connect(`${base}/api/stream/${publicId}/events/?room=ZZZZZZZZ`);
    expect(bad.status).toBe(404);
    expect(((await bad.res.json()) as ErrorBody).error.code).toBe("room_not_found");
    const dev = await SseClient.connect(`${base}/api/stream/${publicId}/events/?device=a%20b`);
    expect(dev.status).toBe(400);
  });
});

describe("OpenAPI", () => {
  interface Operation {
    summary?: string;
    tags?: string[];
    parameters?: { name: string; in: string }[];
    requestBody?: { content: Record<string, { schema: unknown }> };
    responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  }
  let doc: { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };
  beforeAll(async () => {
    const res = await h.app.inject({ url: "/api/schema/" });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  /** The schema with refs inlined (fastify-swagger moves `$id` schemas to components). */
  const resolve = (s: unknown): string => {
    let text = JSON.stringify(s);
    for (let i = 0; i < 5; i++) {
      text = text.replace(/\{"\$ref":"#\/components\/schemas\/([^"]+)"\}/g, (_m, name: string) => JSON.stringify(doc.components?.schemas?.[name] ?? {}));
    }
    return text;
  };

  it.each([
    ["get", "/api/stream/{video_id}/state/"],
    ["post", "/api/stream/{video_id}/control/"],
    ["get", "/api/stream/{video_id}/events/"],
    ["post", "/api/stream/{video_id}/rooms/"],
    ["get", "/api/stream/{video_id}/rooms/{code}/"],
    ["delete", "/api/stream/{video_id}/rooms/{code}/"],
  ])("%s %s is documented under playback", (method, path) => {
    const op = doc.paths[path]?.[method];
    expect(op, `${method} ${path}`).toBeDefined();
    expect(op!.summary).toBeTruthy();
    expect(op!.tags).toContain("playback");
    expect(op!.parameters?.some((p) => p.in === "path" && p.name === "video_id")).toBe(true);
    expect(Object.keys(op!.responses).some((c) => c.startsWith("4"))).toBe(true);
  });

  it("documents the parameters, the control bodies and the answers' schemas", () => {
    const state = doc.paths["/api/stream/{video_id}/state/"]!.get!;
    expect(state.parameters!.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual(["device", "room", "since", "token"]);
    const stateOk = resolve(state.responses["200"]!.content!["application/json"]!.schema);
    for (const field of ["status", "position", "speed", "quality", "audio_lang", "subtitle_lang", "version", "server_time", "waiting_for", "session", "members", "can_control"]) expect(stateOk).toContain(`"${field}"`);

    const ctl = doc.paths["/api/stream/{video_id}/control/"]!.post!;
    expect(ctl.parameters!.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual(["device", "room", "token"]);
    const body = resolve(ctl.requestBody!.content["application/json"]!.schema);
    for (const type of ["play", "pause", "seek", "change_speed", "change_quality", "change_lang", "buffering", "ready", "sync"]) expect(body).toContain(`"${type}"`);
    expect(body).toContain('"position"');
    expect(body).toContain('"scope"');
    const ctlOk = resolve(ctl.responses["200"]!.content!["application/json"]!.schema);
    for (const field of ["switch", "playlist_url", "mp4_url", "by", "version"]) expect(ctlOk).toContain(`"${field}"`);
    expect(Object.keys(ctl.responses)).toEqual(expect.arrayContaining(["200", "400", "403", "429"]));

    const events = doc.paths["/api/stream/{video_id}/events/"]!.get!;
    expect(events.parameters!.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual(["device", "room", "token"]);
    // The WebSocket is documented as the GET it starts with (the protocol is docs/playback.md).
    const ws = doc.paths["/ws/stream/{video_id}/"]!.get!;
    expect(Object.keys(ws.responses)).toEqual(expect.arrayContaining(["101", "426"]));
    expect(ws.parameters!.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual(["device", "room", "token"]);
  });
});
