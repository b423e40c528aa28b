/**
 * Shared, versioned state with fan-out: what live playback sessions (src/apps/playback) need so
 * that devices on different API processes share one session. Three things, all keyed by strings
 * the caller chooses:
 *
 * - **Records**: a small JSON document with a version. `compareAndSet` writes only when the
 *   stored version is the one the writer read (optimistic concurrency), bumping it by one
 *   atomically, so two processes applying a `seek` and a `pause` at once never lose either: the
 *   loser re-reads and re-applies. Records expire `ttlS` after their last write or `touch`.
 * - **Member sets**: who is present (devices of a session, members of a room). Each member has its
 *   own expiry, refreshed by the process holding its connection, so a crashed process's members
 *   vanish on their own instead of haunting the room.
 * - **Channels**: fire-and-forget pub/sub of strings; every process subscribed receives each
 *   message once, in publish order per publisher.
 *
 * In-process (memory.state-hub.ts) for the embedded default; Redis (redis.state-hub.ts: a hash
 * `{v, d}` updated by a Lua script, a hash of members with expiry stamps, PUBLISH/SUBSCRIBE) when
 * REDIS_URL is set. One contract suite (state-hub.contract.ts) runs against both.
 */
export interface HubRecord {
  /** 1 for the first write, +1 per successful compareAndSet */
  version: number;
  data: string;
}

export interface StateHub {
  /** The record under `key`, or null if absent or expired. */
  get(key: string): Promise<HubRecord | null>;
  /**
   * Writes `data` if the stored version equals `expectedVersion` (0: the record must be absent),
   * and sets its expiry to `ttlS` from now. Returns the new version, or null when another writer
   * got there first (the caller re-reads and retries).
   */
  compareAndSet(key: string, expectedVersion: number, data: string, ttlS: number): Promise<number | null>;
  /** Extends a record's expiry without changing it; false if it does not exist. */
  touch(key: string, ttlS: number): Promise<boolean>;
  delete(key: string): Promise<void>;

  /** Adds or refreshes a member (data replaced) that expires `ttlS` from now unless refreshed. */
  setMember(setKey: string, member: string, data: string, ttlS: number): Promise<void>;
  removeMember(setKey: string, member: string): Promise<void>;
  /** Live (unexpired) members and their data. */
  members(setKey: string): Promise<Map<string, string>>;

  publish(channel: string, message: string): Promise<void>;
  /**
   * Receives the channel's messages from when the returned promise resolves (the subscription is
   * confirmed) until the returned function is called. Listeners of one channel share one
   * underlying subscription per hub.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
