import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { browserSocket, RemoteConnection, type ConnectionEvents, type ConnectionOptions, type ConnectionStatus, type Credentials, type SocketFactory, type SocketHandlers } from "./remote-connection.js";
import type { Greeting, PlaybackState } from "./remote-protocol.js";

const VIDEO = "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52";

function state(version: number, patch: Partial<PlaybackState> = {}): PlaybackState {
  return { status: "paused", playing: false, position: 10, speed: 1, quality: "auto", audio_lang: "en", audio_track: "a0", subtitle_lang: null, version, updated_at: "2026-01-01T00:00:00.000Z", server_time: 50_000, waiting_for: [], ...patch };
}

function greeting(version: number, patch: Partial<PlaybackState> = {}): Greeting {
  return { type: "state", state: state(version, patch), session: { kind: "personal", room: null, device: "d1", can_control: true }, members: [{ device: "d1", user: null, transport: "ws", buffering: false, can_control: true }], member_count: 1, by: null };
}

interface FakeSocket {
  url: string;
  sent: Record<string, unknown>[];
  on: SocketHandlers;
  closedByClient: boolean;
  receive(frame: unknown): void;
}

function fakeSockets() {
  const sockets: FakeSocket[] = [];
  let block = false;
  const factory: SocketFactory = (url, on) => {
    if (block) throw new Error("blocked");
    const s: FakeSocket = { url, sent: [], on, closedByClient: false, receive: (f) => on.message(JSON.stringify(f)) };
    sockets.push(s);
    return {
      send: (d) => s.sent.push(JSON.parse(d) as Record<string, unknown>),
      close: () => {
        s.closedByClient = true;
      },
    };
  };
  return { sockets, factory, block: (b: boolean) => (block = b) };
}

function recorder() {
  const log: { states: [PlaybackState, string | null, boolean][]; statuses: ConnectionStatus[]; refused: string[]; members: number[]; sessions: number } = { states: [], statuses: [], refused: [], members: [], sessions: 0 };
  const events: ConnectionEvents = {
    session: () => void log.sessions++,
    state: (s, by, g) => void log.states.push([s, by, g]),
    members: (_m, n) => void log.members.push(n),
    status: (s) => void log.statuses.push(s),
    refused: (e) => void log.refused.push(e.code),
  };
  return { log, events, last: () => log.statuses.at(-1) };
}

let now = 1_000;
/** Lets the connection's promise chains (and the Responses' body reads) run. */
const flush = async () => {
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 20; j++) await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
};

