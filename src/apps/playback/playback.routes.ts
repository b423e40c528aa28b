/**
 * Live playback control (docs/playback.md has the protocol): the WebSocket
 * `/ws/stream/{video_id}/`, and its HTTP-only fallback for clients that cannot hold one —
 * `GET …/state/` (with long polling by `?since=`), `POST …/control/` and `GET …/events/`
 * (Server-Sent Events carrying the WebSocket's frames). All take `token`, `device` and `room`,
 * so a WebSocket device and an HTTP device of one session see each other's changes.
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { FastifyReply } from "fastify";
import type { App } from "../../lib/app.types.js";
import { AppError, fieldError, notFound, validationError } from "../../lib/errors.js";
import { UUID_RE } from "../../lib/ids.js";
import { errors } from "../../lib/schemas.js";
import { SseStream, sseResponse } from "../../lib/sse.js";
import { SocketSession, WsClose, WS_UPGRADE_RESPONSES, upgradeRequired } from "../../lib/websocket.js";
import { documentedOnly } from "../../lib/openapi.js";
import type { Participant } from "./local-sessions.js";
import type { JoinInput, PlaybackSessionService } from "./playback-session.service.js";
import { ControlBody, ControlResponse, SessionQuery, StateQuery, StateResponse, StreamParams, parseControl, typeboxCode, type ControlResponseBody } from "./playback.schemas.js";

export interface PlaybackRoutesOptions {
  sessions: PlaybackSessionService;
  longPollMs: number;
  wsPingMs?: number;
  sseHeartbeatMs?: number;
}

/** Consecutive refused frames (rate limit) after which a WebSocket is closed with 1008. */
const MAX_RATE_STRIKES = 10;
const checkSessionQuery = TypeCompiler.Compile(SessionQuery);

