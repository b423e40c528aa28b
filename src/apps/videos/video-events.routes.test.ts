import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Fastify from "fastify";
import websocket from "@fastify/websocket";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { SseClient } from "../../test/sse-client.js";
import type { EventBus, EventPayload, VideoEvent } from "../../platform/events/events.js";
import { authPlugin } from "../users/index.js";
import { createVideosModule } from "./videos.module.js";
import { videoEventsRoutes } from "./video-events.routes.js";
import { insertUser, insertVideo, type TestUser } from "./video-events.fixtures.js";
import { ErrorResponse } from "../../lib/schemas.js";
import { closeWebSockets, drainPlugin } from "../../lib/drain.plugin.js";

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

interface WsClient {
  ws: WebSocket;
  frames: Record<string, unknown>[];
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
}

function openWs(url: string, options: WebSocket.ClientOptions = {}): WsClient {
  const ws = new WebSocket(url, options);
  const frames: Record<string, unknown>[] = [];
  let taken = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on("message", (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on("error", () => undefined);
  return {
    ws,
    frames,
    closed,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (frames.length <= taken) {
        if (Date.now() > deadline) throw new Error("timed out waiting for a WebSocket frame");
        if (ws.readyState === WebSocket.CLOSED) throw new Error("socket closed");
        await new Promise((r) => setTimeout(r, 10));
      }
      return frames[taken++]!;
    },
    send(msg) {
      const go = () => ws.send(JSON.stringify(msg));
      if (ws.readyState === WebSocket.OPEN) go();
      else ws.once("open", go);
    },
  };
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Counts live subscriptions, to prove connections release theirs. */
class CountingBus implements EventBus {
  active = 0;
  constructor(private readonly inner: EventBus) {}
  publish(videoId: string, payload: EventPayload): Promise<VideoEvent> {
    return this.inner.publish(videoId, payload);
  }
  history(videoId: string, afterSeq: number): Promise<VideoEvent[]> {
    return this.inner.history(videoId, afterSeq);
  }
  async subscribe(videoId: string, listener: (e: VideoEvent) => void): Promise<() => Promise<void>> {
    const unsubscribe = await this.inner.subscribe(videoId, listener);
    this.active++;
    let done = false;
    return async () => {
      if (!done) {
        done = true;
        this.active--;
      }
      await unsubscribe();
    };
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const baseOf = (address: AddressInfo): string => `http://127.0.0.1:${address.port}`;

/**
 * Node's fetch (undici) opens a spare connection when a streaming request is aborted; it never
 * sends a request, so the server's close() would wait for it until headersTimeout. Test
 * teardown drops every connection, including one that arrives while the app is closing.
 */
function dropConnections(server: Server): void {
  server.on("connection", (socket: Socket) => socket.destroy());
  server.closeAllConnections();
}

async function closeApp(app: { server: Server; close(): Promise<unknown> }): Promise<void> {
  dropConnections(app.server);
  await app.close();
}

async function closeHarness(h: Harness): Promise<void> {
  dropConnections(h.app.server);
  await h.close();
}

// ---------------------------------------------------------------------------------------------
// The real app
// ---------------------------------------------------------------------------------------------

describe("video live events (app)", () => {
  let h: Harness;
  let base: string;
  let wsBase: string;
  let owner: TestUser;
  let other: TestUser;
  let moderator: TestUser;

  beforeAll(async () => {
    h = await createHarness({ CORS_ORIGINS: "http://allowed.example" });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    base = baseOf(h.app.server.address() as AddressInfo);
    wsBase = base.replace("http:", "ws:");
    owner = await insertUser(h, "uploader");
    other = await insertUser(h, "uploader");
    moderator = await insertUser(h, "moderator");
  });
  afterAll(async () => {
    await closeHarness(h);
  });

  const eventsUrl = (id: string, token?: string, extra = ""): string =>
    `${base}/api/videos/${id}/events/${token ? `?token=${encodeURIComponent(token)}${extra}` : ""}`;

  describe("SSE", () => {
    it("refuses anonymous callers and bad tokens with 401", async () => {
      const v = await insertVideo(h, owner.id, "public");
      const none = await h.app.inject({ url: `/api/videos/${v.id}/events/` });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe("not_authenticated");
      const bad = await h.app.inject({ url: `/api/videos/${v.id}/events/?token=garbage` });
      expect(bad.statusCode).toBe(401);
      const badHeader = await h.app.inject({ url: `/api/videos/${v.id}/events/`, headers: { authorization: "Bearer garbage" } });
      expect(badHeader.statusCode).toBe(401);
    });

    it("hides another user's private video (404) and refuses a non-owner on a public one (403)", async () => {
      const priv = await insertVideo(h, owner.id, "private");
      const pub = await insertVideo(h, owner.id, "public");
      const unlisted = await insertVideo(h, owner.id, "unlisted");
      const as = (id: string) => h.app.inject({ url: `/api/videos/${id}/events/?token=${other.access}` });
      const r404 = await as(priv.id);
      expect(r404.statusCode).toBe(404);
      expect(r404.json().error.code).toBe("video_not_found");
      expect((await as(pub.id)).statusCode).toBe(403);
      expect((await as(unlisted.id)).statusCode).toBe(403);
      expect((await as(randomUUID())).statusCode).toBe(404);
      const malformed = await h.app.inject({ url: `/api/videos/not-a-uuid/events/?token=${other.access}` });
      expect(malformed.statusCode).toBe(400);
      // Fastify's automatic HEAD would hijack an endless stream: only GET exists.
      const head = await h.app.inject({ method: "HEAD", url: `/api/videos/${pub.id}/events/?token=${owner.access}` });
      expect(head.statusCode).toBe(405);
    });

    it("streams a snapshot then live events with event:, id: and data:, over real HTTP", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = await SseClient.connect(eventsUrl(v.id, owner.access), { origin: "http://allowed.example" });
      try {
        expect(c.res.status).toBe(200);
        expect(c.res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
        expect(c.res.headers.get("cache-control")).toMatch(/no-cache/);
        expect(c.res.headers.get("x-accel-buffering")).toBe("no");
        // Set by onRequest hooks before the hijack: CORS for the allowed origin, helmet.
        expect(c.res.headers.get("access-control-allow-origin")).toBe("http://allowed.example");
        expect(c.res.headers.get("x-content-type-options")).toBe("nosniff");

        const snap = await c.next();
        expect(c.retry).toBe(3000);
        expect(snap.event).toBe("snapshot");
        expect(snap.id).toBe("0");
        expect(snap.json).toMatchObject({ type: "snapshot", video_id: v.id, status: "uploading", playable: false });

        await h.ctx.events.publish(v.id, { type: "upload", bytes_received: 500, total: 1000, percent: 50, rate_bytes_per_s: 100, eta_s: 5 });
        await h.ctx.events.publish(v.id, { type: "status", status: "validating" });
        const up = await c.next();
        expect(up.event).toBe("upload");
        expect(up.id).toBe("1");
        expect(up.json).toMatchObject({ type: "upload", video_id: v.id, seq: 1, percent: 50, eta_s: 5 });
        expect(typeof up.json.at).toBe("string");
        const st = await c.next();
        expect([st.event, st.id, st.json.status]).toEqual(["status", "2", "validating"]);
      } finally {
        c.close();
      }
    });

    it("sends no CORS grant to an origin that is not allowed", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = await SseClient.connect(eventsUrl(v.id, owner.access), { origin: "http://evil.example" });
      try {
        expect(c.res.status).toBe(200);
        expect(c.res.headers.get("access-control-allow-origin")).toBeNull();
      } finally {
        c.close();
      }
    });

    it("gives a client reconnecting with Last-Event-ID what it missed, then live events, once each", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const first = await SseClient.connect(eventsUrl(v.id, owner.access));
      await first.next(); // snapshot
      await h.ctx.events.publish(v.id, { type: "upload", percent: 10 });
      const seen = await first.next();
      first.close();
      // Missed while disconnected.
      for (const percent of [20, 30, 40]) await h.ctx.events.publish(v.id, { type: "upload", percent });

      const again = await SseClient.connect(eventsUrl(v.id), {
        authorization: `Bearer ${owner.access}`,
        "last-event-id": seen.id!,
      });
      try {
        const replayed = [await again.next(), await again.next(), await again.next()];
        expect(replayed.map((m) => [m.event, m.id, m.json.percent])).toEqual([
          ["upload", "2", 20],
          ["upload", "3", 30],
          ["upload", "4", 40],
        ]);
        await h.ctx.events.publish(v.id, { type: "status", status: "validating" });
        const live = await again.next();
        expect([live.event, live.id]).toEqual(["status", "5"]);
        await new Promise((r) => setTimeout(r, 100));
        expect(again.messages).toHaveLength(4);
      } finally {
        again.close();
      }

      // ?last_event_id= does the same for clients that build the URL.
      const viaQuery = await SseClient.connect(eventsUrl(v.id, owner.access, "&last_event_id=3"));
      try {
        expect((await viaQuery.next()).id).toBe("4");
        expect((await viaQuery.next()).id).toBe("5");
      } finally {
        viaQuery.close();
      }
    });

    it("lets a moderator follow another user's private video", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = await SseClient.connect(eventsUrl(v.id), { authorization: `Bearer ${moderator.access}` });
      try {
        expect(c.res.status).toBe(200);
        expect((await c.next()).event).toBe("snapshot");
      } finally {
        c.close();
      }
    });

    it("ends the stream after a `deleted` event", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = await SseClient.connect(eventsUrl(v.id, owner.access));
      await c.next();
      await h.domains.videos.repo.delete(v.id);
      await h.ctx.events.publish(v.id, { type: "deleted" });
      expect((await c.next()).event).toBe("deleted");
      await c.waitEnd();
      // EventSource's reconnection then gets a 404 and stops.
      const again = await fetch(eventsUrl(v.id, owner.access));
      expect(again.status).toBe(404);
    });
  });

  describe("WebSocket", () => {
    const wsUrl = (id: string, token?: string, extra = ""): string =>
      `${wsBase}/ws/videos/${id}/${token ? `?token=${encodeURIComponent(token)}${extra}` : ""}`;

    it("sends a snapshot then live events as JSON text frames", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = openWs(wsUrl(v.id, owner.access));
      try {
        expect(await c.next()).toMatchObject({ type: "snapshot", video_id: v.id, seq: 0, status: "uploading" });
        await h.ctx.events.publish(v.id, { type: "upload", percent: 42 });
        expect(await c.next()).toMatchObject({ type: "upload", video_id: v.id, seq: 1, percent: 42 });
      } finally {
        c.ws.close();
      }
    });

    it("resumes from ?last_seq= and from a resume message, and answers application pings", async () => {
      const v = await insertVideo(h, owner.id, "private");
      for (let i = 1; i <= 3; i++) await h.ctx.events.publish(v.id, { type: "upload", percent: i });
      const c = openWs(wsUrl(v.id, owner.access, "&last_seq=1"));
      try {
        expect((await c.next()).seq).toBe(2);
        expect((await c.next()).seq).toBe(3);
        c.send({ type: "resume", last_seq: 0 });
        expect([(await c.next()).seq, (await c.next()).seq, (await c.next()).seq]).toEqual([1, 2, 3]);
        c.send({ type: "ping" });
        expect(await c.next()).toMatchObject({ type: "pong", server_time: expect.any(Number) });
        await h.ctx.events.publish(v.id, { type: "status", status: "queued" });
        expect(await c.next()).toMatchObject({ type: "status", seq: 4 });
        await new Promise((r) => setTimeout(r, 100));
        expect(c.frames).toHaveLength(7);
      } finally {
        c.ws.close();
      }
    });

    it("accepts a resume sent right after opening, before the session is ready", async () => {
      const v = await insertVideo(h, owner.id, "private");
      await h.ctx.events.publish(v.id, { type: "upload", percent: 1 });
      const c = openWs(wsUrl(v.id, owner.access));
      c.send({ type: "resume", last_seq: 0 });
      try {
        expect((await c.next()).type).toBe("snapshot");
        expect(await c.next()).toMatchObject({ type: "upload", seq: 1 });
      } finally {
        c.ws.close();
      }
    });

    it("reports bad messages with an error frame and keeps the connection", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const c = openWs(wsUrl(v.id, owner.access));
      try {
        await c.next();
        c.ws.send("not json");
        expect(await c.next()).toMatchObject({ type: "error", error: { code: "bad_message" } });
        c.send({ type: "resume", last_seq: -1 });
        expect(await c.next()).toMatchObject({ type: "error", error: { code: "bad_message" } });
        c.send({ type: "dance" });
        expect(await c.next()).toMatchObject({ type: "error", error: { code: "unknown_message" } });
        c.send({ type: "ping" });
        expect(await c.next()).toMatchObject({ type: "pong", server_time: expect.any(Number) });
      } finally {
        c.ws.close();
      }
    });

    it("closes with 4401, 4403 and 4404 after an error frame when auth fails", async () => {
      const priv = await insertVideo(h, owner.id, "private");
      const pub = await insertVideo(h, owner.id, "public");
      const cases: [string, number, string][] = [
        [wsUrl(pub.id), 4401, "not_authenticated"],
        [wsUrl(pub.id, "garbage"), 4401, "token_invalid"],
        [wsUrl(pub.id, other.access), 4403, "permission_denied"],
        [wsUrl(priv.id, other.access), 4404, "video_not_found"],
        [wsUrl(randomUUID(), owner.access), 4404, "video_not_found"],
        [`${wsBase}/ws/videos/not-a-uuid/?token=${owner.access}`, 4404, "video_not_found"],
      ];
      for (const [url, code, reason] of cases) {
        const c = openWs(url);
        const closed = await c.closed;
        expect({ url, ...closed }).toMatchObject({ url, code });
        if (reason !== "token_invalid") expect(closed.reason).toBe(reason);
        expect(c.frames[0]).toMatchObject({ type: "error" });
      }
    });

    it("authenticates with an Authorization header and refuses a malformed one at upgrade", async () => {
      const v = await insertVideo(h, owner.id, "private");
      const ok = openWs(wsUrl(v.id), { headers: { authorization: `Bearer ${moderator.access}` } });
      expect((await ok.next()).type).toBe("snapshot");
      ok.ws.close();

      const refused = new WebSocket(wsUrl(v.id), { headers: { authorization: "Basic abc" } });
      const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        refused.on("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
        });
        refused.on("open", () => reject(new Error("upgrade should have been refused")));
        refused.on("error", () => undefined);
      });
      expect(status.code).toBe(401);
      expect(JSON.parse(status.body).error.code).toBe("token_invalid");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Timers, cleanup and shutdown: the routes on a bare app with short intervals
// ---------------------------------------------------------------------------------------------

describe("video live events (connection lifecycle)", () => {
  let h: Harness;
  let owner: TestUser;

  beforeAll(async () => {
    h = await createHarness();
    owner = await insertUser(h, "uploader");
  });
  afterAll(async () => {
    await h.close();
  });

  const smallApp = async (bus: EventBus) => {
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    // the routes refer to the shared error body, as buildApp registers it
    app.addSchema(ErrorResponse);
    // and the drain signal SSE streams end on at close, and the WebSocket close frames
    await app.register(drainPlugin);
    await app.register(websocket, { preClose: closeWebSockets });
    await app.register(authPlugin, { db: h.ctx.db, tokens: h.domains.users.tokens });
    // the events service on the counting bus (a second videos module: the routes under test get their own bus)
    const service = createVideosModule({ ...h.ctx, events: bus, playbackTokens: h.domains.streaming.playback }).events;
    await videoEventsRoutes(app, { service, db: h.ctx.db, tokens: h.domains.users.tokens, sessions: h.domains.users.sessions, sseHeartbeatMs: 40, wsPingMs: 40 });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const base = baseOf(app.server.address() as AddressInfo);
    return { app, base, wsBase: base.replace("http:", "ws:") };
  };

  it("sends `: ping` heartbeats and releases the subscription when the SSE client leaves", async () => {
    const bus = new CountingBus(h.ctx.events);
    const { app, base } = await smallApp(bus);
    try {
      const v = await insertVideo(h, owner.id, "private");
      const c = await SseClient.connect(`${base}/api/videos/${v.id}/events/?token=${owner.access}`);
      await c.next();
      await c.waitComments(2);
      expect(c.comments.slice(0, 2)).toEqual(["ping", "ping"]);
      expect(bus.active).toBe(1);
      c.close();
      await waitFor(() => bus.active === 0);
    } finally {
      await closeApp(app);
    }
  });

  it("keeps a WebSocket alive with pings, releases it on close, and drops a peer that stops answering", async () => {
    const bus = new CountingBus(h.ctx.events);
    const { app, wsBase } = await smallApp(bus);
    try {
      const v = await insertVideo(h, owner.id, "private");
      const url = `${wsBase}/ws/videos/${v.id}/?token=${owner.access}`;
      const c = openWs(url);
      let pings = 0;
      c.ws.on("ping", () => pings++);
      await c.next();
      await new Promise((r) => setTimeout(r, 250));
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(bus.active).toBe(1);
      c.ws.close();
      await waitFor(() => bus.active === 0);

      // A peer that never answers pings (dead link) is terminated and its subscription released.
      const mute = openWs(url, { autoPong: false });
      await mute.next();
      expect((await mute.closed).code).toBe(1006);
      await waitFor(() => bus.active === 0);
    } finally {
      await closeApp(app);
    }
  });

  it("ends open SSE and WebSocket streams on app.close() and releases their subscriptions", async () => {
    const bus = new CountingBus(h.ctx.events);
    const { app, base, wsBase } = await smallApp(bus);
    const v = await insertVideo(h, owner.id, "private");
    const sse = await SseClient.connect(`${base}/api/videos/${v.id}/events/?token=${owner.access}`);
    await sse.next();
    const ws = openWs(`${wsBase}/ws/videos/${v.id}/?token=${owner.access}`);
    await ws.next();
    expect(bus.active).toBe(2);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await sse.waitEnd();
    expect((await ws.closed).code).toBeGreaterThanOrEqual(1000);
    expect(bus.active).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Two API instances on one Redis
// ---------------------------------------------------------------------------------------------

if (!TEST_REDIS_URL) console.warn("video-events.routes.test.ts: REDIS_URL not set, skipping the cross-instance fan-out suite");

describe.skipIf(!TEST_REDIS_URL)("video live events across instances (Redis)", () => {
  let a: Harness;
  let b: Harness;
  let baseB: string;
  const prefix = `vftest-events-${randomUUID()}`;

  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL!, REDIS_PREFIX: prefix };
    a = await createHarness(env);
    b = await createHarness(env);
    await b.app.listen({ host: "127.0.0.1", port: 0 });
    baseB = baseOf(b.app.server.address() as AddressInfo);
  });
  afterAll(async () => {
    if (b) await closeHarness(b);
    if (a) await closeHarness(a);
    // The bus's keys expire on their own; remove this run's now.
    const { Redis } = await import("ioredis");
    const admin = new Redis(TEST_REDIS_URL!);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it("delivers an event published by instance A to SSE and WebSocket clients of instance B", async () => {
    // Each harness has its own database; real instances share one, so both get the same rows.
    const ownerId = randomUUID();
    const videoId = randomUUID();
    const owner = await insertUser(a, "uploader", ownerId);
    await insertUser(b, "uploader", ownerId);
    // A's session too: an access token is refused once its refresh-token family is gone.
    const sessions = await a.ctx.db.selectFrom("refresh_tokens").selectAll().where("user_id", "=", ownerId).execute();
    await b.ctx.db.insertInto("refresh_tokens").values(sessions).execute();
    await insertVideo(a, ownerId, "private", videoId);
    await insertVideo(b, ownerId, "private", videoId);

    const sse = await SseClient.connect(`${baseB}/api/videos/${videoId}/events/?token=${owner.access}`);
    const ws = openWs(`${baseB.replace("http:", "ws:")}/ws/videos/${videoId}/?token=${owner.access}`);
    try {
      expect((await sse.next()).event).toBe("snapshot");
      expect((await ws.next()).type).toBe("snapshot");
      await a.ctx.events.publish(videoId, { type: "upload", percent: 77 });
      const viaSse = await sse.next();
      expect([viaSse.event, viaSse.id, viaSse.json.percent]).toEqual(["upload", "1", 77]);
      expect(await ws.next()).toMatchObject({ type: "upload", seq: 1, percent: 77 });

      // The replay buffer is shared too: B replays what A published.
      sse.close();
      await a.ctx.events.publish(videoId, { type: "status", status: "validating" });
      const again = await SseClient.connect(`${baseB}/api/videos/${videoId}/events/?token=${owner.access}`, { "last-event-id": "1" });
      try {
        const missed = await again.next();
        expect([missed.event, missed.id]).toEqual(["status", "2"]);
      } finally {
        again.close();
      }
    } finally {
      sse.close();
      ws.ws.close();
    }
  });
});
