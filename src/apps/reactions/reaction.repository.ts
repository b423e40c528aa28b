/**
 * The SQL of reactions and comment likes, and of the counters they feed (`videos.likes/dislikes`,
 * `comments.likes`). A row and its counter change in one transaction, and every change is a
 * single conditional statement whose result says whether it happened, so the counters stay exact
 * under PostgreSQL's real concurrency (READ COMMITTED):
 *
 * - `insert … on conflict do nothing returning`: a row comes back only to the one transaction
 *   that created it; a concurrent twin waits for that commit and gets nothing back.
 * - `update … set kind = new where kind <> new returning`: the row lock serializes switchers and
 *   the condition is re-checked after the wait, so only one of two concurrent switches counts.
 * - `delete … returning`: only the transaction that removed the row decrements.
 *
 * Locks are always taken row first, counter second, so two transactions never wait on each other
 * in a circle. SQLite runs one write transaction at a time, which makes the same code exact there.
 */
import { sql, type Transaction } from "kysely";
import type { Db } from "../../platform/db/db.js";
import type { Database } from "../../platform/db/tables.js";
import { nowIso } from "../../lib/ids.js";
import type { ReactionKind } from "./reactions.schemas.js";

type Tx = Transaction<Database>;

const counterOf = (kind: ReactionKind) => (kind === "like" ? "likes" : "dislikes");
const other = (kind: ReactionKind): ReactionKind => (kind === "like" ? "dislike" : "like");

async function bumpVideo(tx: Tx, videoId: string, kind: ReactionKind, delta: 1 | -1): Promise<void> {
  const col = counterOf(kind);
  await tx
    .updateTable("videos")
    .set({ [col]: sql<number>`${sql.ref(col)} + ${delta}` })
    .where("id", "=", videoId)
    .execute();
}

async function bumpComment(tx: Tx, commentId: string, delta: 1 | -1): Promise<void> {
  await tx
    .updateTable("comments")
    .set({ likes: sql<number>`likes + ${delta}` })
    .where("id", "=", commentId)
    .execute();
}

export class ReactionRepository {
  constructor(private readonly db: Db) {}

  async counts(videoId: string): Promise<{ likes: number; dislikes: number } | undefined> {
    return this.db.selectFrom("videos").select(["likes", "dislikes"]).where("id", "=", videoId).executeTakeFirst();
  }

  async kindOf(userId: string, videoId: string): Promise<ReactionKind | null> {
    const r = await this.db.selectFrom("reactions").select("kind").where("user_id", "=", userId).where("video_id", "=", videoId).executeTakeFirst();
    return r?.kind ?? null;
  }

  /** Sets the user's reaction; true when something changed (false: it already was that). */
  async set(userId: string, videoId: string, kind: ReactionKind): Promise<boolean> {
    // A concurrent DELETE can remove the row between the insert and the update: then go again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await this.db.transaction().execute(async (tx) => {
        const inserted = await tx
          .insertInto("reactions")
          .values({ user_id: userId, video_id: videoId, kind, created_at: nowIso() })
          .onConflict((oc) => oc.columns(["user_id", "video_id"]).doNothing())
          .returning("kind")
          .executeTakeFirst();
        if (inserted) {
          await bumpVideo(tx, videoId, kind, 1);
          return "changed" as const;
        }
        const switched = await tx
          .updateTable("reactions")
          .set({ kind, created_at: nowIso() })
          .where("user_id", "=", userId)
          .where("video_id", "=", videoId)
          .where("kind", "<>", kind)
          .returning("kind")
          .executeTakeFirst();
        if (switched) {
          await bumpVideo(tx, videoId, kind, 1);
          await bumpVideo(tx, videoId, other(kind), -1);
          return "changed" as const;
        }
        const still = await tx.selectFrom("reactions").select("kind").where("user_id", "=", userId).where("video_id", "=", videoId).executeTakeFirst();
        return still ? ("same" as const) : ("retry" as const);
      });
      if (outcome !== "retry") return outcome === "changed";
    }
    throw new Error("reaction kept changing under a concurrent writer");
  }

  /** Removes the user's reaction; true when there was one. */
  async remove(userId: string, videoId: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const gone = await tx.deleteFrom("reactions").where("user_id", "=", userId).where("video_id", "=", videoId).returning("kind").executeTakeFirst();
      if (gone) await bumpVideo(tx, videoId, gone.kind, -1);
      return !!gone;
    });
  }

  async commentLiked(userId: string, commentId: string): Promise<boolean> {
    const r = await this.db.selectFrom("comment_likes").select("user_id").where("user_id", "=", userId).where("comment_id", "=", commentId).executeTakeFirst();
    return !!r;
  }

  async likeComment(userId: string, commentId: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto("comment_likes")
        .values({ user_id: userId, comment_id: commentId, created_at: nowIso() })
        .onConflict((oc) => oc.columns(["user_id", "comment_id"]).doNothing())
        .returning("user_id")
        .executeTakeFirst();
      if (inserted) await bumpComment(tx, commentId, 1);
      return !!inserted;
    });
  }

  async unlikeComment(userId: string, commentId: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const gone = await tx.deleteFrom("comment_likes").where("user_id", "=", userId).where("comment_id", "=", commentId).returning("user_id").executeTakeFirst();
      if (gone) await bumpComment(tx, commentId, -1);
      return !!gone;
    });
  }

  async commentLikes(commentId: string): Promise<number> {
    const r = await this.db.selectFrom("comments").select("likes").where("id", "=", commentId).executeTakeFirst();
    return r?.likes ?? 0;
  }

  /** The videos an account reacted to, and the comments it liked (account deletion). */
  async reactedBy(userId: string): Promise<{ videoIds: string[]; commentIds: string[] }> {
    const v = await this.db.selectFrom("reactions").select("video_id").where("user_id", "=", userId).execute();
    const c = await this.db.selectFrom("comment_likes").select("comment_id").where("user_id", "=", userId).execute();
    return { videoIds: v.map((r) => r.video_id), commentIds: c.map((r) => r.comment_id) };
  }
}
