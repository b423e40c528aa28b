/**
 * The viewers' live channel of a video, Server-Sent Events at `GET /api/videos/{id}/live/`:
 * `comment` (created, edited, deleted) and `reactions` (counts) events, for anyone who may see
 * the video (private ones: the owner and staff, with `?token=` since EventSource sends no
 * headers). Starts with a `snapshot` of the counts, or with the missed events on a reconnect
 * with Last-Event-ID; `: ping` comments keep proxies from closing it; ends on shutdown.
 */
import type { App } from "../../lib/app.types.js";
import { IdParams, errors } from "../../lib/schemas.js";
import { SseStream, parseEventId, sseResponse } from "../../lib/sse.js";
import type { LiveEventsService, LiveStream } from "./live-events.service.js";
import type { ReactionRepository } from "./reaction.repository.js";
import { LiveQuery } from "./reactions.schemas.js";
import type { VideoGate } from "./video-gate.js";

export interface LiveRoutesOptions {
  live: LiveEventsService;
  gate: VideoGate;
  counts: Pick<ReactionRepository, "counts">;
  /** test seams */
  heartbeatMs?: number;
  retryMs?: number;
}

export async function liveRoutes(app: App, opts: LiveRoutesOptions): Promise<void> {
  // Open streams end before the app (and the bus) closes: a hijacked response would hold close().
  const open = new Set<{ sse: SseStream; stream: LiveStream }>();
  app.addHook("preClose", async () => {
    await Promise.all(
      [...open].map(async (s) => {
        s.sse.close();
        await s.stream.close().catch(() => undefined);
      }),
    );
  });

  app.get(
    "/api/videos/:id/live/",
    {
      exposeHeadRoute: false,
      config: { auth: { queryToken: true } },
      schema: {
        tags: ["comments"],
        summary: "Live comments and reaction counts of a video (Server-Sent Events)",
        description:
          "`text/event-stream` for anyone who may see the video. `event:` is the type, `id:` the seq, `data:` the JSON " +
          "event: `snapshot` `{likes, dislikes}` first; `comment` `{action: created|edited|deleted, comment}`; `reactions` " +
          "`{likes, dislikes}`. Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get what was missed. Example " +
          'message: `event: reactions` / `id: 7` / `data: {"type":"reactions","video_id":"…","seq":7,"at":"…","likes":12,"dislikes":1}`.',
        params: IdParams,
        querystring: LiveQuery,
        response: {
          200: sseResponse("An endless text/event-stream", 'retry: 3000\n\nevent: snapshot\nid: 6\ndata: {"type":"snapshot","video_id":"5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52","seq":6,"at":"2026-01-02T03:04:05.000Z","likes":12,"dislikes":1}\n\n'),
          ...errors([404, "No such video, or one the caller may not see (`video_not_found`)"]),
        },
      },
    },
    async (req, reply) => {
      const video = await opts.gate.video(req.params.id, req.user, req.role);
      const afterSeq = parseEventId(req.headers["last-event-id"]) ?? req.query.last_event_id ?? null;
      const out: { sse?: SseStream } = {};
      const stream = await opts.live.open(
        video.id,
        async () => (await opts.counts.counts(video.id)) ?? { likes: 0, dislikes: 0 },
        (e) => out.sse?.send({ event: e.type, id: e.seq, data: JSON.stringify(e) }),
      );
      let sse: SseStream;
      try {
        sse = SseStream.open(reply, { heartbeatMs: opts.heartbeatMs, retryMs: opts.retryMs });
      } catch (err) {
        await stream.close();
        throw err;
      }
      out.sse = sse;
      const entry = { sse, stream };
      open.add(entry);
      sse.onClose(async () => {
        open.delete(entry);
        await stream.close();
      });
      try {
        await stream.sync(afterSeq);
      } catch (err) {
        req.log.error({ err }, "live stream failed to catch up");
        sse.close();
      }
    },
  );
}