function joinInput(videoId: string, q: Record<string, unknown>): JoinInput {
  if (!checkSessionQuery.Check(q)) {
    const e = [...checkSessionQuery.Errors(q)][0];
    throw validationError([{ location: "querystring", field: e?.path.replace(/^\//, "") || "querystring", code: e ? typeboxCode(e.type) : "invalid", message: e?.message ?? "invalid" }]);
  }
  return { videoId, token: q.token as string | undefined, device: q.device as string | undefined, room: q.room as string | undefined };
}

const badSession = [400, "Invalid `token`, `device` or `room` (`validation_error`)"] as const;
const forbidden = [403, "The token does not give access to this video or room"] as const;
const noVideo = [404, "No such video, or one the caller may not see (`video_not_found`); no such room (`room_not_found`)"] as const;

export async function playbackRoutes(app: App, opts: PlaybackRoutesOptions): Promise<void> {
  const { sessions } = opts;
  const live = new Set<Participant>();
  // Shutdown: devices reconnect elsewhere (1001) and their presence goes before the hub closes.
  app.addHook("preClose", async () => {
    const all = [...live];
    for (const p of all) p.end(new AppError(503, "server_shutdown", "The server is restarting."));
    await Promise.all(all.map((p) => sessions.disconnect(p).catch(() => undefined)));
  });

  app.route({
    method: "GET",
    url: "/ws/stream/:video_id/",
    config: documentedOnly({ params: StreamParams, querystring: SessionQuery }),
    schema: {
      tags: ["playback"],
      summary: "Live playback control (WebSocket)",
      description:
        "Send `Connection: Upgrade` + `Upgrade: websocket` (RFC 6455); the protocol is docs/playback.md. The server greets with `hello` " +
        "(session, state, members); a device sends the control messages of `POST /api/stream/{video_id}/control/` as JSON text frames " +
        "and every device of the session (or room) receives `state`, `presence`, `comment`, `reactions`; `switch` answers its sender's " +
        "change_quality/change_lang. `token`: an access token or the video's playback token; `device`: this device's id; `room`: a watch " +
        "room's code. Refusals are an `error` frame, then close 4400/4401/4403/4404 (4429 after repeated rate limiting, 1008). A plain GET gets 426.",
      response: WS_UPGRADE_RESPONSES,
    },
    handler: upgradeRequired,
    wsHandler: (socket, req) => {
    const ws = new SocketSession(socket, { log: req.log, pingIntervalMs: opts.wsPingMs });
    void ws.run(async () => {
      const { video_id } = req.params as { video_id: string };
      if (!UUID_RE.test(video_id)) throw notFound("Video not found.", "video_not_found");
      const joined = await sessions.join(req, joinInput(video_id, (req.query ?? {}) as Record<string, unknown>));
      const { participant, hello, start } = await sessions.connect(joined, "ws", {
        sendRaw: (_type, raw) => void ws.sendRaw(raw),
        end: (err) => (err instanceof AppError && err.code === "server_shutdown" ? ws.close(WsClose.goingAway, "server_shutdown") : ws.fail(err)),
      });
      live.add(participant);
      ws.onClose(async () => {
        live.delete(participant);
        await sessions.disconnect(participant);
      });
      ws.send(hello);
      start();
      let strikes = 0;
      ws.onMessage(async (raw) => {
        try {
          const msg = parseControl(raw);
          const res = await sessions.control(joined, msg, participant);
          strikes = 0;
          // A change reaches every device (this one too) through the session's channel; what
          // changed nothing, or asked for the state, is answered to the sender alone.
          if (res.by === null) ws.send({ type: "state", state: res.state, by: null, version: res.version });
          if (res.switch) ws.send({ type: "switch", ...res.switch });
        } catch (err) {
          if (err instanceof AppError && err.code === "rate_limited" && ++strikes >= MAX_RATE_STRIKES) {
            ws.sendError(err);
            ws.close(WsClose.policyViolation, "rate_limited");
            return;
          }
          throw err;
        }
      });
    });
    },
  });

  app.get(
    "/api/stream/:video_id/state/",
    {
      schema: {
        tags: ["playback"],
        summary: "A playback session's state (HTTP fallback; long polling with ?since=)",
        description:
          "The state of the caller's session (`room` for a watch room), its members and this device. With `since`, " +
          "the answer waits until the session's version passes it, or ~25 s (then the unchanged state): long polling. " +
          "`token`: an access token or the video's playback token. Also registers this device as present for ~35 s.",
        params: StreamParams,
        querystring: StateQuery,
        response: { 200: StateResponse, ...errors(badSession, forbidden, noVideo) },
      },
    },
    async (req, reply) => {
      const joined = await sessions.join(req, joinInput(req.params.video_id, stripSince(req.query)));
      if (req.query.since === undefined) return sessions.state(joined);
      return sessions.waitForChange(joined, req.query.since, opts.longPollMs, abortOnClose(reply));
    },
  );

  app.post(
    "/api/stream/:video_id/control/",
    {
      // The body is checked by the same per-type schemas as WebSocket frames (parseControl), so
      // both answer `unknown_message` / `validation_error` alike; the union documents it.
      validatorCompiler: ({ httpPart }) => {
        // Fastify replaces the part with `value`: hand the body back untouched (parseControl checks it).
        if (httpPart === "body") return (d: unknown) => ({ value: d });
        if (httpPart === "params") return (d: unknown) => (UUID_RE.test(String((d as { video_id?: unknown }).video_id)) ? { value: d } : { error: new Error("params/video_id must be a uuid") });
        return (d: unknown) => (checkSessionQuery.Check(d) ? { value: d } : { error: new Error(`querystring${checkSessionQuery.Errors(d).First()?.path ?? ""} is invalid`) });
      },
      schema: {
        tags: ["playback"],
        summary: "Send a control message (HTTP fallback of the WebSocket)",
        description:
          "The WebSocket's client messages as a JSON body: play, pause, seek, change_speed, change_quality, change_lang, " +
          "buffering, ready, sync. Answers the session's new state (and, for change_quality/change_lang, the URLs to switch to). " +
          "Errors: 400 (unknown_message, validation_error, position_out_of_range, speed_out_of_range, quality_unavailable, " +
          "language_unavailable), 403 control_forbidden, 429 rate_limited.",
        params: StreamParams,
        querystring: SessionQuery,
        body: ControlBody,
        response: {
          200: ControlResponse,
          ...errors(
            [400, "`unknown_message`, `bad_message`, `validation_error`, `position_out_of_range`, `speed_out_of_range`, `quality_unavailable`, `language_unavailable` (entries name the message's field)"],
            [403, "`control_forbidden` (a room whose creator keeps control), or a playback token of another video"],
            noVideo,
            [429, "More control messages than PLAYBACK_CONTROL_RATE/BURST from this device (`rate_limited`, `{retry_after_s}`), or the address limit (`throttled`)"],
          ),
        },
      },
    },
    async (req): Promise<ControlResponseBody> => {
      const body = req.body as unknown;
      if (typeof body !== "object" || body === null || Array.isArray(body) || typeof (body as { type?: unknown }).type !== "string") {
        throw fieldError("bad_message", "Messages must be JSON objects with a string `type`.", "body", "type", { entryMessage: "must be a string" });
      }
      const msg = parseControl(body as { type: string } & Record<string, unknown>, "body");
      const joined = await sessions.join(req, joinInput(req.params.video_id, req.query as Record<string, unknown>));
      return sessions.control(joined, msg, null);
    },
  );

  app.get(
    "/api/stream/:video_id/events/",
    {
      exposeHeadRoute: false,
      schema: {
        tags: ["playback"],
        summary: "A playback session's frames as Server-Sent Events (HTTP fallback)",
        description:
          "`text/event-stream` of the WebSocket's server frames: `event:` is the frame type (state, presence, comment, " +
          "reactions), `data:` the frame JSON. Opens with the current `state` (with session and members). Control goes " +
          "through `POST …/control/` with the same `device`.",
        params: StreamParams,
        querystring: SessionQuery,
        response: {
          200: sseResponse("An endless text/event-stream", 'event: state\ndata: {"type":"state","state":{"status":"paused","playing":false,"position":12.5,"speed":1,"quality":"auto","version":3},"by":"tv-1","version":3}\n\n'),
          ...errors(badSession, forbidden, noVideo),
        },
      },
    },
    async (req, reply) => {
      const joined = await sessions.join(req, joinInput(req.params.video_id, req.query as Record<string, unknown>));
      const out: { sse?: SseStream } = {};
      const { participant, hello, start } = await sessions.connect(joined, "http", {
        sendRaw: (type, raw) => out.sse?.send({ event: type, data: typeof raw === "string" ? raw : raw.toString("utf8") }),
        end: () => out.sse?.close(),
      });
      let sse: SseStream;
      try {
        sse = SseStream.open(reply, { heartbeatMs: opts.sseHeartbeatMs });
      } catch (err) {
        await sessions.disconnect(participant);
        throw err;
      }
      out.sse = sse;
      live.add(participant);
      sse.onClose(async () => {
        live.delete(participant);
        await sessions.disconnect(participant);
      });
      sse.send({ event: "state", data: JSON.stringify(hello) });
      start();
    },
  );
}

function stripSince(q: Record<string, unknown>): Record<string, unknown> {
  const { since: _since, ...rest } = q;
  return rest;
}

/** Aborts when the client goes away, so a long poll does not hold a subscription for nothing. */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  // The response's close (not the request's, which fires once a bodiless GET has been read).
  reply.raw.on("close", () => ac.abort());
  // And the app's close (SIGTERM): the poll answers the state it has now instead of holding the
  // shutdown for up to PLAYBACK_LONG_POLL_MS; the client's next poll reaches another process.
  return AbortSignal.any([ac.signal, reply.server.drainSignal]);
}
