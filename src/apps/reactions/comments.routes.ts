/**
 * Comments of a video, their replies, edits, deletions and the owner's pin. Thin: schema in, one
 * service call, schema out. Bodies are capped at 64 KB (5,000 emoji escaped in JSON fit).
 */
import type { FastifyRequest } from "fastify";
import type { App } from "../../lib/app.types.js";
import { Page, PageQuery } from "../../lib/pagination.js";
import { IdParams, NoContent, errors as errorsOf } from "../../lib/schemas.js";
import { pageExample } from "../../lib/pagination.js";
import type { AuthUser } from "../users/index.js";
import type { CommentService, PageLinks } from "./comment.service.js";
import {
  COMMENT_BODY_LIMIT,
  CommentCreateSchema,
  CommentListQuery,
  CommentPatchSchema,
  CommentSchema,
  EmptyBody,
  RecentCommentsQuery,
  ReplySchema,
} from "./reactions.schemas.js";

const notFound = [404, "No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`)"] as const;
const writeErrors = errorsOf(
  [400, "`validation_error`, `comment_empty`, `comment_too_long`, `invalid_text`, `invalid_utf8`, `invalid_parent` (entries name `text` or `parent_id`)"],
  [403, "Comments are off (`comments_disabled`), the author is blocked or hidden (`comment_blocked`), or not the author (`permission_denied`)"],
  notFound,
  [413, "The body is over 64 KB (`payload_too_large`)"],
  [429, "More than COMMENT_RATE_LIMIT comments this minute (`throttled`, `{retry_after_s}`, `Retry-After`)"],
);
const pinErrors = errorsOf(
  [400, "Only a top-level, not deleted comment can be pinned (`not_top_level`, `comment_deleted`)"],
  [403, "Not the video's owner (`permission_denied`)"],
  notFound,
);
const signedIn = (u: AuthUser | null): AuthUser => u!; // the route's auth config guarantees it
const linksOf = (req: FastifyRequest): PageLinks => ({ requestUrl: req.url, baseUrl: req.publicBase });

export interface CommentRoutesOptions {
  comments: CommentService;
}

export async function commentRoutes(app: App, opts: CommentRoutesOptions): Promise<void> {
  const { comments } = opts;

  app.post(
    "/api/videos/:id/comment/",
    {
      bodyLimit: COMMENT_BODY_LIMIT,
      config: { auth: { right: "comment:create" } },
      schema: {
        tags: ["comments"],
        summary: "Comment on a video, or reply to a comment",
        description:
          "`text`: trimmed, then 1–5,000 Unicode code points, stored and returned as plain text (markup stays text). " +
          "`parent_id` makes it a reply; a reply to a reply attaches to the top-level comment. Refused: empty text " +
          "(`comment_empty`), too long (`comment_too_long`), null bytes or lone surrogates (`invalid_text`), invalid UTF-8 " +
          "(`invalid_utf8`), a parent of another video or deleted (`invalid_parent`), comments off (403 `comments_disabled`), " +
          "a blocked or hidden commenter (403 `comment_blocked`), a body over 64 KB (413), more than 10 a minute (429).",
        params: IdParams,
        body: CommentCreateSchema,
        response: { 201: CommentSchema, ...writeErrors },
      },
    },
    async (req, reply) => reply.status(201).send(await comments.create(req.params.id, req.body, signedIn(req.user), req.role)),
  );

  app.get(
    "/api/videos/:id/comments/",
    {
      schema: {
        tags: ["comments"],
        summary: "Comments of a video",
        description:
          "Top-level comments, the pinned one first (on the first page, outside the ordering), each with its first 3 replies. " +
          "`?ordering=` `-created` (default), `created` or `-likes`; `?limit=` and `?cursor=` as everywhere.",
        params: IdParams,
        querystring: CommentListQuery,
        response: {
          200: Page(CommentSchema, { description: "A page of top-level comments", examples: [pageExample("/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/comments/", CommentSchema.examples[0])] }),
          ...errorsOf([400, "Invalid query (`validation_error`, e.g. `enum` for `ordering`; `invalid_cursor`)"], notFound),
        },
      },
    },
    async (req) => comments.list(req.params.id, req.query, req.user, req.role, linksOf(req)),
  );

  app.get(
    "/api/comments/:id/replies/",
    {
      schema: {
        tags: ["comments"],
        summary: "Replies of a comment, oldest first",
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: Page(ReplySchema, { description: "A page of replies", examples: [pageExample("/api/comments/0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11/replies/", ReplySchema.examples[0])] }),
          ...errorsOf([400, "Invalid query (`validation_error`, `invalid_cursor`)"], notFound),
        },
      },
    },
    async (req) => comments.replies(req.params.id, req.query, req.user, req.role, linksOf(req)),
  );

  app.get(
    "/api/comments/",
    {
      config: { auth: { right: "comment:moderate" } },
      schema: {
        tags: ["moderation"],
        summary: "Recent comments across every video (moderators, admins)",
        querystring: RecentCommentsQuery,
        response: {
          200: Page(ReplySchema, { description: "A page of comments, newest first", examples: [pageExample("/api/comments/", ReplySchema.examples[0])] }),
          ...errorsOf([400, "Invalid query (`validation_error`, `invalid_cursor`)"]),
        },
      },
    },
    async (req) => comments.recent(req.query, linksOf(req)),
  );

  app.patch(
    "/api/comments/:id/",
    {
      bodyLimit: COMMENT_BODY_LIMIT,
      config: { auth: { right: "comment:create" } },
      schema: {
        tags: ["comments"],
        summary: "Edit your comment",
        description: "The author only; the comment is marked `edited`. Same text rules as on creation. Read-only when comments are off.",
        params: IdParams,
        body: CommentPatchSchema,
        response: { 200: CommentSchema, ...writeErrors },
      },
    },
    async (req) => comments.edit(req.params.id, req.body.text, signedIn(req.user), req.role),
  );

  app.delete(
    "/api/comments/:id/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["comments"],
        summary: "Delete a comment (author, the video's owner, moderators, admins)",
        description: "A comment with replies stays as a `deleted: true` placeholder without text or author; without replies it goes.",
        params: IdParams,
        response: { 204: NoContent("Deleted (or kept as a placeholder when it has replies)"), ...errorsOf(notFound, [403, "Not the author, the video's owner, a moderator or an admin (`permission_denied`)"]) },
      },
    },
    async (req, reply) => {
      await comments.remove(req.params.id, signedIn(req.user), req.role);
      return reply.status(204).send(null);
    },
  );

  for (const pin of [true, false]) {
    const route = {
      config: { auth: { required: true } },
      schema: {
        tags: ["comments"],
        summary: pin ? "Pin a top-level comment (the video's owner)" : "Unpin a comment (the video's owner)",
        description: pin ? "One pinned comment per video: pinning another replaces it. No body (or `{}`)." : "Unpinning a comment that is not pinned changes nothing.",
        params: IdParams,
        ...(pin ? { body: EmptyBody } : {}),
        response: { 200: CommentSchema, ...pinErrors },
      },
    };
    const handler = async (req: FastifyRequest<{ Params: { id: string } }>) => comments.pin(req.params.id, pin, signedIn(req.user), req.role);
    if (pin) app.post("/api/comments/:id/pin/", route, handler);
    else app.delete("/api/comments/:id/pin/", route, handler);
  }
}
