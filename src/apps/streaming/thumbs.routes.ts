/**
 * Thumbnails: `GET|HEAD /api/videos/{id}/thumbs/{name}` (poster, candidates, storyboard sheet and
 * its WebVTT index, custom poster) and `PUT /api/videos/{id}/poster/` (custom poster upload).
 *
 * Access is the media routes' (the streaming domain's StreamingService.authorize): public and
 * unlisted videos to anyone with the id; private ones to a bearer who may see the video or with
 * the playback token `?token=` the detail puts in every URL (a wrong or expired token: 403). Bytes
 * go out through the streaming domain's ObjectSender: ETag/Last-Modified, conditional requests
 * and ranges like every other media file.
 */
import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { createHash } from "node:crypto";
import { notFound } from "../../lib/errors.js";
import { readFilePart } from "../../lib/multipart.js";
import { isNotFoundError, type Storage } from "../../platform/storage/storage.js";
import { IdParams, errors } from "../../lib/schemas.js";
import { POSTER_MAX_BYTES, VideoDetailSchema, videoKeys, type PosterService, type VideoQueryService } from "../videos/index.js";
import { CUSTOM_POSTER_NAME, THUMBS_DIR, thumbCacheControl, thumbContentType } from "../../contracts/media-layout.js";
import { BufferSource, type ObjectSender } from "./object-sender.js";
import type { StreamingService } from "./streaming.service.js";
import { MEDIA_SECURITY, mediaResponses } from "./streaming.routes.js";

/**
 * The storyboard index of a private video: its cues' image URIs are relative to the VTT, which the
 * player fetched with `?token=`, but a relative reference does not inherit the query; so each one
 * gets the token, as private HLS playlists' URIs do.
 */
export function tokenizeStoryboardVtt(vtt: string, token: string): string {
  const q = `token=${encodeURIComponent(token)}`;
  return vtt.replace(/^([A-Za-z0-9_.-]+\.(?:jpg|webp))(\?[^#\s]*)?(#xywh=)/gm, (_, file: string, query: string | undefined, frag: string) => `${file}${query ? `${query}&${q}` : `?${q}`}${frag}`);
}


export interface ThumbRoutesOptions {
  queries: VideoQueryService;
  posters: PosterService;
  storage: Storage;
  /** media access rules (public/unlisted/private, playback tokens) */
  service: StreamingService;
  /** conditional requests, ranges and ETags, as for every other media file */
  sender: ObjectSender;
}

export async function thumbRoutes(app: App, opts: ThumbRoutesOptions): Promise<void> {
  const { queries, posters, storage } = opts;
  const s = { service: opts.service, sender: opts.sender };
  // Encapsulated plugin: multipart parsing only for the poster upload.
  await app.register(multipart, { limits: { fileSize: POSTER_MAX_BYTES, files: 1, fields: 10, parts: 11, headerPairs: 100 } });

  app.route({
    method: ["GET", "HEAD"],
    url: "/api/videos/:id/thumbs/:name",
    config: { rateLimit: false },
    schema: {
      tags: ["videos"],
      summary: "A thumbnail: poster, candidate, storyboard sprite sheet and its WebVTT index, custom poster",
      description:
        "Names: `poster.jpg`, `c0.jpg`…`c4.jpg`, `storyboard.jpg`, `storyboard.vtt` (cues `storyboard.jpg#xywh=x,y,w,h`), `custom-poster.jpg`. " +
        "Private videos need `?token=` (the detail's URLs carry it) or the owner's/staff bearer.",
      security: MEDIA_SECURITY,
      params: Type.Object({ id: Type.String(), name: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096, description: "Playback token (private videos)." })) }),
      response: mediaResponses(["image/jpeg", "image/webp", "text/vtt"], "The image or storyboard index"),
    },
    handler: async (req, reply) => {
      const { id, name } = req.params as { id: string; name: string };
      const access = await s.service.authorize(req, id);
      const contentType = thumbContentType(name);
      if (!contentType) throw notFound("No such thumbnail.", "thumbnail_not_found");
      const key = `${videoKeys.prefix(id)}${THUMBS_DIR}/${name}`;
      const isPrivate = access.video.visibility === "private";
      if (isPrivate && access.token && name.endsWith(".vtt")) {
        const obj = await s.sender.readAll(key);
        if (!obj) throw notFound("No such thumbnail.", "thumbnail_not_found");
        const body = Buffer.from(tokenizeStoryboardVtt(obj.body.toString("utf8"), access.token), "utf8");
        // Differs per token: never stored by a cache.
        return s.sender.send(req, reply, new BufferSource(body), { contentType, cacheControl: "private, no-store" });
      }
      const cacheControl = thumbCacheControl(name, isPrivate);
      if (name.startsWith("custom-poster.")) {
        if (name !== CUSTOM_POSTER_NAME) throw notFound("No such thumbnail.", "thumbnail_not_found");
        // Read afresh (the sender's open-file cache could serve the replaced file for a moment);
        // the ETag is the content's hash, so revalidation is exact. Stored with the uploads
        // (`uploads/poster.jpg`), or under `thumbs/` for videos from before `uploads/`.
        const read = (k: string) =>
          storage.getBuffer(k).catch((err: unknown) => {
            if (isNotFoundError(err)) return null;
            throw err;
          });
        const body = (await read(videoKeys.uploadedPoster(id))) ?? (await read(key));
        if (!body) throw notFound("No such thumbnail.", "thumbnail_not_found");
        const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
        return s.sender.send(req, reply, new BufferSource(body, etag), { contentType, cacheControl });
      }
      if (s.service.offload) {
        if (!(await s.service.offload.send(reply, key, { contentType, cacheControl }))) throw notFound("No such thumbnail.", "thumbnail_not_found");
        return;
      }
      const src = await s.sender.open(key);
      if (!src) throw notFound("No such thumbnail.", "thumbnail_not_found");
      return s.sender.send(req, reply, src, { contentType, cacheControl });
    },
  });

  app.put(
    "/api/videos/:id/poster/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["videos"],
        summary: "Upload a custom poster (owner, moderators, admins)",
        description:
          "multipart/form-data with the image in the field `file` (max 5 MB). JPEG, PNG, GIF, WebP or AVIF, recognised by content, " +
          "not name; re-encoded to a JPEG of at most 1280 px on its longer side. Others: 415; larger: 413. " +
          "`PATCH /api/videos/{id}/` with `poster_candidate` switches back to a generated one.",
        security: [{ bearer: [] }],
        params: IdParams,
        // Documentation only: this schema has no `type`, so it accepts the (unparsed) multipart body.
        body: {
          content: {
            "multipart/form-data": { schema: { properties: { file: { type: "string", format: "binary", description: "the image" } }, required: ["file"] } },
          },
        },
        response: {
          200: { ...VideoDetailSchema, description: "The video, with the new poster" },
          ...errors(
            [400, "No file part (`file_required`)"],
            [403, "Not the owner, a moderator or an admin (`permission_denied`)"],
            [404, "No such video, or one the caller may not see (`video_not_found`)"],
            [413, "Over 5 MB (`file_too_large`) or too many pixels (`image_too_large`, `{width, height}`)"],
            [415, "Not an image we read (`unsupported_image`), or not multipart/form-data (`unsupported_media_type`)"],
          ),
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      await posters.setCustom(id, () => readFilePart(req), req.user, req.role);
      return queries.detail(id, req.user, req.role);
    },
  );
}
