import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { eventBusContract } from "./events.contract.js";
import { createEventBus } from "./events.factory.js";
import { MemoryEventBus } from "./memory.events.js";
import { RedisEventBus } from "./redis.events.js";

const { redisUrl } = loadConfig();
if (!redisUrl) console.warn("events.test.ts: REDIS_URL not set, skipping the RedisEventBus suite");

describe("MemoryEventBus", () => {
  eventBusContract("memory", (hooks) => new MemoryEventBus({ onListenerError: hooks.onListenerError }), { crossInstance: false });

  it("keeps separate instances isolated", async () => {
    const a = new MemoryEventBus();
    const b = new MemoryEventBus();
    await a.publish("v", { type: "x" });
    expect(await b.history("v", 0)).toEqual([]);
    expect((await b.publish("v", { type: "x" })).seq).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe.skipIf(!redisUrl)("RedisEventBus", () => {
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

  eventBusContract("redis", (hooks) => new RedisEventBus(redisUrl!, { prefix, onError: hooks.onListenerError }), {
    crossInstance: true,
  });

  it("expires a video's keys after the TTL", async () => {
    const bus = new RedisEventBus(redisUrl!, { prefix, ttlS: 3600 });
    try {
      await bus.publish("ttl-video", { type: "x" });
      const base = `${prefix}:ev:ttl-video`;
      for (const key of [`${base}:seq`, `${base}:buf`]) {
        const ttl = await admin.ttl(key);
        expect(ttl).toBeGreaterThan(3500);
        expect(ttl).toBeLessThanOrEqual(3600);
      }
    } finally {
      await bus.close();
    }
  });

  it("releases its connections on close()", async () => {
    const own = `${prefix}-close`;
    const bus = new RedisEventBus(redisUrl!, { prefix: own });
    const unsub = await bus.subscribe("v", () => undefined);
    await bus.publish("v", { type: "x" });
    const named = async (): Promise<string[]> =>
      String(await admin.client("LIST"))
        .split("\n")
        .filter((line) => line.includes(`name=${own}:`));
    expect(await named()).toHaveLength(2);
    await unsub();
    await bus.close();
    // Redis drops a client right after answering its QUIT, so allow it a moment to disappear.
    const deadline = Date.now() + 3000;
    while ((await named()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await named()).toEqual([]);
    await deleteKeys(`${own}:*`);
  });
});

describe("createEventBus", () => {
  it("uses Redis only when REDIS_URL is set", async () => {
    const mem = await createEventBus(loadConfig({ NODE_ENV: "test" }));
    expect(mem).toBeInstanceOf(MemoryEventBus);
    await mem.close();
    if (redisUrl) {
      const red = await createEventBus(loadConfig({ NODE_ENV: "test", REDIS_URL: redisUrl }), { prefix: `vidflux-test-${randomUUID()}` });
      expect(red).toBeInstanceOf(RedisEventBus);
      await red.close();
    }
  });
});
