/**
 * Comments: one level of replies (a reply to a reply attaches to the top-level comment, as on
 * YouTube), lists with the pinned comment first and the first replies inline, edits by the
 * author, deletions by the author, the video's owner and staff, and the owner's pin.
 */
import { badRequest, fieldError, forbidden, notFound } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import { decodeCursor, paginate, pageUrl } from "../../lib/pagination.js";
import { can, type AuthUser, type Role } from "../users/index.js";
import type { VideoRow } from "../videos/index.js";
import type { CommentRepository, CommentWithAuthor } from "./comment.repository.js";
import { toComment, toReply } from "./comment-serializer.js";
import { normalizeCommentText } from "./comment-text.js";
import type { LiveEventsService } from "./live-events.service.js";
import type { PostLimiter } from "./post-limiter.js";
import { FIRST_REPLIES, type Comment, type CommentCreate, type CommentListQuery, type RecentCommentsQuery, type Reply } from "./reactions.schemas.js";
import type { VideoGate } from "./video-gate.js";

export interface PageOf<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

/** Where a list's next/previous links point: the request's own URL with another cursor. */
export interface PageLinks {
  requestUrl: string;
  baseUrl: string;
}

const ORDER = {
  "-created": { order: "created_at", desc: true },
  created: { order: "created_at", desc: false },
  "-likes": { order: "likes", desc: true },
} as const;

export class CommentService {
  constructor(
    private readonly repo: CommentRepository,
    private readonly gate: VideoGate,
    private readonly limiter: PostLimiter,
    private readonly live: LiveEventsService,
  ) {}

  async create(videoId: string, body: CommentCreate, user: AuthUser, role: Role): Promise<Comment> {
    const video = await this.gate.video(videoId, user, role);
    const text = normalizeCommentText(body.text);
    await this.assertMayComment(video, user);
    let parentId: string | null = null;
    if (body.parent_id) {
      const parent = await this.repo.find(body.parent_id);
      if (!parent || parent.video_id !== video.id) {
        throw fieldError("invalid_parent", "parent_id is not a comment of this video.", "body", "parent_id");
      }
      if (parent.deleted === 1) throw fieldError("invalid_parent", "The comment replied to was deleted.", "body", "parent_id");
      // One level of replies: a reply to a reply joins its thread.
      parentId = parent.parent_id ?? parent.id;
    }
    await this.limiter.hit("comment", user.id);
    const id = newId();
    await this.repo.insert({ id, video_id: video.id, author_id: user.id, parent_id: parentId, text, deleted: 0, likes: 0, reply_count: 0, created_at: nowIso(), edited_at: null });
    const out = toComment((await this.repo.find(id))!, video.duration_s, video.pinned_comment_id, []);
    await this.live.publish(video.id, { type: "comment", action: "created", comment: out });
    return out;
  }

  async list(videoId: string, q: CommentListQuery, user: AuthUser | null, role: Role, links: PageLinks): Promise<PageOf<Comment>> {
    const video = await this.gate.video(videoId, user, role);
    const limit = q.limit ?? 20;
    const cursor = decodeCursor(q.cursor);
    const { order, desc } = ORDER[q.ordering ?? "-created"];
    const rows = await this.repo.page({
      videoId: video.id,
      excludeId: video.pinned_comment_id,
      hiddenForOwner: video.owner_id,
      order,
      desc,
      after: cursor ? { key: keyOf(cursor.key, order), dir: cursor.dir } : undefined,
      limit,
    });
    const page = paginate(rows, limit, cursor, (r) => [r[order], r.id], (c) => pageUrl(links.requestUrl, links.baseUrl, c));
    let top = page.results;
    // The pinned comment heads the first page, outside the ordering and the page size.
    if (!cursor && video.pinned_comment_id) {
      const pinned = await this.repo.find(video.pinned_comment_id);
      if (pinned && !(pinned.author_id && (await this.repo.isHidden(video.owner_id, pinned.author_id)))) top = [pinned, ...top];
    }
    const replies = await this.repo.firstReplies(top.map((c) => c.id), FIRST_REPLIES, video.owner_id);
    return {
      ...page,
      results: top.map((c) => toComment(c, video.duration_s, video.pinned_comment_id, replies.filter((r) => r.parent_id === c.id))),
    };
  }

  async replies(commentId: string, q: { limit?: number; cursor?: string }, user: AuthUser | null, role: Role, links: PageLinks): Promise<PageOf<Reply>> {
    const { comment, video } = await this.gate.comment(commentId, user, role);
    const top = comment.parent_id ?? comment.id;
    const limit = q.limit ?? 20;
    const cursor = decodeCursor(q.cursor);
    const rows = await this.repo.page({
      parentId: top,
      hiddenForOwner: video.owner_id,
      order: "created_at",
      desc: false,
      after: cursor ? { key: keyOf(cursor.key), dir: cursor.dir } : undefined,
      limit,
    });
    const page = paginate(rows, limit, cursor, (r) => [r.created_at, r.id], (c) => pageUrl(links.requestUrl, links.baseUrl, c));
    return { ...page, results: page.results.map((r) => toReply(r, video.duration_s, video.pinned_comment_id)) };
  }

