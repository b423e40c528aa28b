/**
 * Ending a session reaches the connections it opened. An access token is checked on every
 * request (auth.plugin.ts), but a WebSocket or an SSE stream authenticates once and may stay open
 * for hours: when its session ends (logout, refresh-token reuse, password change or reset,
 * deactivation, deletion, a confirmed email change) it must close at once, on every API process.
 *
 * - `announce` ends the matching connections of this process synchronously, then publishes the
 *   event on the state hub's channel, so the other processes (Redis pub/sub when REDIS_URL is
 *   set) end theirs. The local delivery does not wait for, or depend on, the hub.
 * - `watch(user, onEnd)` registers a long-lived connection; `onEnd` runs once, when an
 *   announcement names its session (or every session of its account).
 * - Pub/sub is fire-and-forget (a message published while a process's Redis connection is down
 *   is lost), so every `recheckMs` (60 s) one query per 500 watched sessions re-reads them: a
 *   connection whose session ended by any path is closed within a minute even without the event.
 */
import type { Logger } from "pino";
import { randomUUID } from "node:crypto";
import type { StateHub } from "../../platform/events/state-hub.js";
import type { AuthUser } from "./auth.plugin.js";
import type { UserRepository } from "./user.repository.js";

/** Which sessions of an account ended. */
export interface SessionsEnded {
  userId: string;
  /** the session that ended; null: every session of the account (but `keep`) */
  sid: string | null;
  /** with `sid: null`, the one session that lives on (the one that confirmed an email change) */
  keep?: string | null;
}

interface Watcher {
  user: Pick<AuthUser, "id" | "sid" | "tokenVersion">;
  onEnd: () => void;
}

interface Announcement extends SessionsEnded {
  /** the announcing process, which has already ended its own connections */
  origin: string;
}

const CHANNEL = "users:sessions-ended";
/** sessions per re-check query (bounded `in (…)` lists) */
const RECHECK_BATCH = 500;

export function endsSession(e: SessionsEnded, user: Pick<AuthUser, "id" | "sid">): boolean {
  if (e.userId !== user.id) return false;
  if (e.sid !== null) return user.sid === e.sid;
  return !e.keep || user.sid !== e.keep;
}

export class SessionRevocations {
  private readonly origin = randomUUID();
  /** watchers by user id */
  private readonly watchers = new Map<string, Set<Watcher>>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { hub: StateHub; repo: UserRepository; logger: Logger; recheckMs?: number },
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.deps.hub.subscribe(CHANNEL, (raw) => {
      let e: Announcement;
      try {
        e = JSON.parse(raw) as Announcement;
      } catch {
        return;
      }
      if (e.origin !== this.origin) this.deliver(e);
    });
    this.timer = setInterval(() => void this.recheck().catch((err: unknown) => this.deps.logger.warn({ err }, "session re-check failed")), this.deps.recheckMs ?? 60_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const u = this.unsubscribe;
    this.unsubscribe = null;
    await u?.().catch(() => undefined);
  }

  /** Ends this process's connections of those sessions now, and tells the other processes. */
  async announce(e: SessionsEnded): Promise<void> {
    this.deliver(e);
    const msg: Announcement = { userId: e.userId, sid: e.sid, keep: e.keep ?? null, origin: this.origin };
    // The sessions are already revoked in the database: a lost announcement only delays the
    // other processes' closing to the next re-check, it must not fail the request.
    await this.deps.hub.publish(CHANNEL, JSON.stringify(msg)).catch((err: unknown) => this.deps.logger.warn({ err }, "session end not announced"));
  }

  /** Registers a long-lived connection of `user`; returns the function that unregisters it. */
  watch(user: Pick<AuthUser, "id" | "sid" | "tokenVersion">, onEnd: () => void): () => void {
    const w: Watcher = { user, onEnd };
    let set = this.watchers.get(user.id);
    if (!set) this.watchers.set(user.id, (set = new Set()));
    set.add(w);
    return () => this.drop(w);
  }

  /** Connections watched in this process (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  /** Re-reads every watched session and ends the connections whose session is gone. */
  async recheck(): Promise<void> {
    const all = [...this.watchers.values()].flatMap((s) => [...s]);
    for (let i = 0; i < all.length; i += RECHECK_BATCH) {
      const batch = all.slice(i, i + RECHECK_BATCH);
      const state = await this.deps.repo.sessionStates(
        [...new Set(batch.map((w) => w.user.id))],
        [...new Set(batch.flatMap((w) => (w.user.sid ? [w.user.sid] : [])))],
      );
      for (const w of batch) {
        const u = state.users.get(w.user.id);
        const ended =
          !u || !u.active || (w.user.tokenVersion !== undefined && u.tokenVersion !== w.user.tokenVersion) || (w.user.sid !== undefined && !state.liveSids.has(w.user.sid));
        if (ended) this.end(w);
      }
    }
  }

  private deliver(e: SessionsEnded): void {
    const set = this.watchers.get(e.userId);
    if (!set) return;
    for (const w of [...set]) if (endsSession(e, w.user)) this.end(w);
  }

  private end(w: Watcher): void {
    if (!this.drop(w)) return;
    try {
      w.onEnd();
    } catch (err) {
      this.deps.logger.warn({ err }, "closing a revoked session's connection failed");
    }
  }

  private drop(w: Watcher): boolean {
    const set = this.watchers.get(w.user.id);
    if (!set?.delete(w)) return false;
    if (set.size === 0) this.watchers.delete(w.user.id);
    return true;
  }
}
