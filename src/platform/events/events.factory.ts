/**
 * Picks the event bus: Redis when REDIS_URL is set (events cross process boundaries: workers,
 * several API instances), otherwise the in-process bus.
 */
import type { Config } from "../../config.js";
import type { EventBus } from "./events.js";
import { MemoryEventBus } from "./memory.events.js";

/** Async: the Redis adapter (and ioredis) is imported only when REDIS_URL is set. */
export async function createEventBus(config: Config, opts: { prefix?: string; onError?: (err: unknown) => void } = {}): Promise<EventBus> {
  if (config.redisUrl) {
    const { RedisEventBus } = await import("./redis.events.js");
    return new RedisEventBus(config.redisUrl, { prefix: opts.prefix, onError: opts.onError });
  }
  return new MemoryEventBus({ onListenerError: opts.onError });
}
