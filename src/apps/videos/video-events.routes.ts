/**
 * Live events of a video: Server-Sent Events at `GET /api/videos/{id}/events/` and the WebSocket
 * `/ws/videos/{id}/`. Both carry the same events (`{type, video_id, seq, at, …}`), open with a
 * `snapshot` of the current state (or the missed events on resume), and need the owner's token
 * (or a moderator's/admin's), as `?token=` when the client cannot send headers.
 *
 * SSE: `event:` is the type, `id:` the seq; EventSource resends the last id as Last-Event-ID on
 * reconnect (`?last_event_id=` does the same for clients that build the URL themselves).
 * WebSocket: one JSON text frame per event; `?last_seq=N` at connect or a
 * `{"type":"resume","last_seq":N}` message replays what followed N; `{"type":"ping"}` answers
 * `{"type":"pong"}`; auth failures close with 4401/4403/4404 after an `error` frame.
 */
import { Type } from "@sinclair/typebox";
import type { FastifyBaseLogger, FastifyRequest } from "fastify";
import type { App } from "../../lib/app.types.js";
import type { Db } from "../../platform/db/db.js";
import { IdParams, errors } from "../../lib/schemas.js";
import { fieldError, notFound, unauthorized } from "../../lib/errors.js";
import { UUID_RE } from "../../lib/ids.js";
import { SseStream, parseEventId, sseResponse } from "../../lib/sse.js";
import { SocketSession, WsClose, WS_UPGRADE_RESPONSES, upgradeRequired } from "../../lib/websocket.js";
import { documentedOnly } from "../../lib/openapi.js";
import { authenticate, currentUser, type SessionRevocations, type TokenService } from "../users/index.js";
import { TERMINAL_EVENT_TYPES, type VideoEventsService, type VideoEventStream } from "./video-events.service.js";

export interface VideoEventsRouteTimings {
  /** SSE comment heartbeat, ms (default 15 s: below the usual 30-60 s proxy idle timeouts). */
  sseHeartbeatMs?: number;
  /** SSE `retry:` sent to clients, ms. */
  sseRetryMs?: number;
  /** WebSocket protocol ping interval, ms. */
  wsPingMs?: number;
}

export interface VideoEventsRoutesOptions extends VideoEventsRouteTimings {
  service: VideoEventsService;
  /** the WebSocket authenticates itself (`?token=`) when the auth hook found no bearer */
  db: Db;
  tokens: TokenService;
  /** an ended session (logout, password change…) closes its streams at once */
  sessions: Pick<SessionRevocations, "watch">;
}

const EventsQuery = Type.Object({
  token: Type.Optional(Type.String({ description: "Access token, for EventSource which cannot send headers." })),
  last_event_id: Type.Optional(Type.Integer({ minimum: 0, description: "Same as the Last-Event-ID header." })),
});

const WsQuery = Type.Object({
  token: Type.Optional(Type.String({ description: "Access token (a browser's WebSocket cannot send headers)." })),
  last_seq: Type.Optional(Type.Integer({ minimum: 0, description: "Replay the events after this seq." })),
});

const SSE_EXAMPLE =
  'retry: 3000\n\nevent: snapshot\nid: 3\ndata: {"type":"snapshot","video_id":"5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52","seq":3,"at":"2026-01-02T03:04:05.000Z","status":"processing","playable":false}\n\n' +
  'event: processing\nid: 4\ndata: {"type":"processing","video_id":"5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52","seq":4,"at":"2026-01-02T03:04:06.000Z","step":"encode","percent":41.5,"eta_s":12}\n\n';
const notOwner = [403, "Not the owner, a moderator or an admin (`permission_denied`)"] as const;
const noVideo = [404, "No such video, or one the caller may not see (`video_not_found`)"] as const;

