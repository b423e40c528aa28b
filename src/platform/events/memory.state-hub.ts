/**
 * In-process StateHub: the embedded default when REDIS_URL is unset (one API process, so "shared"
 * state only has to be shared between the connections of that process). It mimics what the Redis
 * adapter guarantees, so code tested against it behaves the same at scale:
 * - expiry is checked on every access, so an expired record or member is never returned even if
 *   nothing has swept it yet; a sweep on writes (at most every SWEEP_INTERVAL_MS) then frees what
 *   nobody reads any more. No timer is involved, so the hub never keeps a process alive;
 * - channel delivery is asynchronous (a microtask per message, FIFO, so publish order holds), as it
 *   is over the network: a publisher never runs its subscribers' code inside its own call stack, and
 *   code that only works because delivery happened synchronously fails here too, not first in prod.
 */
import type { HubRecord, StateHub } from "./state-hub.js";

export interface MemoryStateHubOptions {
  /** Receives exceptions thrown by listeners (they must not break the publisher or other listeners). */
  onListenerError?: (err: unknown) => void;
  /** Clock in ms since the epoch; tests inject one to reach expiry without waiting. */
  now?: () => number;
}

interface StoredRecord {
  version: number;
  data: string;
  expiresAt: number;
}

interface StoredMember {
  data: string;
  expiresAt: number;
}

/** One subscribe() call: a distinct object, so the same function subscribed twice is two listeners. */
interface Subscription {
  listener: (message: string) => void;
}

/** Expired entries nobody reads are dropped at most this often (lazily, on writes). */
const SWEEP_INTERVAL_MS = 30 * 1000;

/** Shared by both adapters so a caller's mistake fails the same way embedded and at scale. */
export function assertTtl(ttlS: number): void {
  if (!Number.isFinite(ttlS) || ttlS <= 0) throw new RangeError("ttlS must be a positive number of seconds");
}

export function assertExpectedVersion(expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) throw new RangeError("expectedVersion must be a non-negative integer");
}

/** Seconds to whole milliseconds, at least 1: Redis PEXPIRE takes integers, and 0 would delete. */
export function ttlMs(ttlS: number): number {
  return Math.max(1, Math.round(ttlS * 1000));
}

export class MemoryStateHub implements StateHub {
  private readonly records = new Map<string, StoredRecord>();
  private readonly sets = new Map<string, Map<string, StoredMember>>();
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly onListenerError: (err: unknown) => void;
  private readonly now: () => number;
  private lastSweep: number;
  private closed = false;

  constructor(opts: MemoryStateHubOptions = {}) {
    this.onListenerError = opts.onListenerError ?? ((err) => console.error("state hub listener failed", err));
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("StateHub is closed");
  }

  /** The live record, dropping it if it has expired (so callers never see a stale one). */
  private liveRecord(key: string, now: number): StoredRecord | undefined {
    const rec = this.records.get(key);
    if (rec && rec.expiresAt <= now) {
      this.records.delete(key);
      return undefined;
    }
    return rec;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, rec] of this.records) if (rec.expiresAt <= now) this.records.delete(key);
    for (const [setKey, set] of this.sets) {
      for (const [member, m] of set) if (m.expiresAt <= now) set.delete(member);
      if (set.size === 0) this.sets.delete(setKey);
    }
  }

  async get(key: string): Promise<HubRecord | null> {
    this.assertOpen();
    const rec = this.liveRecord(key, this.now());
    // A copy: the caller must not be able to mutate the stored record.
    return rec ? { version: rec.version, data: rec.data } : null;
  }

  async compareAndSet(key: string, expectedVersion: number, data: string, ttlS: number): Promise<number | null> {
    this.assertOpen();
    assertExpectedVersion(expectedVersion);
    assertTtl(ttlS);
    const now = this.now();
    this.sweep(now);
    // Check and write happen in one synchronous step, so no other call can interleave: this is
    // what the Lua script gives the Redis adapter.
    const current = this.liveRecord(key, now)?.version ?? 0;
    if (current !== expectedVersion) return null;
    const version = current + 1;
    this.records.set(key, { version, data, expiresAt: now + ttlMs(ttlS) });
    return version;
  }

  async touch(key: string, ttlS: number): Promise<boolean> {
    this.assertOpen();
    assertTtl(ttlS);
    const now = this.now();
    const rec = this.liveRecord(key, now);
    if (!rec) return false;
    rec.expiresAt = now + ttlMs(ttlS);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    this.records.delete(key);
  }

  async setMember(setKey: string, member: string, data: string, ttlS: number): Promise<void> {
    this.assertOpen();
    assertTtl(ttlS);
    const now = this.now();
    this.sweep(now);
    let set = this.sets.get(setKey);
    if (!set) {
      set = new Map();
      this.sets.set(setKey, set);
    }
    set.set(member, { data, expiresAt: now + ttlMs(ttlS) });
  }

  async removeMember(setKey: string, member: string): Promise<void> {
    this.assertOpen();
    const set = this.sets.get(setKey);
    if (!set) return;
    set.delete(member);
    if (set.size === 0) this.sets.delete(setKey);
  }

  async members(setKey: string): Promise<Map<string, string>> {
    this.assertOpen();
    const out = new Map<string, string>();
    const set = this.sets.get(setKey);
    if (!set) return out;
    const now = this.now();
    for (const [member, m] of set) {
      if (m.expiresAt <= now) set.delete(member);
      else out.set(member, m.data);
    }
    if (set.size === 0) this.sets.delete(setKey);
    return out;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    const subs = this.channels.get(channel);
    if (!subs || subs.size === 0) return;
    // The receivers are the subscriptions live at publish time (a later subscriber must not get an
    // earlier message); each is re-checked at delivery, so one that unsubscribed in between is skipped.
    const receivers = [...subs];
    queueMicrotask(() => {
      if (this.closed) return;
      for (const sub of receivers) {
        if (!subs.has(sub)) continue;
        try {
          sub.listener(message);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    });
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    let subs = this.channels.get(channel);
    if (!subs) {
      subs = new Set();
      this.channels.set(channel, subs);
    }
    const current = subs;
    const sub: Subscription = { listener };
    current.add(sub);
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      current.delete(sub);
      if (current.size === 0 && this.channels.get(channel) === current) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.records.clear();
    this.sets.clear();
    // Pending deliveries still hold their sets; emptying them makes those deliveries no-ops too.
    for (const subs of this.channels.values()) subs.clear();
    this.channels.clear();
  }
}
