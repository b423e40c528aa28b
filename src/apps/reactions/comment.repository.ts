/**
 * The SQL of comments, their replies and the commenting blocks. Lists use keyset pagination on
 * (order column, id), like the catalogue. `reply_count` counts the replies that exist and is
 * changed in the transaction that adds or removes one.
 */
import { sql, type Selectable } from "kysely";
import type { Db } from "../../platform/db/db.js";
import type { CommentsTable } from "../../platform/db/tables.js";

export type CommentRow = Selectable<CommentsTable>;
export type CommentWithAuthor = CommentRow & { author_username: string | null; author_avatar_key: string | null };

export interface CommentPageFilter {
  /** top-level comments of this video */
  videoId?: string;
  /** replies of this comment */
  parentId?: string;
  /** leave out this comment (the pinned one, shown first) */
  excludeId?: string | null;
  /** leave out the authors this owner hid from their videos */
  hiddenForOwner?: string;
  /** only comments with text (not deleted placeholders) */
  withTextOnly?: boolean;
  order: "created_at" | "likes";
  desc: boolean;
  after?: { key: [string | number, string]; dir: "n" | "p" };
  limit: number;
}

export class CommentRepository {
  constructor(private readonly db: Db) {}

  private withAuthor() {
    return this.db
      .selectFrom("comments")
      .leftJoin("users", "users.id", "comments.author_id")
      .selectAll("comments")
      .select(["users.username as author_username", "users.avatar_key as author_avatar_key"]);
  }

  async find(id: string): Promise<CommentWithAuthor | undefined> {
    return this.withAuthor().where("comments.id", "=", id).executeTakeFirst();
  }

