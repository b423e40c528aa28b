/**
 * Streaming routes: progressive MP4 per rung, HLS files, views, chapters (JSON and WebVTT) and
 * the segmented structure. Thin: parsing and response shapes here, decisions in StreamingService.
 * Media routes are exempt from the global request-rate limit: a player legitimately issues a
 * request per segment or seek, and bytes, not request counts, are the cost of media.
 */
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { IdParams, errors } from "../../lib/schemas.js";
import type { SecurityRequirement } from "../../lib/openapi.js";
import { MAX_CHAPTER_TITLE, MAX_CHAPTERS } from "../videos/index.js";
import type { StreamingService } from "./streaming.service.js";

/** Media: public and unlisted to anyone, private with the playback token or the owner's/staff bearer. */
export const MEDIA_SECURITY: SecurityRequirement[] = [{}, { playbackToken: [] }, { bearer: [] }];

const header = (description: string) => Type.String({ description });
/** The headers of a media answer (ObjectSender: validators, ranges, caching). */
const MEDIA_HEADERS = {
  "Content-Length": header("bytes of this answer's body"),
  "Accept-Ranges": header("`bytes`"),
  ETag: header("strong validator, for If-None-Match / If-Range"),
  "Last-Modified": header("for If-Modified-Since"),
  "Cache-Control": header("immutable for segments and renditions, short for playlists, `private, no-store` for private videos"),
};

/**
 * Every answer a media route can give (object-sender.ts plans them from RFC 9110's conditional
 * and range rules), with the content types of a full answer.
 */
export function mediaResponses(contentTypes: readonly string[], what: string) {
  const binary = { type: "string", format: "binary" } as const;
  const content = Object.fromEntries(contentTypes.map((t) => [t, { schema: binary }]));
  return {
    200: {
      description:
        `${what}: the whole file (also for a malformed Range, or more than 20 ranges). ` +
        "With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here",
      headers: MEDIA_HEADERS,
      content,
    },
    206: {
      description: "Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6)",
      headers: { ...MEDIA_HEADERS, "Content-Range": header("`bytes first-last/size` (single range)") },
      content: { ...content, "multipart/byteranges": { schema: binary } },
    },
    302: Type.Null({ description: "S3_STREAM_MODE=redirect: a presigned URL of the object", headers: { Location: header("the presigned URL") } }),
    304: Type.Null({ description: "Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry", headers: MEDIA_HEADERS }),
    ...errors(
      [400, "Invalid path or query (`validation_error`)"],
      [403, "A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`)"],
      [404, "No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`)"],
      [412, "If-Match / If-Unmodified-Since failed (`precondition_failed`)"],
      [416, "Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes */size`)"],
    ),
  };
}

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096, description: "Playback token (private videos)." })) });

const CHAPTERS_EXAMPLE = [
  { index: 0, title: "Harbour", start: 0, end: 30 },
  { index: 1, title: "Market", start: 30, end: 62.5 },
];
const ChapterSchema = Type.Object({
  index: Type.Integer(),
  title: Type.String(),
  start: Type.Number({ description: "seconds" }),
  end: Type.Number({ description: "seconds" }),
});
const ChapterList = Type.Array(ChapterSchema, { description: "The chapters, in order", examples: [CHAPTERS_EXAMPLE] });

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
const SegmentsResponse = Type.Object(
  {
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
  },
  {
    description: "Segments per rung, and the segments each chapter spans",
    examples: [
      {
        renditions: [
          {
            quality: "480p",
            playlist_uri: "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/480p/index.m3u8",
            target_duration: 4,
            ended: true,
            segments: [{ index: 0, uri: "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/480p/seg_00000.ts", start: 0, duration: 4 }],
          },
        ],
        chapters: [{ index: 0, title: "Harbour", start: 0, end: 30, segments: { "480p": { first: 0, last: 7 } } }],
      },
    ],
  },
);

const mediaErrors = errors(
  [403, "A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`)"],
  [404, "No such video, or a private one without credentials (`video_not_found`)"],
);

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
      security: MEDIA_SECURITY,
      params: Type.Object({ id: Type.String(), quality: Type.String({ pattern: "^[0-9]{2,4}p$", description: "a rung of the video (`480p`)" }) }),
      querystring: TokenQuery,
      headers: Type.Object({
        range: Type.Optional(Type.String({ description: "`bytes=0-1023`, `bytes=-500`, several comma-separated (RFC 9110 §14.2)" })),
        "if-range": Type.Optional(Type.String()),
        "if-none-match": Type.Optional(Type.String()),
        "if-modified-since": Type.Optional(Type.String()),
        "if-match": Type.Optional(Type.String()),
        "if-unmodified-since": Type.Optional(Type.String()),
      }),
      response: mediaResponses(["video/mp4"], "The MP4"),
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
      security: MEDIA_SECURITY,
      params: Type.Object({ id: Type.String(), "*": Type.String({ description: "`master.m3u8`, a rung's `480p/index.m3u8`, its segments, audio and subtitle renditions" }) }),
      querystring: TokenQuery,
      response: mediaResponses(["application/vnd.apple.mpegurl", "video/mp2t", "video/mp4", "audio/mp4", "text/vtt"], "The playlist, segment or subtitle file"),
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
        security: MEDIA_SECURITY,
        params: IdParams,
        querystring: TokenQuery,
        response: {
          202: Type.Object(
            { counted: Type.Boolean({ description: "whether this view counted (false: seen in this window, or the address's cap reached)" }) },
            { description: "Received", examples: [{ counted: true }] },
          ),
          ...mediaErrors,
        },
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
        security: MEDIA_SECURITY,
        params: IdParams,
        querystring: TokenQuery,
        response: { 200: ChapterList, ...mediaErrors },
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
        body: Type.Array(ChapterInputSchema, { maxItems: MAX_CHAPTERS, examples: [[{ title: "Harbour", start: 0 }, { title: "Market", start: 30 }]] }),
        response: {
          200: ChapterList,
          ...errors(
            [400, "Invalid chapters (`validation_error`: entries name `<index>.title` or `<index>.start` with codes such as `not_increasing`, `out_of_range`, `max_length`)"],
            [403, "Not the owner, a moderator or an admin (`permission_denied`)"],
            [404, "No such video, or one the caller may not see (`video_not_found`)"],
            [409, "The duration is not known yet (`duration_unknown`)"],
          ),
        },
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
      security: MEDIA_SECURITY,
      params: IdParams,
      querystring: TokenQuery,
      response: mediaResponses(["text/vtt"], "The WebVTT chapters track"),
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
        security: MEDIA_SECURITY,
        params: IdParams,
        querystring: TokenQuery,
        response: { 200: SegmentsResponse, ...errors([404, "No such video, a private one without credentials, or no segments yet (`video_not_found`, `media_not_available`)"]), ...mediaErrors },
      },
    },
    async (req) => svc.segments(await svc.authorize(req, req.params.id)),
  );
}
