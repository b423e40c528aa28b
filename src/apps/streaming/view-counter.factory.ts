/** Picks the view counter: Redis when the context has a connection, else in-process. */
import type { Redis } from "ioredis";
import type { Db } from "../../platform/db/db.js";
import { MemoryViewCounter } from "./memory.view-counter.js";
import { RedisViewCounter } from "./redis.view-counter.js";
import type { ViewCounter, ViewCounterOptions } from "./view-counter.js";

export function createViewCounter(db: Db, redis: Redis | null, opts: ViewCounterOptions & { prefix?: string }): ViewCounter {
  return redis ? new RedisViewCounter(redis, db, opts) : new MemoryViewCounter(db, opts);
}
