/**
 * Subtitles API: list, upload (SubRip or WebVTT → WebVTT rendition) and delete. Thin: the rules
 * are in SubtitlesService.
 */
import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { notFound } from "../../lib/errors.js";
import { ErrorResponse, IdParams } from "../../lib/schemas.js";
import type { AuthUser, Role } from "../users/index.js";
import { SUBTITLES_MAX_BYTES, type SubtitlesService } from "./subtitles.service.js";
import { readFilePart } from "../../lib/multipart.js";
import type { VideoQueryService } from "./video-query.service.js";
import { SubtitleTrackSchema } from "./video.schemas.js";

const LangParams = Type.Object({
  id: Type.String({ format: "uuid" }),
  lang: Type.String({ minLength: 1, maxLength: 35, description: "BCP 47 (`fr`, `fr-CA`) or ISO 639-2 (`fra`); stored as the short form (`fr`)." }),
});

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export async function subtitleRoutes(app: App, opts: { queries: VideoQueryService; subtitles: SubtitlesService }): Promise<void> {
  const { queries, subtitles } = opts;
  // Encapsulated plugin: multipart parsing only for these routes.
  await app.register(multipart, { limits: { fileSize: SUBTITLES_MAX_BYTES, files: 1, fields: 10, parts: 11, headerPairs: 100 } });

  /** The uploaded track as the API lists it (URL with the playback token for private videos). */
  const uploadedTrack = async (id: string, lang: string, user: AuthUser | null, role: Role) => {
    const list = (await queries.detail(id, user, role)).subtitles;
    const track = list.find((s) => s.lang === lang && s.source === "upload");
    if (!track) throw notFound(`This video has no uploaded ${lang} subtitles.`, "subtitles_not_found");
    return track;
  };

  app.get(
    "/api/videos/:id/subtitles/",
    {
      schema: {
        tags: ["videos"],
        summary: "Subtitle tracks: from the source and uploaded",
        description: "An uploaded track replaces the source track of its language. `url` is the WebVTT file (with the playback token for private videos).",
        params: IdParams,
        response: { 200: Type.Array(SubtitleTrackSchema), ...errors },
      },
    },
    async (req) => (await queries.detail(req.params.id, req.user, req.role)).subtitles,
  );

  app.put(
    "/api/videos/:id/subtitles/:lang/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["videos"],
        summary: "Add or replace the uploaded subtitles of a language (owner, moderators, admins)",
        description:
          "multipart/form-data with the file in the field `file` (max 5 MB): WebVTT or SubRip (.srt), recognised by content, not name; " +
          "UTF-8, UTF-16 with BOM or Windows-1252. Converted to WebVTT and validated (parseable cues, end after start, cues in start order): " +
          "422 `invalid_subtitles` lists the problems by line (also hours beyond 999 and cues starting more than 60 s after the video's end); " +
          "other files 415; larger 413 `file_too_large`; more cues than SUBTITLE_MAX_CUES (default 20,000) 413 `too_many_cues` with `{limit, cues}`; " +
          "too many files being read at once 503 `subtitles_busy` with `Retry-After`. The master playlist gains (or updates) the " +
          "SUBTITLES rendition, and every later conversion (reprocess) keeps it. Only once the video is converted (409 `not_converted` before). " +
          "201 for a new track, 200 for a replaced one.",
        security: [{ bearer: [] }],
        params: LangParams,
        // Documentation only: this schema has no `type`, so it accepts the (unparsed) multipart body.
        body: {
          content: {
            "multipart/form-data": { schema: { properties: { file: { type: "string", format: "binary", description: ".vtt or .srt" } }, required: ["file"] } },
          },
        },
        response: { 200: SubtitleTrackSchema, 201: SubtitleTrackSchema, ...errors, 409: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 422: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (req, reply) => {
      const { id, lang } = req.params;
      const r = await subtitles.upload(id, lang, () => readFilePart(req), req.user, req.role);
      return reply.status(r.created ? 201 : 200).send(await uploadedTrack(id, r.lang, req.user, req.role));
    },
  );

  app.delete(
    "/api/videos/:id/subtitles/:lang/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["videos"],
        summary: "Remove the subtitles of a language (owner, moderators, admins)",
        description:
          "Removes the uploaded track of the language, which brings back a source track it replaced; without an uploaded track, removes " +
          "the source track(s) of the language. The master playlist is rewritten. 404 when the language has no track.",
        security: [{ bearer: [] }],
        params: LangParams,
        response: { 204: Type.Null(), ...errors, 409: ErrorResponse },
      },
    },
    async (req, reply) => {
      await subtitles.remove(req.params.id, req.params.lang, req.user, req.role);
      return reply.status(204).send(null);
    },
  );
}
