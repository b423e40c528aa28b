/** Comment row → API JSON. Pure. Deleted placeholders carry neither text nor author. */
import { avatarPath } from "../users/index.js";
import type { CommentWithAuthor } from "./comment.repository.js";
import { timeRefs } from "./comment-text.js";
import type { Comment, Reply } from "./reactions.schemas.js";

export function toReply(c: CommentWithAuthor, durationS: number | null, pinnedId: string | null): Reply {
  const deleted = c.deleted === 1;
  return {
    id: c.id,
    video_id: c.video_id,
    parent_id: c.parent_id,
    // A deleted account leaves author_id null (ON DELETE SET NULL): "from a deleted account".
    author: !deleted && c.author_id && c.author_username !== null ? { id: c.author_id, username: c.author_username, avatar_url: avatarPath({ id: c.author_id, avatar_key: c.author_avatar_key }) } : null,
    text: deleted ? null : c.text,
    deleted,
    pinned: pinnedId === c.id,
    likes: c.likes,
    reply_count: c.reply_count,
    time_refs: deleted || c.text === null ? [] : timeRefs(c.text, durationS),
    created: c.created_at,
    edited: c.edited_at,
  };
}

export function toComment(c: CommentWithAuthor, durationS: number | null, pinnedId: string | null, replies: CommentWithAuthor[]): Comment {
  return { ...toReply(c, durationS, pinnedId), replies: replies.map((r) => toReply(r, durationS, pinnedId)) };
}
