/** In-process locks: enough for one API instance (the embedded default). */
import { DEFAULT_LOCK_WAIT_MS, LockInterruptedError, LockTimeoutError, type AcquireOptions, type Lock, type Locker } from "./locker.js";

interface Held {
  ctrl: AbortController;
  waiters: Set<() => void>;
}

export class MemoryLocker implements Locker {
  readonly kind = "memory" as const;
  private readonly held = new Map<string, Held>();

  async acquire(key: string, opts: AcquireOptions = {}): Promise<Lock> {
    const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const current = this.held.get(key);
      if (!current) return this.take(key);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        if (opts.requestRelease !== false && !current.ctrl.signal.aborted) current.ctrl.abort(new LockInterruptedError("release_requested"));
        throw new LockTimeoutError(key);
      }
      // Register as a waiter before asking: the holder may release synchronously on abort.
      const released = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          current.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        current.waiters.add(done);
      });
      if (opts.requestRelease !== false && !current.ctrl.signal.aborted) current.ctrl.abort(new LockInterruptedError("release_requested"));
      await released;
    }
  }

  private take(key: string): Lock {
    const entry: Held = { ctrl: new AbortController(), waiters: new Set() };
    this.held.set(key, entry);
    let released = false;
    return {
      signal: entry.ctrl.signal,
      release: async () => {
        if (released) return;
        released = true;
        if (this.held.get(key) === entry) this.held.delete(key);
        for (const w of [...entry.waiters]) w();
      },
    };
  }

  async close(): Promise<void> {
    for (const entry of this.held.values()) entry.ctrl.abort(new LockInterruptedError("lost"));
    this.held.clear();
  }
}