export async function videoEventsRoutes(app: App, opts: VideoEventsRoutesOptions): Promise<void> {
  const { service } = opts;
  // Open streams, ended on shutdown: a hijacked SSE response would otherwise hold app.close()
  // until the client leaves, and their bus subscriptions must go before the bus closes.
  const live = new Set<{ end(): Promise<void> }>();
  app.addHook("preClose", async () => {
    await Promise.all([...live].map((s) => s.end()));
  });

  app.get(
    "/api/videos/:id/events/",
    {
      // HEAD on an endless stream makes no sense, and Fastify's automatic HEAD would hijack too.
      exposeHeadRoute: false,
      config: { auth: { required: true, queryToken: true } },
      schema: {
        tags: ["videos"],
        summary: "Live events of a video (Server-Sent Events)",
        description:
          "Owner, moderators and admins. `text/event-stream`: `event:` is the type (snapshot, upload, status, " +
          "processing, deleted…), `id:` the seq, `data:` the JSON event `{type, video_id, seq, at, …}`. Starts with " +
          "`retry: 3000` and a `snapshot` of the current state; a client reconnecting with `Last-Event-ID` (or " +
          "`?last_event_id=`) receives the events it missed instead. `: ping` comments every 15 s. The token may " +
          "be passed as `?token=` (EventSource cannot send headers). The same events are available as JSON text " +
          "frames on the WebSocket `/ws/videos/{id}/` (`?token=`, `?last_seq=`, `{\"type\":\"resume\",\"last_seq\":N}`; " +
          "auth failures close with 4401/4403/4404).",
        params: IdParams,
        querystring: EventsQuery,
        response: {
          200: sseResponse("An endless text/event-stream", SSE_EXAMPLE),
          ...errors(notOwner, noVideo),
        },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      const { id } = req.params;
      await service.authorize(id, user, req.role);
      const afterSeq = parseEventId(req.headers["last-event-id"]) ?? req.query.last_event_id ?? null;

      // The stream delivers nothing before sync(), which runs once the response is set up.
      const out: { sse?: SseStream } = {};
      const stream = await service.open(id, (e) => {
        out.sse?.send({ event: e.type, id: e.seq, data: JSON.stringify(e) });
        if (TERMINAL_EVENT_TYPES.has(e.type)) out.sse?.close();
      });
      // Everything that can still fail with a normal HTTP error has run; the stream starts.
      let sse: SseStream;
      try {
        sse = SseStream.open(reply, { heartbeatMs: opts.sseHeartbeatMs, retryMs: opts.sseRetryMs });
      } catch (err) {
        await stream.close();
        throw err;
      }
      out.sse = sse;
      const tracked = track(live, stream, req.log, () => sse.close());
      sse.onClose(() => tracked.end());
      // The session ended (logout, password change…): the stream ends, and EventSource's
      // reconnect is refused with 401 `token_revoked`.
      sse.onClose(opts.sessions.watch(user, () => sse.close()));
      try {
        await stream.sync(afterSeq);
      } catch (err) {
        req.log.error({ err }, "event stream failed to catch up");
        sse.close();
      }
    },
  );

  app.route({
    method: "GET",
    url: "/ws/videos/:id/",
    // Authentication happens after the upgrade (see src/lib/websocket.ts); a malformed
    // Authorization header is still refused by the global guard with a plain HTTP 401.
    config: documentedOnly({ params: IdParams, querystring: WsQuery }),
    schema: {
      tags: ["videos"],
      summary: "Live events of a video (WebSocket)",
      description:
        "Send `Connection: Upgrade` + `Upgrade: websocket` (RFC 6455). The same events as the SSE stream, one JSON text frame each, " +
        "starting with a `snapshot` (or, with `?last_seq=N`, the events after N). Client frames: `{\"type\":\"resume\",\"last_seq\":N}`, " +
        "`{\"type\":\"ping\"}`. Owner, moderators and admins, signed in with `?token=`; refusals are an `error` frame then close " +
        "4401/4403/4404. A plain GET (no upgrade) gets 426.",
      response: WS_UPGRADE_RESPONSES,
    },
    handler: upgradeRequired,
    wsHandler: (socket, req) => {
      const session = new SocketSession(socket, { log: req.log, pingIntervalMs: opts.wsPingMs });
      void session.run(async () => {
        const { id } = req.params as { id: string };
        if (!UUID_RE.test(id)) throw notFound("Video not found.", "video_not_found");
        const user = req.user ?? (await authenticate(req, opts.db, opts.tokens, true));
        if (!user) throw unauthorized("not_authenticated", "Authentication credentials were not provided.");
        await service.authorize(id, user, user.role);
        const afterSeq = parseSeqQuery(req);

        const stream = await service.open(id, (e) => {
          session.send(e);
          if (TERMINAL_EVENT_TYPES.has(e.type)) session.close(WsClose.normal, "video_deleted");
        });
        const tracked = track(live, stream, req.log, () => session.close(WsClose.goingAway, "server_shutdown"));
        session.onClose(() => tracked.end());
        session.onClose(opts.sessions.watch(user, () => session.fail(unauthorized("session_ended", "The session ended (signed out, password changed or account disabled)."))));
        await stream.sync(afterSeq);
        session.onMessage(async (msg) => {
          if (msg.type !== "resume") throw fieldError("unknown_message", `Unknown message type "${msg.type}".`, "message", "type", { entryMessage: "one of resume, ping" });
          const n = msg.last_seq;
          if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
            throw fieldError("bad_message", "`last_seq` must be a non-negative integer.", "message", "last_seq");
          }
          await stream.sync(n);
        });
      });
    },
  });
}

/** Registers a live stream for shutdown; `end()` is idempotent, never rejects, and closes the transport too. */
function track(live: Set<{ end(): Promise<void> }>, stream: VideoEventStream, log: FastifyBaseLogger, closeTransport: () => void): { end(): Promise<void> } {
  let ending: Promise<void> | null = null;
  const entry = {
    end(): Promise<void> {
      ending ??= (async () => {
        live.delete(entry);
        closeTransport();
        await stream.close().catch((err: unknown) => log.warn({ err }, "event unsubscribe failed"));
      })();
      return ending;
    },
  };
  live.add(entry);
  return entry;
}

function parseSeqQuery(req: FastifyRequest): number | null {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.last_seq ?? q?.last_event_id;
  if (v === undefined) return null;
  const n = parseEventId(typeof v === "string" ? v : String(v));
  if (n === null) throw fieldError("validation_error", "`last_seq` must be a non-negative integer.", "querystring", q?.last_seq !== undefined ? "last_seq" : "last_event_id", { entryMessage: "must be a non-negative integer" });
  return n;
}
