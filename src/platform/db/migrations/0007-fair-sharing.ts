import type { Kysely } from "kysely";

/**
 * Fair sharing (issue 13). The embedded queue's jobs get their fairness key (the owner) and their
 * turn: claims go in turn order, so one owner's backlog no longer puts everyone else behind it
 * (see `DbQueue.enqueue`). Videos get the bytes their conversion stored, which the storage quota
 * counts next to the original.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Jobs queued before this migration share the key "" and turn 0: they keep their FIFO order
  // and go before anything queued after it.
  await db.schema.alterTable("jobs").addColumn("fairness_key", "varchar(200)", (c) => c.notNull().defaultTo("")).execute();
  await db.schema.alterTable("jobs").addColumn("turn", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  // the claim's order, and the key's last turn at enqueue
  await db.schema.createIndex("jobs_status_turn_idx").on("jobs").columns(["status", "turn", "created_at"]).execute();
  await db.schema.createIndex("jobs_fairness_key_idx").on("jobs").columns(["fairness_key", "status"]).execute();
  // Videos converted before this migration count 0 until they are converted again.
  await db.schema.alterTable("videos").addColumn("media_bytes", "bigint", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("videos").dropColumn("media_bytes").execute();
  await db.schema.dropIndex("jobs_fairness_key_idx").execute();
  await db.schema.dropIndex("jobs_status_turn_idx").execute();
  await db.schema.alterTable("jobs").dropColumn("turn").execute();
  await db.schema.alterTable("jobs").dropColumn("fairness_key").execute();
}
