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
import { ErrorResponse, IdParams } from "../../lib/schemas.js";
import { badRequest, notFound, unauthorized } from "../../lib/errors.js";
import { UUID_RE } from "../../lib/ids.js";
import { SseStream, parseEventId } from "../../lib/sse.js";
import { SocketSession, WsClose } from "../../lib/websocket.js";
import { authenticate, currentUser, type TokenService } from "../users/index.js";
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
}

const EventsQuery = Type.Object({
  token: Type.Optional(Type.String({ description: "Access token, for EventSource which cannot send headers." })),
  last_event_id: Type.Optional(Type.Integer({ minimum: 0, description: "Same as the Last-Event-ID header." })),
});

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
          200: Type.String({ description: "An endless text/event-stream." }),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
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
      try {
        await stream.sync(afterSeq);
      } catch (err) {
        req.log.error({ err }, "event stream failed to catch up");
        sse.close();
      }
    },
  );

  app.get(
    "/ws/videos/:id/",
    // Authentication happens after the upgrade (see src/lib/websocket.ts); a malformed
    // Authorization header is still refused by the global guard with a plain HTTP 401.
    { websocket: true, schema: { hide: true } },
    (socket, req) => {
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
        await stream.sync(afterSeq);
        session.onMessage(async (msg) => {
          if (msg.type !== "resume") throw badRequest("unknown_message", `Unknown message type "${msg.type}".`);
          const n = msg.last_seq;
          if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
            throw badRequest("bad_message", "`last_seq` must be a non-negative integer.");
          }
          await stream.sync(n);
        });
      });
    },
  );
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
  if (n === null) throw badRequest("validation_error", "`last_seq` must be a non-negative integer.");
  return n;
}
