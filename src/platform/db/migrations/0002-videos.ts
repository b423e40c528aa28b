import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("videos")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("title", "varchar(200)", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("visibility", "varchar(10)", (c) => c.notNull().defaultTo("public"))
    .addColumn("language", "varchar(35)")
    .addColumn("original_filename", "varchar(255)", (c) => c.notNull().defaultTo(""))
    .addColumn("size_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("status", "varchar(12)", (c) => c.notNull())
    .addColumn("playable", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failure_code", "varchar(40)")
    .addColumn("failure_message", "text")
    .addColumn("progress", "text")
    .addColumn("source_key", "text")
    .addColumn("probe", "text")
    .addColumn("duration_s", "double precision")
    .addColumn("media", "text")
    .addColumn("chapters", "text")
    .addColumn("poster_choice", "integer")
    .addColumn("custom_poster_key", "text")
    .addColumn("views", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("likes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("dislikes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .addColumn("published_at", "varchar(32)")
    .execute();
  await db.schema.createIndex("videos_owner_idx").on("videos").columns(["owner_id", "created_at"]).execute();
  await db.schema.createIndex("videos_list_idx").on("videos").columns(["visibility", "status", "created_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("videos").execute();
}
