/**
 * Redis-backed StateHub, used when REDIS_URL is set so that the devices of one playback session
 * share its state even when their connections land on different API processes. Layout:
 *   `${prefix}:hub:${key}`         hash {v: version, d: data} with the record's TTL
 *   `${prefix}:hub:${setKey}:m`    hash member -> `<expiresAtMs>|<data>`
 *   `${prefix}:hub:ch:${channel}`  pub/sub channel
 * Records and member sets share one key space: a record key must not equal `${setKey}:m` for a
 * member set in use (both are hashes, so the two would silently overwrite each other's fields).
 * TTLs are set in milliseconds (PEXPIRE), so fractional `ttlS` behaves as in the memory adapter.
 *
 * Member expiry uses the Redis server clock (TIME inside the scripts), not the API processes'
 * clocks: every writer and reader then compares stamps against one clock, so no NTP skew between
 * processes can make a member look expired early (or live late), and a stamp is taken in the same
 * atomic step that writes it. Scripts that call TIME and then write need script-effects
 * replication: the default since Redis 5 and the only mode since 7.
 */
import { Redis } from "ioredis";
import { RedisChannels, quitRedis } from "./redis-channels.js";
import { assertExpectedVersion, assertTtl, ttlMs } from "./memory.state-hub.js";
import type { HubRecord, StateHub } from "./state-hub.js";

export interface RedisStateHubOptions {
  /** Key and channel namespace; tests use a unique one per run. */
  prefix?: string;
  /** Receives listener exceptions and Redis connection errors. */
  onError?: (err: unknown) => void;
}

/**
 * Read, compare and bump in one script: Redis runs scripts atomically, so of two processes that
 * read version 3, exactly one writes version 4 and the other gets -1 and re-reads. An absent key
 * reads as version 0, which is what "expected 0: must be absent" means.
 * KEYS: record key. ARGV: expected version, data, TTL in ms. Returns the new version or -1.
 */
const CAS_SCRIPT = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
v = v + 1
redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return v
`;

/** Same server time in ms in every script (Lua numbers are doubles: exact far beyond 2^41). */
const LUA_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Stamps and stores a member, then makes sure the whole hash outlives it. The hash TTL is only
 * ever extended (PTTL check), never shortened: a short-lived member joining must not make the hash,
 * and with it a long-lived member, vanish early. A set whose members all stop refreshing is
 * therefore gone at most SET_MARGIN_MS after its last stamp, even if nobody calls members().
 * KEYS: set key. ARGV: member, data, TTL in ms, margin in ms.
 */
const SET_MEMBER_SCRIPT = `${LUA_NOW}
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', now + ttl) .. '|' .. ARGV[2])
local keep = ttl + tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1
`;

/**
 * Reads the live members and deletes the expired ones in one atomic step: done as HGETALL then
 * HDEL from the client, a member refreshed in between would be deleted although it is live.
 * Entries without a readable stamp are dropped like expired ones.
 * KEYS: set key. Returns [member, data, member, data, ...].
 */
const MEMBERS_SCRIPT = `${LUA_NOW}
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local val = all[i + 1]
  local sep = string.find(val, '|', 1, true)
  local exp = sep and tonumber(string.sub(val, 1, sep - 1))
  if exp and exp > now then
    live[#live + 1] = all[i]
    live[#live + 1] = string.sub(val, sep + 1)
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
`;

/** How long a member hash outlives its longest-lived member's stamp. */
const SET_MARGIN_MS = 10 * 1000;

export class RedisStateHub implements StateHub {
  private readonly prefix: string;
  private readonly onError: (err: unknown) => void;
  private readonly cmd: Redis;
  private readonly channels: RedisChannels;
  private closed = false;

  constructor(redisUrl: string, opts: RedisStateHubOptions = {}) {
    this.prefix = opts.prefix ?? "vidflux";
    this.onError = opts.onError ?? ((err) => console.error("state hub error", err));
    // Named connections make `CLIENT LIST` show who holds them (and let tests prove close() released them).
    this.cmd = new Redis(redisUrl, { connectionName: `${this.prefix}:state-hub` });
    // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt.
    this.cmd.on("error", (err) => this.onError(err));
    this.channels = new RedisChannels(this.cmd, `${this.prefix}:state-hub-sub`, this.onError);
  }

  private recordKey(key: string): string {
    return `${this.prefix}:hub:${key}`;
  }

  private setKey(setKey: string): string {
    return `${this.prefix}:hub:${setKey}:m`;
  }

  private channelName(channel: string): string {
    return `${this.prefix}:hub:ch:${channel}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("StateHub is closed");
  }

  async get(key: string): Promise<HubRecord | null> {
    this.assertOpen();
    const [v, d] = await this.cmd.hmget(this.recordKey(key), "v", "d");
    // v and d are written together by the script, so one without the other means "absent".
    if (v === null || d === null) return null;
    return { version: Number(v), data: d };
  }

  async compareAndSet(key: string, expectedVersion: number, data: string, ttlS: number): Promise<number | null> {
    this.assertOpen();
    assertExpectedVersion(expectedVersion);
    assertTtl(ttlS);
    const version = Number(await this.cmd.eval(CAS_SCRIPT, 1, this.recordKey(key), expectedVersion, data, ttlMs(ttlS)));
    return version < 0 ? null : version;
  }

  async touch(key: string, ttlS: number): Promise<boolean> {
    this.assertOpen();
    assertTtl(ttlS);
    return (await this.cmd.pexpire(this.recordKey(key), ttlMs(ttlS))) === 1;
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    await this.cmd.del(this.recordKey(key));
  }

  async setMember(setKey: string, member: string, data: string, ttlS: number): Promise<void> {
    this.assertOpen();
    assertTtl(ttlS);
    await this.cmd.eval(SET_MEMBER_SCRIPT, 1, this.setKey(setKey), member, data, ttlMs(ttlS), SET_MARGIN_MS);
  }

  async removeMember(setKey: string, member: string): Promise<void> {
    this.assertOpen();
    // Redis deletes a hash whose last field goes, so an emptied set leaves nothing behind.
    await this.cmd.hdel(this.setKey(setKey), member);
  }

  async members(setKey: string): Promise<Map<string, string>> {
    this.assertOpen();
    const flat = await this.cmd.eval(MEMBERS_SCRIPT, 1, this.setKey(setKey));
    const out = new Map<string, string>();
    if (!Array.isArray(flat)) return out;
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(String(flat[i]), String(flat[i + 1]));
    return out;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    // Commands on one connection are sent and executed in call order, so this process's messages
    // reach every subscriber in publish order.
    await this.cmd.publish(this.channelName(channel), message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    return this.channels.subscribe(this.channelName(channel), listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.channels.close(), quitRedis(this.cmd)]);
  }
}