function options(socket: SocketFactory | null, patch: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    videoId: VIDEO,
    device: "d1",
    room: null,
    credentials: async (): Promise<Credentials | null> => ({ kind: "access", value: "tok-1" }),
    refresh: async () => true,
    wsOrigin: "ws://example.test",
    socket,
    fetch: () => Promise.reject(new Error("no fetch in this test")),
    localNow: () => now,
    random: () => 1,
    ...patch,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  now = 1_000;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("browserSocket", () => {
  it("hands text frames over, and nothing of a binary frame", () => {
    class FakeBrowserSocket {
      static last: FakeBrowserSocket;
      onopen: (() => void) | null = null;
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onclose: ((e: { code: number; reason: string }) => void) | null = null;
      constructor(readonly url: string) {
        FakeBrowserSocket.last = this;
      }
      send() {}
      close() {}
    }
    const got: string[] = [];
    const closes: [number, string][] = [];
    browserSocket(FakeBrowserSocket as unknown as typeof WebSocket)("ws://x/", { open: () => undefined, message: (d) => void got.push(d), close: (c, r) => void closes.push([c, r]) });
    const ws = FakeBrowserSocket.last;
    // Text frames only (the server sends JSON as text; a binary frame is not part of the protocol).
    ws.onmessage?.({ data: '{"type":"state"}' });
    ws.onmessage?.({ data: new TextEncoder().encode('{"type":"presence","members":[]}').buffer });
    ws.onclose?.({ code: 4404, reason: "room_ended" });
    expect(got).toEqual(['{"type":"state"}']);
    expect(closes).toEqual([[4404, "room_ended"]]);
  });
});

describe("RemoteConnection over WebSocket", () => {
  it("connects with token, device and room, greets, and sets the clock from pings (lowest round trip)", async () => {
    const { sockets, factory } = fakeSockets();
    const r = recorder();
    const c = new RemoteConnection(options(factory, { room: "K7QX2M" }), r.events);
    c.start();
    await flush();
    expect(sockets[0]!.url).toBe(`ws://example.test/ws/stream/${VIDEO}/?device=d1&room=K7QX2M&token=tok-1`);
    now = 1_100;
    sockets[0]!.receive(greeting(3, { server_time: 6_050 })); // sample: (1000, 1100, 6050) → offset 5000, rtt 100
    expect(r.last()).toEqual({ phase: "open", transport: "websocket", error: null });
    expect(r.log.states).toEqual([[state(3, { server_time: 6_050 }), null, true]]);
    expect(c.clock.offset).toBe(5000);
    // The first ping goes at once, four more 200 ms apart.
    expect(sockets[0]!.sent).toEqual([{ type: "ping", client_time: 1_100 }]);
    now = 1_120;
    sockets[0]!.receive({ type: "pong", client_time: 1_100, server_time: 5_912 }); // offset 4802, rtt 20
    expect(c.clock.offset).toBe(4802);
    await vi.advanceTimersByTimeAsync(800);
    expect(sockets[0]!.sent.filter((m) => m.type === "ping")).toHaveLength(5);
    now = 1_500;
    sockets[0]!.receive({ type: "pong", client_time: 1_400, server_time: 6_400 }); // rtt 100: not better
    expect(c.clock.offset).toBe(4802);
    c.close();
  });

  it("holds messages until the greeting (the latest of each type), then sends them in order", async () => {
    const { sockets, factory } = fakeSockets();
    const c = new RemoteConnection(options(factory), recorder().events);
    c.start();
    c.send({ type: "seek", position: 5 });
    c.send({ type: "pause" });
    c.send({ type: "seek", position: 7 });
    await flush();
    sockets[0]!.receive(greeting(1));
    expect(sockets[0]!.sent.filter((m) => m.type !== "ping")).toEqual([{ type: "pause" }, { type: "seek", position: 7 }]);
    c.send({ type: "play" });
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: "play" });
    c.close();
  });

  it("never delivers an older version after a newer one, but takes any greeting (a restarted server counts from 1)", async () => {
    const { sockets, factory } = fakeSockets();
    const r = recorder();
    const c = new RemoteConnection(options(factory), r.events);
    c.start();
    await flush();
    sockets[0]!.receive(greeting(5));
    sockets[0]!.receive({ type: "state", state: state(7), by: "phone", version: 7 });
    sockets[0]!.receive({ type: "state", state: state(6), by: "tv", version: 6 });
    sockets[0]!.receive({ type: "state", state: state(7), by: null, version: 7 });
    expect(r.log.states.map(([s, by]) => [s.version, by])).toEqual([[5, null], [7, "phone"], [7, null]]);
    sockets[0]!.receive({ type: "presence", members: [], count: 3, room: null });
    expect(r.log.members).toEqual([1, 3]);
    sockets[0]!.on.close(1001, "server_shutdown");
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    sockets[1]!.receive(greeting(1));
    expect(r.log.states.at(-1)?.[0].version).toBe(1);
    c.close();
  });

  it("reconnects with backoff after a drop, and stays on WebSocket once it has worked", async () => {
    const { sockets, factory } = fakeSockets();
    const r = recorder();
    const c = new RemoteConnection(options(factory), r.events);
    c.start();
    await flush();
    sockets[0]!.receive(greeting(1));
    for (let i = 0; i < 3; i++) {
      sockets.at(-1)!.on.close(1006, "");
      await flush();
      expect(r.last()?.phase).toBe("reconnecting");
      // random() = 1: 500 ms, then 1 s, then 2 s.
      await vi.advanceTimersByTimeAsync(500 * 2 ** i - 1);
      expect(sockets).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(sockets).toHaveLength(i + 2);
    }
    expect(r.last()?.transport).toBe("websocket");
    sockets.at(-1)!.receive(greeting(2));
    expect(r.last()).toEqual({ phase: "open", transport: "websocket", error: null });
    c.close();
    expect(sockets.at(-1)!.closedByClient).toBe(true);
  });

  it("refreshes the token after 4401 and reconnects with the new one; stops when the refresh fails", async () => {
    const { sockets, factory } = fakeSockets();
    let token = "tok-1";
    const refresh = vi.fn(async () => {
      token = "tok-2";
      return true;
    });
    const r = recorder();
    const c = new RemoteConnection(options(factory, { credentials: async () => ({ kind: "access", value: token }), refresh }), r.events);
    c.start();
    await flush();
    sockets[0]!.receive(greeting(1));
    sockets[0]!.receive({ type: "error", error: { code: "token_expired", message: "expired" } });
    sockets[0]!.on.close(4401, "token_expired");
    await flush();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(sockets[1]!.url).toContain("token=tok-2");
    expect(r.log.refused).toEqual([]);

    // Refused again straight away, before any greeting: the sign-in session is over.
    sockets[1]!.on.close(4401, "session_ended");
    await flush();
    expect(r.last()).toEqual({ phase: "stopped", transport: "websocket", error: { code: "session_ended", message: "" } });
    expect(sockets).toHaveLength(2);

    const r2 = recorder();
    const c2 = new RemoteConnection(options(factory, { refresh: async () => false }), r2.events);
    c2.start();
    await flush();
    sockets.at(-1)!.on.close(4401, "");
    await flush();
    expect(r2.last()?.phase).toBe("stopped");
    expect(r2.last()?.error?.code).toBe("session_ended");
  });

  it("stops on room_ended (error frame, then 4404) and reports refused messages without closing", async () => {
    const { sockets, factory } = fakeSockets();
    const r = recorder();
    const c = new RemoteConnection(options(factory, { room: "K7QX2M" }), r.events);
    c.start();
    await flush();
    sockets[0]!.receive(greeting(1));
    sockets[0]!.receive({ type: "error", error: { code: "control_forbidden", message: "Only the creator." } });
    expect(r.log.refused).toEqual(["control_forbidden"]);
    sockets[0]!.receive({ type: "error", error: { code: "room_ended", message: "The room ended." } });
    sockets[0]!.on.close(4404, "room_ended");
    await flush();
    expect(r.last()).toEqual({ phase: "stopped", transport: "websocket", error: { code: "room_ended", message: "The room ended." } });
    expect(r.log.refused).toEqual(["control_forbidden"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
  });
});

/** A scripted fetch: answers by path, long polls wait for `push`. */
function fakeHttp() {
  const calls: { method: string; url: string; auth: string | null; body: unknown }[] = [];
  const polls: ((g: Greeting) => void)[] = [];
  let current = greeting(4, { status: "playing", playing: true, server_time: 9_000 });
  let stateStatus = 200;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method, url, auth: headers.authorization ?? null, body: init?.body ? JSON.parse(String(init.body)) : null });
    if (method === "POST") {
      current = { ...current, state: { ...current.state, status: "paused", playing: false, version: current.state.version + 1 } };
      return json(200, { type: "state", state: current.state, by: "d1", version: current.state.version });
    }
    if (stateStatus !== 200) return json(stateStatus, { error: { code: "room_not_found", message: "No such room." } });
    if (url.includes("since=")) {
      return new Promise<Response>((resolve, reject) => {
        const answer = (g: Greeting) => resolve(json(200, g));
        polls.push(answer);
        init?.signal?.addEventListener("abort", () => {
          polls.splice(polls.indexOf(answer), 1);
          reject(new DOMException("aborted", "AbortError"));
        });
      });
    }
    now += 10;
    return json(200, current);
  };
  return {
    calls,
    fetchFn,
    push: (g: Greeting) => {
      current = g;
      polls.shift()?.(g);
    },
    fail: (status: number) => (stateStatus = status),
    pending: () => polls.length,
  };
}

