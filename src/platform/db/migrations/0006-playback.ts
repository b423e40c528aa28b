import type { Kysely } from "kysely";

/**
 * Continue watching: one row per user and video with the last saved position (the playback
 * domain writes it every ~10 s while playing, and on pause, seek and leave), and the per-user
 * setting that pauses recording. Live session state and rooms are not here: they live in the
 * events adapter's state hub (memory or Redis), because they change many times a second and
 * expire on their own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("watch_history")
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("video_id", "varchar(36)", (c) => c.notNull().references("videos.id").onDelete("cascade"))
    .addColumn("position", "double precision", (c) => c.notNull())
    .addColumn("duration", "double precision")
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .addPrimaryKeyConstraint("watch_history_pk", ["user_id", "video_id"])
    .execute();
  await db.schema.createIndex("watch_history_user_updated_idx").on("watch_history").columns(["user_id", "updated_at"]).execute();
  await db.schema.createIndex("watch_history_video_idx").on("watch_history").columns(["video_id"]).execute();

  await db.schema
    .createTable("watch_settings")
    .addColumn("user_id", "varchar(36)", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("history_paused", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("watch_settings").execute();
  await db.schema.dropTable("watch_history").execute();
}
