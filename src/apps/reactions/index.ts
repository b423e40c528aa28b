/**
 * The reactions domain's public face: the composition root imports this file only. Likes and
 * dislikes of videos, comments with one level of replies, comment likes, reports and moderation,
 * and the viewers' live channel of a video.
 */
export { createReactionsModule, registerReactionsRoutes, type ReactionsDeps, type ReactionsModule, type ReactionsRoutesOptions } from "./reactions.module.js";
export type { ReactionService } from "./reaction.service.js";
export type { CommentService } from "./comment.service.js";
export type { ModerationService } from "./moderation.service.js";
export type { LiveEventsService } from "./live-events.service.js";
export { REACTION_KINDS, MAX_COMMENT_CODE_POINTS, type ReactionKind, type ReactionState, type Comment, type Reply, type Report } from "./reactions.schemas.js";
