/**
 * Picks the queue adapter from the configuration: BullMQ when REDIS_URL is set, else the embedded
 * queue in the application's database.
 */
import type { Config } from "../../config.js";
import type { Db } from "../db/db.js";
import type { JobPolicyOverrides } from "./job-runner.js";
import { DbQueue } from "./db.queue.js";
import type { Queue } from "./queue.js";

// ffmpeg is bounded by TRANSCODE_TIMEOUT itself; the queue's timeout is the backstop behind it,
// with room for downloading the source and uploading the outputs around the ffmpeg run.
const TRANSFER_MARGIN_S = 30 * 60;

export function queuePolicies(config: Config): JobPolicyOverrides {
  return { "video.transcode": { timeoutMs: (config.media.transcodeTimeoutS + TRANSFER_MARGIN_S) * 1000, leaseMs: config.jobLeaseS * 1000 } };
}

/**
 * `db` may be null when REDIS_URL is set: a BullMQ worker host needs no database. Async because
 * BullMQ (and ioredis) are imported only when chosen, keeping them out of embedded processes.
 */
export async function createQueue(config: Config, db: Db | null): Promise<Queue> {
  const policies = queuePolicies(config);
  if (config.redisUrl) {
    // BullMQ's lock is the lease; a stalled check at half of it notices a lapsed lock within 1.5 leases.
    const leaseMs = config.jobLeaseS * 1000;
    const { BullQueue } = await import("./bullmq.queue.js");
    return new BullQueue(config.redisUrl, { prefix: config.redisPrefix, policies, lockDurationMs: leaseMs, stalledIntervalMs: Math.round(leaseMs / 2) });
  }
  if (!db) throw new Error("the embedded queue lives in the database: a DATABASE_URL (or the SQLite file) is required without REDIS_URL");
  return new DbQueue(db, { dialect: config.db.kind, policies });
}