  /** Recent comments across every video (moderators and admins; the route checks the right). */
  async recent(q: RecentCommentsQuery, links: PageLinks): Promise<PageOf<Reply>> {
    const limit = q.limit ?? 20;
    const cursor = decodeCursor(q.cursor);
    const desc = (q.ordering ?? "-created") === "-created";
    const rows = await this.repo.page({ withTextOnly: true, order: "created_at", desc, after: cursor ? { key: keyOf(cursor.key), dir: cursor.dir } : undefined, limit });
    const page = paginate(rows, limit, cursor, (r) => [r.created_at, r.id], (c) => pageUrl(links.requestUrl, links.baseUrl, c));
    const d = await this.repo.durations([...new Set(page.results.map((r) => r.video_id))]);
    return { ...page, results: page.results.map((r) => toReply(r, d.get(r.video_id) ?? null, null)) };
  }

  async edit(commentId: string, rawText: string, user: AuthUser, role: Role): Promise<Comment> {
    const { comment, video } = await this.gate.comment(commentId, user, role);
    if (comment.deleted === 1) throw notFound("Comment not found.", "comment_not_found");
    if (comment.author_id !== user.id) throw forbidden("Only the author may edit a comment.");
    // Comments off: existing ones stay as they are, read-only.
    if (video.comments_enabled !== 1) throw forbidden("Comments are turned off for this video.", "comments_disabled");
    const text = normalizeCommentText(rawText);
    await this.repo.editText(comment.id, text, nowIso());
    const out = await this.present(comment.id, video);
    await this.live.publish(video.id, { type: "comment", action: "edited", comment: out });
    return out;
  }

  /** Author, the video's owner, moderators and admins. */
  async remove(commentId: string, user: AuthUser, role: Role): Promise<void> {
    const { comment, video } = await this.gate.comment(commentId, user, role);
    // A placeholder is already deleted (and authorless): nothing left to delete, for anyone.
    if (comment.deleted === 1) throw notFound("Comment not found.", "comment_not_found");
    const allowed = comment.author_id === user.id || video.owner_id === user.id || can(role, "comment:moderate");
    if (!allowed) throw forbidden("Only the author, the video's owner and moderators may delete a comment.");
    await this.removeAny(comment, video);
  }

  /** Removes a comment whoever asks (moderation's "delete the content"); publishes the change. */
  async removeAny(comment: CommentWithAuthor, video: Pick<VideoRow, "id">): Promise<void> {
    const r = await this.repo.remove(comment);
    await this.live.publish(video.id, {
      type: "comment",
      action: "deleted",
      comment: { id: comment.id, parent_id: comment.parent_id, placeholder: r.placeholder },
      removed: r.removed,
    });
  }

  async pin(commentId: string, pin: boolean, user: AuthUser, role: Role): Promise<Comment> {
    const { comment, video } = await this.gate.comment(commentId, user, role);
    if (video.owner_id !== user.id && !can(role, "video:moderate")) throw forbidden("Only the video's owner may pin a comment.");
    if (pin) {
      if (comment.parent_id !== null) throw badRequest("not_top_level", "Only a top-level comment can be pinned.");
      if (comment.deleted === 1) throw badRequest("comment_deleted", "A deleted comment cannot be pinned.");
      await this.repo.setPinned(video.id, comment.id);
    } else {
      await this.repo.setPinned(video.id, null, comment.id);
    }
    return this.present(comment.id, { ...video, pinned_comment_id: pin ? comment.id : video.pinned_comment_id === comment.id ? null : video.pinned_comment_id });
  }

  private async present(id: string, video: Pick<VideoRow, "duration_s" | "pinned_comment_id" | "owner_id">): Promise<Comment> {
    const c = await this.repo.find(id);
    if (!c) throw notFound("Comment not found.", "comment_not_found");
    const replies = c.parent_id === null ? await this.repo.firstReplies([c.id], FIRST_REPLIES, video.owner_id) : [];
    return toComment(c, video.duration_s, video.pinned_comment_id, replies);
  }

  private async assertMayComment(video: VideoRow, user: AuthUser): Promise<void> {
    if (video.comments_enabled !== 1) throw forbidden("Comments are turned off for this video.", "comments_disabled");
    if (await this.repo.isBlocked(user.id)) throw forbidden("You are blocked from commenting.", "comment_blocked");
    if (video.owner_id !== user.id && (await this.repo.isHidden(video.owner_id, user.id))) {
      throw forbidden("The video's owner does not accept your comments.", "comment_blocked");
    }
  }
}

/** A cursor's key as the repository wants it: [order value, id]. */
function keyOf(key: (string | number)[], order: "created_at" | "likes" = "created_at"): [string | number, string] {
  // A cursor of another ordering (a number where a date belongs) would compare unlike types.
  const first = order === "likes" ? typeof key[0] === "number" : typeof key[0] === "string";
  if (key.length !== 2 || !first || typeof key[1] !== "string") throw fieldError("invalid_cursor", "The cursor is not valid.", "querystring", "cursor");
  return [key[0]!, key[1]];
}
