/** Catalogue, detail, edit, delete, reprocess and info. Thin: schema in, one service call, schema out. */
import type { App } from "../../lib/app.types.js";
import { IdParams, NoContent, errors } from "../../lib/schemas.js";
import { Page, pageExample } from "../../lib/pagination.js";
import { InfoSchema, VIDEO_LIST_ITEM_EXAMPLE, VideoDetailSchema, VideoListItemSchema, VideoListQuery, VideoPatchSchema } from "./video.schemas.js";
import type { VideoQueryService } from "./video-query.service.js";

const notFound = [404, "No such video, or one the caller may not see (`video_not_found`)"] as const;
const VideoPage = Page(VideoListItemSchema, { description: "A page of videos", examples: [pageExample("/api/videos/", VIDEO_LIST_ITEM_EXAMPLE)] });

export async function videoRoutes(app: App, opts: { queries: VideoQueryService }): Promise<void> {
  const { queries } = opts;

  app.get(
    "/api/videos/",
    {
      schema: {
        tags: ["videos"],
        summary: "List videos",
        description:
          "Public playable videos, plus your own (any status) when signed in, and everything for moderators and admins. " +
          "`?search=` matches title and description; `?ordering=` is `-created` (default), `created`, `-views` or `-likes`.",
        querystring: VideoListQuery,
        response: { 200: VideoPage, ...errors([400, "Invalid query (`validation_error`, `invalid_cursor`)"]) },
      },
    },
    async (req) => queries.list(req.query, req.user, req.role, req.url, req.publicBase),
  );

  app.get(
    "/api/videos/:id/",
    {
      schema: {
        tags: ["videos"],
        summary: "Video detail",
        description: "Private videos answer their owner, moderators and admins only, with a playback token in every media URL.",
        params: IdParams,
        response: { 200: VideoDetailSchema, ...errors(notFound) },
      },
    },
    async (req) => queries.detail(req.params.id, req.user, req.role),
  );

  app.get(
    "/api/videos/:id/info/",
    {
      schema: { tags: ["videos"], summary: "Video information (size, duration, languages, codecs, renditions)", params: IdParams, response: { 200: InfoSchema, ...errors(notFound) } },
    },
    async (req) => (await queries.detail(req.params.id, req.user, req.role)).info,
  );

  app.patch(
    "/api/videos/:id/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["videos"],
        summary: "Edit a video (owner, moderators, admins)",
        description: "Any of title, description, visibility, language, poster_candidate (a generated poster), comments_enabled. Answers the updated video.",
        params: IdParams,
        body: VideoPatchSchema,
        response: {
          200: VideoDetailSchema,
          ...errors(
            [400, "Invalid fields (`validation_error`, `title_blank`, `invalid_poster_candidate`)"],
            [403, "Not the owner, a moderator or an admin (`permission_denied`)"],
            notFound,
          ),
        },
      },
    },
    async (req) => queries.update(req.params.id, req.body, req.user, req.role),
  );

  app.delete(
    "/api/videos/:id/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["videos"],
        summary: "Delete a video and every file of it (cancels a running conversion)",
        params: IdParams,
        response: { 204: NoContent("Deleted, with its files"), ...errors([403, "Not the owner, a moderator or an admin (`permission_denied`)"], notFound) },
      },
    },
    async (req, reply) => {
      await queries.remove(req.params.id, req.user, req.role);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/videos/:id/reprocess/",
    {
      config: { auth: { right: "video:reprocess" } },
      schema: {
        tags: ["videos"],
        summary: "Re-run the conversion from the kept original (admins)",
        description: "Answers the video, queued again. Counts against the owner's MAX_QUEUED_CONVERSIONS like a new upload.",
        params: IdParams,
        response: {
          202: { ...VideoDetailSchema, description: "Queued for conversion again" },
          ...errors(
            notFound,
            [409, "No original to convert (`original_missing`: KEEP_ORIGINALS=false), or the upload is not finished (`not_ready`)"],
            [429, "The owner has MAX_QUEUED_CONVERSIONS conversions in flight (`conversion_queue_full`, `{queued, limit, retry_after_s}`)"],
          ),
        },
      },
    },
    async (req, reply) => reply.status(202).send(await queries.reprocess(req.params.id, req.user, req.role)),
  );
}
