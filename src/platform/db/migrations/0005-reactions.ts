import { sql, type Kysely } from "kysely";

/**
 * The viewer half: reactions (like/dislike, one per user and video), comments with one level of
 * replies, comment likes, reports, and the two kinds of commenting blocks. Counters
 * (`videos.likes/dislikes`, `comments.likes/reply_count`) are denormalized and updated in the same
 * transaction as the rows they count. A video's deletion cascades to its reactions, comments and
 * reports; an account's deletion cascades to its reactions and likes (the reactions domain first
 * decrements the counters they fed) and leaves its comments authorless ("deleted account").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("videos").addColumn("comments_enabled", "integer", (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable("videos").addColumn("pinned_comment_id", "varchar(36)").execute();

  await db.schema
    .createTable("reactions")
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("video_id", "varchar(36)", (c) => c.notNull().references("videos.id").onDelete("cascade"))
    .addColumn("kind", "varchar(8)", (c) => c.notNull())
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addPrimaryKeyConstraint("reactions_pk", ["user_id", "video_id"])
    .execute();
  await db.schema.createIndex("reactions_video_idx").on("reactions").columns(["video_id"]).execute();

  await db.schema
    .createTable("comments")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("video_id", "varchar(36)", (c) => c.notNull().references("videos.id").onDelete("cascade"))
    // null once the author's account is deleted (the comment shows as from a deleted account)
    .addColumn("author_id", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    // top-level comment this one replies to; one level only
    .addColumn("parent_id", "varchar(36)", (c) => c.references("comments.id").onDelete("cascade"))
    // null for a deleted comment kept as a placeholder because it has replies
    .addColumn("text", "text")
    .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("likes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("reply_count", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("edited_at", "varchar(32)")
    .execute();
  await db.schema.createIndex("comments_video_parent_created_idx").on("comments").columns(["video_id", "parent_id", "created_at"]).execute();
  await db.schema.createIndex("comments_parent_created_idx").on("comments").columns(["parent_id", "created_at"]).execute();
  await db.schema.createIndex("comments_created_idx").on("comments").columns(["created_at"]).execute();
  await db.schema.createIndex("comments_author_idx").on("comments").columns(["author_id"]).execute();

  await db.schema
    .createTable("comment_likes")
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("comment_id", "varchar(36)", (c) => c.notNull().references("comments.id").onDelete("cascade"))
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addPrimaryKeyConstraint("comment_likes_pk", ["user_id", "comment_id"])
    .execute();
  await db.schema.createIndex("comment_likes_comment_idx").on("comment_likes").columns(["comment_id"]).execute();

  await db.schema
    .createTable("reports")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("reporter_id", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    // `comment` | `video`
    .addColumn("target_kind", "varchar(8)", (c) => c.notNull())
    .addColumn("target_id", "varchar(36)", (c) => c.notNull())
    .addColumn("video_id", "varchar(36)", (c) => c.notNull().references("videos.id").onDelete("cascade"))
    .addColumn("reason", "varchar(40)", (c) => c.notNull())
    .addColumn("details", "text")
    // `open` | `dismissed` | `removed`
    .addColumn("status", "varchar(12)", (c) => c.notNull())
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("resolved_at", "varchar(32)")
    .addColumn("resolved_by", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    .execute();
  await db.schema.createIndex("reports_status_created_idx").on("reports").columns(["status", "created_at"]).execute();
  // One open report per reporter and target: reporting twice changes nothing. Partial (open
  // ones only), so a reporter may report again after a dismissal, and resolving many is no clash.
  await db.schema
    .createIndex("reports_open_unique")
    .on("reports")
    .columns(["reporter_id", "target_kind", "target_id"])
    .unique()
    .where(sql.ref("status"), "=", "open")
    .execute();
  await db.schema.createIndex("reports_target_idx").on("reports").columns(["target_kind", "target_id"]).execute();

  // site-wide: the user may not comment anywhere (moderators/admins decide)
  await db.schema
    .createTable("comment_blocks")
    .addColumn("user_id", "varchar(36)", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("blocked_by", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("reason", "text")
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .execute();

  // per owner: the user's comments are hidden from, and new ones refused on, the owner's videos
  await db.schema
    .createTable("hidden_commenters")
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addPrimaryKeyConstraint("hidden_commenters_pk", ["owner_id", "user_id"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["hidden_commenters", "comment_blocks", "reports", "comment_likes", "comments", "reactions"]) await db.schema.dropTable(t).execute();
  await db.schema.alterTable("videos").dropColumn("pinned_comment_id").execute();
  await db.schema.alterTable("videos").dropColumn("comments_enabled").execute();
}
