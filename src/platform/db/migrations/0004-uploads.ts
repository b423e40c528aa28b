import type { Kysely } from "kysely";

/**
 * tus uploads: one row per upload resource (plain, partial or final). The bytes live in a staging
 * file under DATA_DIR/uploads named by the row id; `offset` is the committed (fsynced) length.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("uploads")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // null for partial uploads (concatenation): they become a video only through a final upload.
    .addColumn("video_id", "varchar(36)", (c) => c.references("videos.id").onDelete("cascade"))
    .addColumn("length", "bigint", (c) => c.notNull())
    .addColumn("offset", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("metadata", "text")
    .addColumn("metadata_header", "text")
    .addColumn("partial", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("concat_header", "text")
    .addColumn("concat_parts", "text")
    .addColumn("state", "varchar(12)", (c) => c.notNull())
    .addColumn("failure_code", "varchar(40)")
    .addColumn("failure_message", "text")
    .addColumn("expires_at", "varchar(32)", (c) => c.notNull())
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .addColumn("completed_at", "varchar(32)")
    .execute();
  await db.schema.createIndex("uploads_user_state_idx").on("uploads").columns(["user_id", "state"]).execute();
  await db.schema.createIndex("uploads_expires_idx").on("uploads").columns(["expires_at"]).execute();
  await db.schema.createIndex("uploads_video_idx").on("uploads").columns(["video_id"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("uploads").execute();
}