  async page(f: CommentPageFilter): Promise<CommentWithAuthor[]> {
    let q = this.withAuthor();
    if (f.videoId) q = q.where("comments.video_id", "=", f.videoId).where("comments.parent_id", "is", null);
    if (f.parentId) q = q.where("comments.parent_id", "=", f.parentId);
    if (f.excludeId) q = q.where("comments.id", "<>", f.excludeId);
    if (f.withTextOnly) q = q.where("comments.deleted", "=", 0);
    if (f.hiddenForOwner) {
      const owner = f.hiddenForOwner;
      q = q.where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("hidden_commenters")
              .select("hidden_commenters.user_id")
              .where("hidden_commenters.owner_id", "=", owner)
              .whereRef("hidden_commenters.user_id", "=", "comments.author_id"),
          ),
        ),
      );
    }
    const col = `comments.${f.order}` as const;
    const forwardDesc = f.desc !== (f.after?.dir === "p");
    if (f.after) {
      const [k, id] = f.after.key;
      const op = forwardDesc ? "<" : ">";
      q = q.where((eb) => eb.or([eb(col, op, k), eb.and([eb(col, "=", k), eb("comments.id", op, id)])]));
    }
    return q
      .orderBy(col, forwardDesc ? "desc" : "asc")
      .orderBy("comments.id", forwardDesc ? "desc" : "asc")
      .limit(f.limit + 1)
      .execute();
  }

  /** The first `n` replies (oldest first) of each of the given comments, in one query. */
  async firstReplies(parentIds: string[], n: number, hiddenForOwner: string): Promise<CommentWithAuthor[]> {
    if (parentIds.length === 0) return [];
    const ranked = this.withAuthor()
      .select(sql<number>`row_number() over (partition by comments.parent_id order by comments.created_at, comments.id)`.as("rn"))
      .where("comments.parent_id", "in", parentIds)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("hidden_commenters")
              .select("hidden_commenters.user_id")
              .where("hidden_commenters.owner_id", "=", hiddenForOwner)
              .whereRef("hidden_commenters.user_id", "=", "comments.author_id"),
          ),
        ),
      );
    const rows = await this.db.selectFrom(ranked.as("r")).selectAll().where("rn", "<=", n).orderBy("created_at").orderBy("id").execute();
    return rows.map(({ rn: _rn, ...row }) => row);
  }

  /** Inserts a comment; a reply bumps its top-level comment's reply_count in the same transaction. */
  async insert(row: CommentRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto("comments").values(row).execute();
      if (row.parent_id) {
        await tx
          .updateTable("comments")
          .set({ reply_count: sql<number>`reply_count + 1` })
          .where("id", "=", row.parent_id)
          .execute();
      }
    });
  }

  async editText(id: string, text: string, at: string): Promise<void> {
    await this.db.updateTable("comments").set({ text, edited_at: at }).where("id", "=", id).where("deleted", "=", 0).execute();
  }

  /**
   * Deletes a comment. A top-level comment with replies stays as a placeholder (no text, no
   * author); anything else goes, and a reply that was the last one under a placeholder takes the
   * placeholder with it. Returns the ids removed outright and whether a placeholder was kept.
   */
  async remove(c: Pick<CommentRow, "id" | "parent_id" | "video_id">): Promise<{ removed: string[]; placeholder: boolean }> {
    return this.db.transaction().execute(async (tx) => {
      if (c.parent_id === null) {
        // Holds the row so a reply arriving now either counts here or fails its FK.
        const kept = await tx
          .updateTable("comments")
          .set({ text: null, author_id: null, deleted: 1, edited_at: null })
          .where("id", "=", c.id)
          .where("reply_count", ">", 0)
          .returning("id")
          .executeTakeFirst();
        if (kept) {
          await tx.updateTable("videos").set({ pinned_comment_id: null }).where("id", "=", c.video_id).where("pinned_comment_id", "=", c.id).execute();
          return { removed: [], placeholder: true };
        }
        await tx.deleteFrom("comments").where("id", "=", c.id).execute();
        await tx.updateTable("videos").set({ pinned_comment_id: null }).where("id", "=", c.video_id).where("pinned_comment_id", "=", c.id).execute();
        return { removed: [c.id], placeholder: false };
      }
      const gone = await tx.deleteFrom("comments").where("id", "=", c.id).returning("id").executeTakeFirst();
      if (!gone) return { removed: [], placeholder: false };
      const parent = await tx
        .updateTable("comments")
        .set({ reply_count: sql<number>`reply_count - 1` })
        .where("id", "=", c.parent_id)
        .returning(["reply_count", "deleted"])
        .executeTakeFirst();
      const removed = [c.id];
      if (parent && parent.deleted === 1 && parent.reply_count <= 0) {
        await tx.deleteFrom("comments").where("id", "=", c.parent_id).execute();
        removed.push(c.parent_id);
      }
      return { removed, placeholder: false };
    });
  }

  /** Pins a comment (null: unpins; `onlyIf`: only when that one is the pinned comment). */
  async setPinned(videoId: string, commentId: string | null, onlyIf?: string): Promise<void> {
    let q = this.db.updateTable("videos").set({ pinned_comment_id: commentId }).where("id", "=", videoId);
    if (onlyIf) q = q.where("pinned_comment_id", "=", onlyIf);
    await q.execute();
  }

  /** Durations of videos (time references in the cross-video list). */
  async durations(videoIds: string[]): Promise<Map<string, number | null>> {
    if (videoIds.length === 0) return new Map();
    const rows = await this.db.selectFrom("videos").select(["id", "duration_s"]).where("id", "in", videoIds).execute();
    return new Map(rows.map((r) => [r.id, r.duration_s]));
  }

  async isBlocked(userId: string): Promise<boolean> {
    return !!(await this.db.selectFrom("comment_blocks").select("user_id").where("user_id", "=", userId).executeTakeFirst());
  }

  async isHidden(ownerId: string, userId: string): Promise<boolean> {
    return !!(await this.db.selectFrom("hidden_commenters").select("user_id").where("owner_id", "=", ownerId).where("user_id", "=", userId).executeTakeFirst());
  }
}
