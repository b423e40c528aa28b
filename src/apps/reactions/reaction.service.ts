/**
 * Likes and dislikes of videos, likes of comments. Setting is idempotent (the same POST again,
 * a retry or a double click changes nothing); every answer is the state after the change. Count
 * changes go out on the live channel as `reactions` events.
 */
import { badRequest } from "../../lib/errors.js";
import type { AuthUser, Role } from "../users/index.js";
import type { LiveEventsService } from "./live-events.service.js";
import type { PostLimiter } from "./post-limiter.js";
import type { ReactionRepository } from "./reaction.repository.js";
import type { CommentLikeState, ReactionKind, ReactionState } from "./reactions.schemas.js";
import type { VideoGate } from "./video-gate.js";

export class ReactionService {
  constructor(
    private readonly repo: ReactionRepository,
    private readonly gate: VideoGate,
    private readonly limiter: PostLimiter,
    private readonly live: LiveEventsService,
  ) {}

  async myReaction(videoId: string, userId: string): Promise<ReactionKind | null> {
    return this.repo.kindOf(userId, videoId);
  }

  async react(videoId: string, kind: ReactionKind, user: AuthUser, role: Role): Promise<ReactionState> {
    await this.gate.video(videoId, user, role);
    await this.limiter.hit("reaction", user.id);
    const changed = await this.repo.set(user.id, videoId, kind);
    return this.answer(videoId, user.id, changed);
  }

  /** DELETE on either URL removes the caller's reaction, whichever it is. */
  async unreact(videoId: string, user: AuthUser, role: Role): Promise<ReactionState> {
    await this.gate.video(videoId, user, role);
    await this.limiter.hit("reaction", user.id);
    const changed = await this.repo.remove(user.id, videoId);
    return this.answer(videoId, user.id, changed);
  }

  async likeComment(commentId: string, like: boolean, user: AuthUser, role: Role): Promise<CommentLikeState> {
    const { comment } = await this.gate.comment(commentId, user, role);
    await this.limiter.hit("reaction", user.id);
    if (like && comment.deleted === 1) {
      // a placeholder has nothing left to like; unliking it is still allowed
      throw badRequest("comment_deleted", "This comment was deleted.");
    }
    if (like) await this.repo.likeComment(user.id, commentId);
    else await this.repo.unlikeComment(user.id, commentId);
    return { likes: await this.repo.commentLikes(commentId), liked: await this.repo.commentLiked(user.id, commentId) };
  }

  /**
   * Account deletion, before the rows cascade away: each reaction and comment like is removed
   * through the same counted delete, so the counters it fed go down with it.
   */
  async removeUserContent(userId: string): Promise<void> {
    const { videoIds, commentIds } = await this.repo.reactedBy(userId);
    for (const videoId of videoIds) if (await this.repo.remove(userId, videoId)) await this.publishCounts(videoId);
    for (const commentId of commentIds) await this.repo.unlikeComment(userId, commentId);
  }

  private async answer(videoId: string, userId: string, changed: boolean): Promise<ReactionState> {
    const counts = (await this.repo.counts(videoId)) ?? { likes: 0, dislikes: 0 };
    if (changed) await this.live.publish(videoId, { type: "reactions", likes: counts.likes, dislikes: counts.dislikes });
    return { likes: counts.likes, dislikes: counts.dislikes, my_reaction: await this.repo.kindOf(userId, videoId) };
  }

  private async publishCounts(videoId: string): Promise<void> {
    const counts = await this.repo.counts(videoId);
    if (counts) await this.live.publish(videoId, { type: "reactions", likes: counts.likes, dislikes: counts.dislikes });
  }
}
