/**
 * Streaming routes: progressive MP4 per rung, HLS files, views, chapters (JSON and WebVTT) and
 * the segmented structure. Thin: parsing and response shapes here, decisions in StreamingService.
 * Media routes are exempt from the global request-rate limit: a player legitimately issues a
 * request per segment or seek, and bytes, not request counts, are the cost of media.
 */
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { ErrorResponse, IdParams } from "../../lib/schemas.js";
import { MAX_CHAPTER_TITLE, MAX_CHAPTERS } from "../videos/index.js";
import type { StreamingService } from "./streaming.service.js";

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096, description: "Playback token (private videos)." })) });

const ChapterSchema = Type.Object({
  index: Type.Integer(),
  title: Type.String(),
  start: Type.Number({ description: "seconds" }),
  end: Type.Number({ description: "seconds" }),
});

const ChapterInputSchema = Type.Object({
  // Length and emptiness are checked after trimming by the service (precise error fields).
  title: Type.String({ maxLength: MAX_CHAPTER_TITLE * 4 }),
  start: Type.Number({ minimum: 0 }),
  // A list read with GET can be sent back as is: index and end are derived, so ignored.
  index: Type.Optional(Type.Integer()),
  end: Type.Optional(Type.Number()),
});

const SegmentSchema = Type.Object({ index: Type.Integer(), uri: Type.String(), start: Type.Number(), duration: Type.Number() });
const SpanSchema = Type.Union([Type.Object({ first: Type.Integer(), last: Type.Integer() }), Type.Null()]);
const SegmentsResponse = Type.Object({
  renditions: Type.Array(
    Type.Object({
      quality: Type.String(),
      playlist_uri: Type.String(),
      target_duration: Type.Union([Type.Number(), Type.Null()]),
      ended: Type.Boolean(),
      segments: Type.Array(SegmentSchema),
    }),
  ),
  chapters: Type.Array(
    Type.Object({
      index: Type.Integer(),
      title: Type.String(),
      start: Type.Number(),
      end: Type.Number(),
      segments: Type.Record(Type.String(), SpanSchema, { description: "per quality: first and last segment index covering the chapter" }),
    }),
  ),
});

const mediaErrors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export async function streamingRoutes(app: App, svc: StreamingService): Promise<void> {
  app.route({
    method: ["GET", "HEAD"],
    url: "/api/videos/:id/stream/:quality/",
    config: { rateLimit: false },
    schema: {
      tags: ["streaming"],
      summary: "Progressive MP4 of one rung, with HTTP Range support (RFC 9110)",
      description:
        "Single ranges answer 206, several ranges multipart/byteranges (more than 20: 200), unsatisfiable ones 416 with `Content-Range: bytes */size`; If-Range, If-None-Match, If-Modified-Since, If-Match and If-Unmodified-Since are honoured. Private videos need `?token=` (or the owner's bearer).",
      params: Type.Object({ id: Type.String(), quality: Type.String({ pattern: "^[0-9]{2,4}p$" }) }),
      querystring: TokenQuery,
    },
    handler: async (req, reply) => {
      const { id, quality } = req.params as { id: string; quality: string };
      await svc.streamMp4(req, reply, id, quality);
    },
  });

  app.route({
    method: ["GET", "HEAD"],
    url: "/api/videos/:id/hls/*",
    config: { rateLimit: false },
    schema: {
      tags: ["streaming"],
      summary: "HLS master/media playlists, segments and WebVTT subtitles",
      description: "Private videos' playlists are rewritten so every nested URI carries the playback token.",
      params: Type.Object({ id: Type.String(), "*": Type.String() }),
      querystring: TokenQuery,
    },
    handler: async (req, reply) => {
      const params = req.params as { id: string; "*": string };
      await svc.serveHls(req, reply, params.id, params["*"].replace(/\/$/, ""));
    },
  });

  app.post(
    "/api/videos/:id/view/",
    {
      schema: {
        tags: ["streaming"],
        summary: "Reports a view (players that report watch time)",
        description:
          "Counted once per viewer per video per VIEW_WINDOW (an account, else the client address and User-Agent), and at most " +
          "VIEWS_PER_ADDRESS anonymous viewers per address (IPv6: per /64) per video per window; `counted` says whether this one was. " +
          "The detail's `views` follows within seconds.",
        params: IdParams,
        querystring: TokenQuery,
        response: { 202: Type.Object({ counted: Type.Boolean() }), ...mediaErrors },
      },
    },
    async (req, reply) => {
      const access = await svc.authorize(req, req.params.id);
      return reply.status(202).send({ counted: await svc.recordView(req, access) });
    },
  );

  app.get(
    "/api/videos/:id/chapters/",
    {
      schema: {
        tags: ["streaming"],
        summary: "Chapters in seconds; `end` is the next start or the duration",
        params: IdParams,
        querystring: TokenQuery,
        response: { 200: Type.Array(ChapterSchema), ...mediaErrors },
      },
    },
    async (req) => svc.chapters((await svc.authorize(req, req.params.id)).video),
  );

  app.put(
    "/api/videos/:id/chapters/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["streaming"],
        summary: "Replaces the chapters (owner, moderators, admins)",
        description: `Sorted by start, strictly increasing, inside the duration, titles 1-${MAX_CHAPTER_TITLE} characters, at most ${MAX_CHAPTERS}. An empty list clears them (description timestamps apply again).`,
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Array(ChapterInputSchema, { maxItems: MAX_CHAPTERS }),
        response: { 200: Type.Array(ChapterSchema), 401: ErrorResponse, 409: ErrorResponse, ...mediaErrors },
      },
    },
    async (req) => svc.putChapters(req, req.params.id, req.body),
  );

  app.route({
    method: ["GET", "HEAD"],
    url: "/api/videos/:id/chapters.vtt",
    schema: {
      tags: ["streaming"],
      summary: "Chapters as a WebVTT chapters track",
      params: IdParams,
      querystring: TokenQuery,
    },
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      const access = await svc.authorize(req, id);
      await svc.sendText(req, reply, svc.chaptersVtt(access.video), "text/vtt; charset=utf-8", access.video.visibility === "private");
    },
  });

  app.get(
    "/api/videos/:id/segments/",
    {
      schema: {
        tags: ["streaming"],
        summary: "The segmented structure: segments per rung and the segment span of each chapter",
        params: IdParams,
        querystring: TokenQuery,
        response: { 200: SegmentsResponse, ...mediaErrors },
      },
    },
    async (req) => svc.segments(await svc.authorize(req, req.params.id)),
  );
}
