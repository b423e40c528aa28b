/**
 * Likes and dislikes of videos, likes of comments. Thin: schema in, one service call, schema out.
 * POST sets (idempotent: the same POST again changes nothing), DELETE removes.
 */
import type { App } from "../../lib/app.types.js";
import { IdParams, errors } from "../../lib/schemas.js";
import type { AuthUser } from "../users/index.js";
import type { ReactionService } from "./reaction.service.js";
import { CommentLikeStateSchema, EmptyBody, ReactionStateSchema, type ReactionKind } from "./reactions.schemas.js";

const refusals = errors(
  [403, "The caller's role may not react (`permission_denied`)"],
  [404, "No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`)"],
  [429, "More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`)"],
);
const signedIn = (u: AuthUser | null): AuthUser => u!; // the route's auth config guarantees it

export async function reactionRoutes(app: App, opts: { reactions: ReactionService }): Promise<void> {
  const { reactions } = opts;

  for (const kind of ["like", "dislike"] as const satisfies readonly ReactionKind[]) {
    app.post(
      `/api/videos/:id/${kind}/`,
      {
        config: { auth: { right: "video:react" } },
        schema: {
          tags: ["reactions"],
          summary: `${kind === "like" ? "Like" : "Dislike"} a video`,
          description:
            `Sets your reaction to \`${kind}\` (switching from the other one). Idempotent: the same POST again, a retry or a ` +
            "double click changes nothing. No body (or `{}`). At most 60 reactions a minute per user (429 + Retry-After).",
          params: IdParams,
          body: EmptyBody,
          response: { 200: ReactionStateSchema, ...refusals },
        },
      },
      async (req) => reactions.react(req.params.id, kind, signedIn(req.user), req.role),
    );
    app.delete(
      `/api/videos/:id/${kind}/`,
      {
        config: { auth: { right: "video:react" } },
        schema: {
          tags: ["reactions"],
          summary: `Remove your reaction to a video`,
          description: "Removes your like or dislike, whichever it is (the same on both URLs); nothing to remove changes nothing.",
          params: IdParams,
          response: { 200: ReactionStateSchema, ...refusals },
        },
      },
      async (req) => reactions.unreact(req.params.id, signedIn(req.user), req.role),
    );
  }

  app.post(
    "/api/comments/:id/like/",
    {
      config: { auth: { right: "video:react" } },
      schema: {
        tags: ["comments"],
        summary: "Like a comment",
        description: "Idempotent. No body (or `{}`).",
        params: IdParams,
        body: EmptyBody,
        response: { 200: CommentLikeStateSchema, ...refusals },
      },
    },
    async (req) => reactions.likeComment(req.params.id, true, signedIn(req.user), req.role),
  );
  app.delete(
    "/api/comments/:id/like/",
    {
      config: { auth: { right: "video:react" } },
      schema: { tags: ["comments"], summary: "Unlike a comment", params: IdParams, response: { 200: CommentLikeStateSchema, ...refusals } },
    },
    async (req) => reactions.likeComment(req.params.id, false, signedIn(req.user), req.role),
  );
}
