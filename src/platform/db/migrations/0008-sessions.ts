import { sql, type Kysely } from "kysely";

/**
 * Sessions and capabilities that can be revoked at once (issue 13).
 *
 * - Access tokens name their session (`sid`, the refresh-token family) and the auth guard checks,
 *   in the same query that reads the user row, that the family still has a live token: the
 *   partial index holds one entry per live session, however many rotations the family went
 *   through (a 14-day session refreshed every 15 minutes has ~1,300 revoked rows).
 * - An email change waits in `email_changes` until the new address confirms it (single use,
 *   expiring; only the token's SHA-256 is stored). `requested_sid` is the session that asked:
 *   it survives the confirmation, every other session ends.
 * - `videos.playback_epoch` is bumped when the visibility changes; playback tokens carry the
 *   epoch they were issued under, so changing the visibility revokes every shared link at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("refresh_tokens_live_family_idx")
    .on("refresh_tokens")
    .column("family_id")
    .where(sql.ref("revoked_at"), "is", null)
    .execute();

  await db.schema
    .createTable("email_changes")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("new_email", "varchar(254)", (c) => c.notNull())
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("requested_sid", "varchar(36)")
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("expires_at", "varchar(32)", (c) => c.notNull())
    .addColumn("used_at", "varchar(32)")
    .execute();
  await db.schema.createIndex("email_changes_user_idx").on("email_changes").column("user_id").execute();

  // Tokens issued before this migration carry no epoch, read as 0: they stay valid until the
  // video's visibility next changes.
  await db.schema.alterTable("videos").addColumn("playback_epoch", "integer", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("videos").dropColumn("playback_epoch").execute();
  await db.schema.dropTable("email_changes").execute();
  await db.schema.dropIndex("refresh_tokens_live_family_idx").execute();
}
