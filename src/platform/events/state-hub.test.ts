import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { MemoryStateHub } from "./memory.state-hub.js";
import { RedisStateHub } from "./redis.state-hub.js";
import { stateHubContract } from "./state-hub.contract.js";
import { createStateHub } from "./state-hub.factory.js";

const { redisUrl } = loadConfig();
if (!redisUrl) console.warn("state-hub.test.ts: REDIS_URL not set, skipping the RedisStateHub suite");

describe("MemoryStateHub", () => {
  stateHubContract("memory", (hooks) => new MemoryStateHub({ onListenerError: hooks.onListenerError }), { crossInstance: false });

  it("never returns an expired record or member, even before any sweep", async () => {
    let now = 1_000_000;
    const hub = new MemoryStateHub({ now: () => now });
    await hub.compareAndSet("r", 0, "x", 10);
    await hub.compareAndSet("kept", 0, "y", 10);
    await hub.setMember("s", "m", "d", 10);
    now += 9_999;
    expect(await hub.get("r")).toEqual({ version: 1, data: "x" });
    expect(await hub.touch("kept", 10)).toBe(true);
    now += 1; // exactly at the expiry instant: gone (the sweep interval is far from elapsed)
    expect(await hub.get("r")).toBeNull();
    expect(await hub.touch("r", 10)).toBe(false);
    expect(await hub.compareAndSet("r", 1, "stale", 10)).toBeNull();
    expect(await hub.members("s")).toEqual(new Map());
    expect(await hub.get("kept")).toEqual({ version: 1, data: "y" });
    expect(await hub.compareAndSet("r", 0, "fresh", 10)).toBe(1);
    await hub.close();
  });

  it("keeps separate instances isolated", async () => {
    const a = new MemoryStateHub();
    const b = new MemoryStateHub();
    await a.compareAndSet("k", 0, "x", 60);
    await a.setMember("s", "m", "d", 60);
    const got: string[] = [];
    await b.subscribe("ch", (m) => got.push(m));
    await a.publish("ch", "from-a");
    expect(await b.get("k")).toBeNull();
    expect(await b.members("s")).toEqual(new Map());
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("delivers asynchronously, to the subscriptions live at publish time", async () => {
    const hub = new MemoryStateHub();
    const early: string[] = [];
    const leaving: string[] = [];
    const late: string[] = [];
    await hub.subscribe("ch", (m) => early.push(m));
    const unsubLeaving = await hub.subscribe("ch", (m) => leaving.push(m));
    void hub.publish("ch", "one");
    expect(early).toEqual([]); // not inside publish()'s call stack
    await unsubLeaving(); // gone before delivery: skipped
    await hub.subscribe("ch", (m) => late.push(m)); // arrived after the publish: not a receiver
    await new Promise((r) => setTimeout(r, 0));
    expect([early, leaving, late]).toEqual([["one"], [], []]);
    await hub.close();
  });

  it("drops pending deliveries on close()", async () => {
    const hub = new MemoryStateHub();
    const got: string[] = [];
    await hub.subscribe("ch", (m) => got.push(m));
    void hub.publish("ch", "x"); // not awaited: the delivery is still queued when close() runs
    await hub.close();
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([]);
  });
});

describe.skipIf(!redisUrl)("RedisStateHub", () => {
  // A unique namespace per run: parallel test files and earlier runs never share keys or channels.
  const prefix = `vidflux-test-${randomUUID()}`;
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(redisUrl!);
  });

  const deleteKeys = async (match: string): Promise<void> => {
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", match, "COUNT", 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  };

  afterAll(async () => {
    await deleteKeys(`${prefix}*`);
    await admin.quit();
  });

  stateHubContract("redis", (hooks) => new RedisStateHub(redisUrl!, { prefix, onError: hooks.onListenerError }), {
    crossInstance: true,
  });

  it("stores a record as a hash {v, d} with the TTL", async () => {
    const hub = new RedisStateHub(redisUrl!, { prefix });
    try {
      await hub.compareAndSet("layout", 0, "one", 3600);
      await hub.compareAndSet("layout", 1, "two", 3600);
      const key = `${prefix}:hub:layout`;
      expect(await admin.hgetall(key)).toEqual({ v: "2", d: "two" });
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(3_590_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      expect(await hub.touch("layout", 1.5)).toBe(true); // fractional TTLs are kept in ms
      expect(await admin.pttl(key)).toBeLessThanOrEqual(1500);
    } finally {
      await hub.close();
    }
  });

  it("stamps members with the server clock and only ever extends the set's TTL", async () => {
    const hub = new RedisStateHub(redisUrl!, { prefix });
    try {
      const key = `${prefix}:hub:stamps:m`;
      const [sec] = await admin.time();
      await hub.setMember("stamps", "long", "a|b", 3600);
      const [expiresAt, data] = String(await admin.hget(key, "long")).split(/\|(.*)/s);
      expect(data).toBe("a|b");
      expect(Number(expiresAt) - Number(sec) * 1000).toBeGreaterThanOrEqual(3_599_000);
      expect(Number(expiresAt) - Number(sec) * 1000).toBeLessThanOrEqual(3_602_000);
      const setTtl = await admin.pttl(key);
      expect(setTtl).toBeGreaterThan(3_600_000); // outlives its longest member by a margin
      await hub.setMember("stamps", "short", "s", 1);
      expect(await admin.pttl(key)).toBeGreaterThan(3_590_000);
    } finally {
      await hub.close();
    }
  });

  it("members() deletes expired and unreadable entries", async () => {
    const hub = new RedisStateHub(redisUrl!, { prefix });
    try {
      const key = `${prefix}:hub:stale:m`;
      await hub.setMember("stale", "live", "ok", 3600);
      await admin.hset(key, "expired", "1000|old", "garbage", "no-stamp");
      expect(await hub.members("stale")).toEqual(new Map([["live", "ok"]]));
      expect(await admin.hkeys(key)).toEqual(["live"]);
    } finally {
      await hub.close();
    }
  });

  it("releases its connections on close()", async () => {
    const own = `${prefix}-close`;
    const hub = new RedisStateHub(redisUrl!, { prefix: own });
    const unsub = await hub.subscribe("ch", () => undefined);
    await hub.compareAndSet("k", 0, "x", 60);
    const named = async (): Promise<string[]> =>
      String(await admin.client("LIST"))
        .split("\n")
        .filter((line) => line.includes(`name=${own}:`));
    expect(await named()).toHaveLength(2);
    await unsub();
    await hub.close();
    // Redis drops a client right after answering its QUIT, so allow it a moment to disappear.
    const deadline = Date.now() + 3000;
    while ((await named()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await named()).toEqual([]);
    await deleteKeys(`${own}:*`);
  });
});

describe("createStateHub", () => {
  it("uses Redis only when REDIS_URL is set", async () => {
    const mem = await createStateHub(loadConfig({ NODE_ENV: "test" }));
    expect(mem).toBeInstanceOf(MemoryStateHub);
    await mem.close();
    if (redisUrl) {
      const red = await createStateHub(loadConfig({ NODE_ENV: "test", REDIS_URL: redisUrl }), { prefix: `vidflux-test-${randomUUID()}` });
      expect(red).toBeInstanceOf(RedisStateHub);
      await red.close();
    }
  });
});
