import type { Kysely } from "kysely";

// The embedded queue's jobs (src/platform/queue/db.queue.ts). Portable types only: ISO text
// timestamps (they sort as strings, so `run_at <= now` works on both dialects), JSON as text.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("jobs")
    // the caller's idempotency key (EnqueueOptions.jobId)
    .addColumn("id", "varchar(200)", (c) => c.primaryKey())
    .addColumn("name", "varchar(100)", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    // waiting | active | completed | failed
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    // not before this instant (retry backoff)
    .addColumn("run_at", "varchar(32)", (c) => c.notNull())
    // an active job whose lease passed is taken as crashed and retried by any worker
    .addColumn("lease_until", "varchar(32)")
    .addColumn("worker_id", "varchar(64)")
    // set by cancel() for a job active in another process; its lease heartbeat notices it
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("progress", "text")
    .addColumn("result", "text")
    .addColumn("error_code", "varchar(64)")
    .addColumn("error_message", "text")
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("jobs_status_run_at_idx").on("jobs").columns(["status", "run_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("jobs").execute();
}
