/**
 * Subtitles API: list, upload (SubRip or WebVTT → WebVTT rendition) and delete. Thin: the rules
 * are in SubtitlesService.
 */
import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { notFound } from "../../lib/errors.js";
import { IdParams, NoContent, errors } from "../../lib/schemas.js";
import type { AuthUser, Role } from "../users/index.js";
import { SUBTITLES_MAX_BYTES, type SubtitlesService } from "./subtitles.service.js";
import { readFilePart } from "../../lib/multipart.js";
import type { VideoQueryService } from "./video-query.service.js";
import { SubtitleTrackSchema, VIDEO_DETAIL_EXAMPLE } from "./video.schemas.js";

const LangParams = Type.Object({
  id: Type.String({ format: "uuid" }),
  lang: Type.String({ minLength: 1, maxLength: 35, description: "BCP 47 (`fr`, `fr-CA`) or ISO 639-2 (`fra`); stored as the short form (`fr`)." }),
});

const noTrack = [404, "No such video, or one the caller may not see (`video_not_found`); no track of that language (`subtitles_not_found`)"] as const;
const notAllowed = [403, "Not the owner, a moderator or an admin (`permission_denied`)"] as const;
const notConverted = [409, "The video is not converted yet (`not_converted`, `{status}`), or another request is changing its tracks (`concurrent_update`)"] as const;
const badLanguage = [400, "`invalid_language` (the path's `lang`), `file_required`, or `validation_error`"] as const;

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
        response: {
          200: Type.Array(SubtitleTrackSchema, { description: "The video's subtitle tracks", examples: [VIDEO_DETAIL_EXAMPLE.subtitles] }),
          ...errors([404, "No such video, or one the caller may not see (`video_not_found`)"]),
        },
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
        response: {
          200: { ...SubtitleTrackSchema, description: "The track, replacing the language's previous upload" },
          201: { ...SubtitleTrackSchema, description: "The track, new for its language" },
          ...errors(
            badLanguage,
            notAllowed,
            noTrack,
            notConverted,
            [413, "Over 5 MB (`file_too_large`), or more cues than SUBTITLE_MAX_CUES (`too_many_cues`, `{limit, cues}`)"],
            [415, "Not WebVTT or SubRip (`unsupported_subtitles`), or not multipart/form-data (`unsupported_media_type`)"],
            [422, "Not valid (`invalid_subtitles`, `{format, problems: [{line, message}]}`), or too slow or large to read (`subtitles_too_complex`)"],
            [503, "Too many files are being read right now (`subtitles_busy`, `{retry_after_s}`, `Retry-After`)"],
          ),
        },
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
        response: { 204: NoContent("Removed; the master playlist no longer lists it"), ...errors(badLanguage, notAllowed, noTrack, notConverted) },
      },
    },
    async (req, reply) => {
      await subtitles.remove(req.params.id, req.params.lang, req.user, req.role);
      return reply.status(204).send(null);
    },
  );
}