describe("RemoteConnection: the HTTP fallback", () => {
  it("takes over after two WebSocket attempts that never greeted: state, long poll by version, control by POST", async () => {
    const ws = fakeSockets();
    ws.block(true);
    const http = fakeHttp();
    const r = recorder();
    const c = new RemoteConnection(options(ws.factory, { fetch: http.fetchFn }), r.events);
    c.start();
    await flush();
    expect(r.last()?.phase).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(500);
    await flush();
    expect(r.last()).toEqual({ phase: "open", transport: "http", error: null });
    // The access token goes as a header, not in the address.
    expect(http.calls[0]).toEqual({ method: "GET", url: `/api/stream/${VIDEO}/state/?device=d1`, auth: "Bearer tok-1", body: null });
    expect(http.calls[1]!.url).toBe(`/api/stream/${VIDEO}/state/?device=d1&since=4`);
    expect(r.log.states.map(([s, , g]) => [s.version, g])).toEqual([[4, true]]);
    // The GET's round trip (10 ms) is a clock sample: offset = 9000 − (1000 + 1010) / 2.
    expect(c.clock.offset).toBe(7995);

    http.push(greeting(5, { status: "paused" }));
    await flush();
    expect(r.log.states.map(([s]) => s.version)).toEqual([4, 5]);
    expect(http.calls.at(-1)!.url).toContain("since=5");

    c.send({ type: "pause" });
    await flush();
    const post = http.calls.find((x) => x.method === "POST")!;
    expect(post).toEqual({ method: "POST", url: `/api/stream/${VIDEO}/control/?device=d1`, auth: "Bearer tok-1", body: { type: "pause" } });
    expect(r.log.states.at(-1)![0].version).toBe(6);

    // Four more clock samples 200 ms apart after the greeting (as the socket's first pings),
    // then members and the clock are refreshed by a plain GET every 10 s.
    const gets = () => http.calls.filter((x) => x.method === "GET" && !x.url.includes("since=")).length;
    expect(gets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(gets()).toBe(5);
    await vi.advanceTimersByTimeAsync(9_000);
    await flush();
    expect(gets()).toBe(6);
    c.close();
    await flush();
    expect(http.pending()).toBe(0);
  });

  it("goes straight to HTTP without a WebSocket, puts a playback token in the query, and stops on 404", async () => {
    const http = fakeHttp();
    const r = recorder();
    const c = new RemoteConnection(options(null, { fetch: http.fetchFn, room: "K7QX2M", credentials: async () => ({ kind: "playback", value: "pb" }) }), r.events);
    c.start();
    await flush();
    expect(http.calls[0]).toEqual({ method: "GET", url: `/api/stream/${VIDEO}/state/?device=d1&room=K7QX2M&token=pb`, auth: null, body: null });
    expect(r.last()?.transport).toBe("http");
    http.fail(404);
    // The long poll that was open answers; the next one is refused.
    http.push(greeting(5));
    await flush();
    expect(r.last()).toEqual({ phase: "stopped", transport: "http", error: { code: "room_not_found", message: "No such room." } });
    c.close();
  });
});
