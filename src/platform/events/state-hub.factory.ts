/**
 * Picks the state hub: Redis when REDIS_URL is set (several API processes must share live sessions),
 * otherwise the in-process hub of the embedded default.
 */
import type { Config } from "../../config.js";
import { MemoryStateHub } from "./memory.state-hub.js";
import type { StateHub } from "./state-hub.js";

/**
 * Async: the Redis adapter (and ioredis) is imported only when REDIS_URL is set. The prefix
 * defaults to REDIS_PREFIX, so deployments sharing one Redis never share sessions by accident.
 */
export async function createStateHub(config: Config, opts: { prefix?: string; onError?: (err: unknown) => void } = {}): Promise<StateHub> {
  if (config.redisUrl) {
    const { RedisStateHub } = await import("./redis.state-hub.js");
    return new RedisStateHub(config.redisUrl, { prefix: opts.prefix ?? config.redisPrefix, onError: opts.onError });
  }
  return new MemoryStateHub({ onListenerError: opts.onError });
}
