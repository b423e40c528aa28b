/**
 * View counting port. A view is counted once per viewer per video per window (VIEW_WINDOW,
 * default 1 h), and the counts reach `videos.views` in batches (`views = views + n`) so media
 * responses never wait on the database. Two adapters pass one contract suite
 * (`view-counter.contract.ts`): in-process maps (default) and Redis (REDIS_URL), where dedupe
 * and pending counts are shared by every API instance.
 *
 * Anonymous viewers are told apart by address and User-Agent, but a User-Agent costs nothing to
 * change: so each address (see `addressGroup`) counts at most `maxPerAddress` distinct anonymous
 * viewers per video per window (VIEWS_PER_ADDRESS). Accounts are not capped: one costs a sign-up.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { sql } from "kysely";
import { resolveJwtSecret, type Config } from "../../config.js";
import type { Db } from "../../platform/db/db.js";

/** Who watched: the dedupe key, and for anonymous viewers the (hashed) address they count against. */
export interface Viewer {
  key: string;
  /** null for accounts (not capped per address) */
  address: string | null;
}

export interface ViewCounter {
  /**
   * Records that `viewer` watched `videoId`; true when this counted as a new view: the first of
   * this viewer in the window, and for an anonymous viewer one of the first `maxPerAddress` of its
   * address. Resolves quickly: the database is only written by `flush`.
   */
  record(videoId: string, viewer: Viewer): Promise<boolean>;
  /** Writes pending counts to the database now; returns the number of views written. */
  flush(): Promise<number>;
  /** Stops the periodic flush after a last flush. */
  close(): Promise<void>;
}

export interface ViewCounterOptions {
  /** dedupe window, seconds */
  windowS: number;
  /** distinct anonymous viewers counted per address per video per window (VIEWS_PER_ADDRESS) */
  maxPerAddress: number;
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
 * What an anonymous client cannot rotate cheaply: its IPv4 address, or the /64 prefix of its IPv6
 * address (RFC 4291 §2.5.4: the interface identifier is the low 64 bits, and a host picks those
 * itself, e.g. RFC 8981 temporary addresses, while the /64 is the network's). An IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`, what a dual-stack socket reports) is its IPv4 address. `req.ip`
 * already follows Fastify's `trustProxy` (TRUST_PROXY): the proxy's X-Forwarded-For client when
 * trusted, the socket's peer otherwise.
 */
export function addressGroup(ip: string): string {
  const bare = ip.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return bare.toLowerCase();
  // Expand `::` into zero groups, then keep the first four 16-bit groups.
  const [head, tail = ""] = bare.toLowerCase().split("::") as [string, string?];
  const h = head === "" ? [] : head.split(":");
  const t = tail === "" ? [] : tail.split(":");
  // an embedded IPv4 tail (`::1.2.3.4`) is two groups; only the first four groups matter here
  const tailGroups = t.flatMap((g) => (g.includes(".") ? ["0", "0"] : [g]));
  const groups = bare.includes("::") ? [...h, ...Array<string>(Math.max(0, 8 - h.length - tailGroups.length)).fill("0"), ...tailGroups] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * The viewer identity used for dedupe: the account when known, else keyed hashes of the address
 * group with the user agent (the viewer) and of the address group alone (what the cap counts), so
 * no raw IP is kept in memory or Redis and neither value can be reversed without the key.
 */
export function viewerKey(userId: string | null, ip: string, userAgent: string, key: Buffer): Viewer {
  if (userId) return { key: `u:${userId}`, address: null };
  const group = addressGroup(ip);
  const hash = (...parts: string[]) => createHmac("sha256", key).update(parts.join("\n")).digest("base64url").slice(0, 32);
  return { key: `a:${hash("viewer", group, userAgent)}`, address: hash("address", group) };
}

/**
 * The HMAC key for anonymous viewer hashes, derived from the signing secret so every API instance
 * computes the same hash for the same viewer (Redis dedupe spans instances).
 */
export function viewerHashKey(config: Config): Buffer {
  const material = config.auth.jwtAlg === "HS256" ? resolveJwtSecret(config) : readFileSync(config.auth.jwtPrivateKeyFile!, "utf8");
  return createHash("sha256").update("vidflux:viewer-hash:").update(material).digest();
}
