/** Catalogue, detail, edit, delete, reprocess and info. Thin: schema in, one service call, schema out. */
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { ErrorResponse, IdParams } from "../../lib/schemas.js";
import { Page } from "../../lib/pagination.js";
import { InfoSchema, VideoDetailSchema, VideoListItemSchema, VideoListQuery, VideoPatchSchema } from "./video.schemas.js";
import type { VideoQueryService } from "./video-query.service.js";

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

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
        response: { 200: Page(VideoListItemSchema), ...errors },
      },
    },
    async (req) => queries.list(req.query, req.user, req.role, req.url, `${req.protocol}://${req.host}`),
  );

  app.get(
    "/api/videos/:id/",
    {
      schema: {
        tags: ["videos"],
        summary: "Video detail",
        description: "Private videos answer their owner, moderators and admins only, with a playback token in every media URL.",
        params: IdParams,
        response: { 200: VideoDetailSchema, ...errors },
      },
    },
    async (req) => queries.detail(req.params.id, req.user, req.role),
  );

  app.get(
    "/api/videos/:id/info/",
    {
      schema: { tags: ["videos"], summary: "Video information (size, duration, languages, codecs, renditions)", params: IdParams, response: { 200: InfoSchema, ...errors } },
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
        params: IdParams,
        body: VideoPatchSchema,
        response: { 200: VideoDetailSchema, ...errors },
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
        response: { 204: Type.Null(), ...errors },
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
        params: IdParams,
        response: { 202: VideoDetailSchema, ...errors, 409: ErrorResponse },
      },
    },
    async (req, reply) => reply.status(202).send(await queries.reprocess(req.params.id, req.user, req.role)),
  );
}
