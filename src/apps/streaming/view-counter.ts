/**
 * View counting port. A view is counted once per viewer per video per window (VIEW_WINDOW,
 * default 1 h), and the counts reach `videos.views` in batches (`views = views + n`) so media
 * responses never wait on the database. Two adapters pass one contract suite
 * (`view-counter.contract.ts`): in-process maps (default) and Redis (REDIS_URL), where dedupe
 * and pending counts are shared by every API instance.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { resolveJwtSecret, type Config } from "../../config.js";
import type { Db } from "../../platform/db/db.js";

export interface ViewCounter {
  /**
   * Records that `viewer` watched `videoId`; true when this counted as a new view (the first in
   * the window). Resolves quickly: the database is only written by `flush`.
   */
  record(videoId: string, viewer: string): Promise<boolean>;
  /** Writes pending counts to the database now; returns the number of views written. */
  flush(): Promise<number>;
  /** Stops the periodic flush after a last flush. */
  close(): Promise<void>;
}

export interface ViewCounterOptions {
  /** dedupe window, seconds */
  windowS: number;
  /** periodic flush interval, ms (0 disables the timer; tests call flush()) */
  flushIntervalMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Adds `n` views per video in one transaction, ids sorted so two instances flushing at the same
 * moment lock rows in the same order. `updated_at` is left alone: a view is not an edit.
 */
export async function applyViewCounts(db: Db, counts: Map<string, number>): Promise<number> {
  const entries = [...counts.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    for (const [id, n] of entries) {
      await trx.updateTable("videos").set({ views: sql<number>`views + ${n}` }).where("id", "=", id).execute();
    }
  });
  return entries.reduce((s, [, n]) => s + n, 0);
}

/**
 * The viewer identity used for dedupe: the account when known, else a keyed hash of IP and user
 * agent, so no raw IP is kept in memory or Redis and the value cannot be reversed without the key.
 */
export function viewerKey(userId: string | null, ip: string, userAgent: string, key: Buffer): string {
  if (userId) return `u:${userId}`;
  return `a:${createHmac("sha256", key).update(ip).update("\n").update(userAgent).digest("base64url").slice(0, 32)}`;
}

/**
 * The HMAC key for anonymous viewer hashes, derived from the signing secret so every API instance
 * computes the same hash for the same viewer (Redis dedupe spans instances).
 */
export function viewerHashKey(config: Config): Buffer {
  const material = config.auth.jwtAlg === "HS256" ? resolveJwtSecret(config) : readFileSync(config.auth.jwtPrivateKeyFile!, "utf8");
  return createHash("sha256").update("vidflux:viewer-hash:").update(material).digest();
}
