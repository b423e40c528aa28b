/**
 * Reports, the moderators' queue, commenting blocks and the owner's hidden commenters. Thin:
 * schema in, one service call, schema out.
 */
import type { FastifyRequest } from "fastify";
import type { App } from "../../lib/app.types.js";
import { Page, pageExample } from "../../lib/pagination.js";
import { IdParams, NoContent, errors as errorsOf } from "../../lib/schemas.js";
import type { AuthUser } from "../users/index.js";
import type { ModerationService } from "./moderation.service.js";
import {
  BlockCreateSchema,
  BlockListed,
  BlockListQuery,
  BlockSchema,
  COMMENT_BODY_LIMIT,
  ModerationReportSchema,
  ReportCreateSchema,
  ReportListQuery,
  ReportSchema,
  ResolveReportSchema,
  UserIdParams,
} from "./reactions.schemas.js";

const errors = errorsOf(
  [403, "Not a moderator or an admin (`permission_denied`)"],
  [404, "No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`)"],
);
const signedIn = (u: AuthUser | null): AuthUser => u!; // the route's auth config guarantees it
const linksOf = (req: FastifyRequest) => ({ requestUrl: req.url, baseUrl: req.publicBase });

export async function moderationRoutes(app: App, opts: { moderation: ModerationService }): Promise<void> {
  const { moderation } = opts;

  for (const kind of ["comment", "video"] as const) {
    app.post(
      `/api/${kind}s/:id/report/`,
      {
        bodyLimit: COMMENT_BODY_LIMIT,
        config: { auth: { required: true } },
        schema: {
          tags: ["moderation"],
          summary: `Report a ${kind}`,
          description: "Any signed-in account. 201 with the new report; 200 with the same report while yours on it is still open.",
          params: IdParams,
          body: ReportCreateSchema,
          response: {
            201: { ...ReportSchema, description: "Reported" },
            200: { ...ReportSchema, description: "Your open report on it, unchanged" },
            ...errorsOf([404, `No such ${kind}, or one the caller may not see`], [413, "The body is over 64 KB (`payload_too_large`)"]),
          },
        },
      },
      async (req, reply) => {
        const r = await moderation.report(kind, req.params.id, req.body, signedIn(req.user), req.role);
        return reply.status(r.created ? 201 : 200).send(r.report);
      },
    );
  }

  app.get(
    "/api/moderation/reports/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: {
        tags: ["moderation"],
        summary: "Reports, newest first, with the reported content (moderators, admins)",
        description: "`?status=` `open` (default), `dismissed` or `removed`.",
        querystring: ReportListQuery,
        response: {
          200: Page(ModerationReportSchema, { description: "A page of reports", examples: [pageExample("/api/moderation/reports/", ModerationReportSchema.examples[0])] }),
          ...errors,
          ...errorsOf([400, "Invalid query (`validation_error`, `invalid_cursor`)"]),
        },
      },
    },
    async (req) => moderation.listReports(req.query, linksOf(req)),
  );

  app.post(
    "/api/moderation/reports/:id/resolve/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: {
        tags: ["moderation"],
        summary: "Resolve a report (moderators, admins)",
        description: "`dismiss` closes it; `remove` deletes the comment or video and closes every open report on it.",
        params: IdParams,
        body: ResolveReportSchema,
        response: { 200: { ...ReportSchema, description: "The resolved report" }, ...errors, ...errorsOf([400, "Already resolved (`report_resolved`) or invalid (`validation_error`)"]) },
      },
    },
    async (req) => moderation.resolve(req.params.id, req.body, signedIn(req.user)),
  );

  app.post(
    "/api/moderation/blocks/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: {
        tags: ["moderation"],
        summary: "Block a user from commenting anywhere (moderators, admins)",
        description: "Their new comments get 403 `comment_blocked`; existing ones stay. Blocking again updates the reason.",
        body: BlockCreateSchema,
        response: { 201: { ...BlockSchema, description: "Blocked (or the block's reason updated)" }, ...errors },
      },
    },
    async (req, reply) => reply.status(201).send(await moderation.block(req.body.user_id, req.body.reason, signedIn(req.user))),
  );

  app.get(
    "/api/moderation/blocks/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: {
        tags: ["moderation"],
        summary: "Commenting blocks, newest first (moderators, admins)",
        querystring: BlockListQuery,
        response: {
          200: Page(BlockListed, { description: "A page of blocks", examples: [pageExample("/api/moderation/blocks/", BlockListed.examples[0])] }),
          ...errors,
          ...errorsOf([400, "Invalid query (`validation_error`, `invalid_cursor`)"]),
        },
      },
    },
    async (req) => moderation.listBlocks(req.query, linksOf(req)),
  );

  app.delete(
    "/api/moderation/blocks/:user_id/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: { tags: ["moderation"], summary: "Lift a commenting block", params: UserIdParams, response: { 204: NoContent("Lifted (or there was none)"), ...errors } },
    },
    async (req, reply) => {
      await moderation.unblock(req.params.user_id);
      return reply.status(204).send(null);
    },
  );

  app.put(
    "/api/users/me/hidden-commenters/:user_id/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["moderation"],
        summary: "Hide a user from your videos",
        description: "Their comments disappear from your videos and new ones are refused (403 `comment_blocked`). Idempotent.",
        params: UserIdParams,
        response: { 204: NoContent("Hidden"), ...errorsOf([400, "You cannot hide yourself (`cannot_hide_self`)"], [404, "No such user (`user_not_found`)"]) },
      },
    },
    async (req, reply) => {
      await moderation.hide(signedIn(req.user), req.params.user_id);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    "/api/users/me/hidden-commenters/:user_id/",
    {
      config: { auth: { required: true } },
      schema: { tags: ["moderation"], summary: "Show a hidden user's comments on your videos again", params: UserIdParams, response: { 204: NoContent("Shown again (or was not hidden)"), ...errorsOf([404, "No such user (`user_not_found`)"]) } },
    },
    async (req, reply) => {
      await moderation.unhide(signedIn(req.user), req.params.user_id);
      return reply.status(204).send(null);
    },
  );
}
