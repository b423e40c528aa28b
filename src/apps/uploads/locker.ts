/**
 * Per-upload locks: one PATCH (or DELETE, or concatenation) at a time per upload. Two
 * implementations behind one interface: in-memory for a single API instance, Redis
 * (`SET NX PX` + renewal) when several instances share REDIS_URL, because memory locks cannot see
 * another process. Both pass `locker.contract.ts`.
 *
 * A client whose connection broke usually resumes before the server has noticed: its new request
 * finds the old PATCH still holding the lock. So `acquire` asks the holder to let go (the
 * holder's `signal` aborts, its PATCH stops and commits what it received) and waits for it.
 */
export interface Lock {
  /** Aborted when the lock is lost or another request asked for it; the reason is a LockInterruptedError. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** how long to wait for the current holder (default 10 s); 0: fail at once */
  waitMs?: number;
  /** ask the current holder to let go (default true) */
  requestRelease?: boolean;
}

export interface Locker {
  readonly kind: "memory" | "redis";
  /** Throws LockTimeoutError when the lock stays taken for `waitMs`. */
  acquire(key: string, opts?: AcquireOptions): Promise<Lock>;
  close(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} is held by another request`);
    this.name = "LockTimeoutError";
  }
}

export class LockInterruptedError extends Error {
  constructor(readonly why: "lost" | "release_requested") {
    super(why === "lost" ? "the upload lock was lost" : "another request took over this upload");
    this.name = "LockInterruptedError";
  }
}

export const DEFAULT_LOCK_WAIT_MS = 10_000;
