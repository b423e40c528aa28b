/**
 * The process's wiring: which adapter implements each port, chosen from Config only. The API
 * server, the worker and the tests all build one of these; `close()` releases everything.
 */
import { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import type { Config } from "./config.js";
import { createDb, migrateToLatest, type Db } from "./platform/db/db.js";
import { TokenService } from "./apps/users/token.service.js";
import type { Storage } from "./platform/storage/storage.js";
import { createStorage } from "./platform/storage/storage.factory.js";
import type { EventBus } from "./platform/events/events.js";
import { createEventBus } from "./platform/events/events.factory.js";

export interface AppContext {
  config: Config;
  logger: Logger;
  db: Db;
  tokens: TokenService;
  /** shared ioredis connection (rate-limit store, locks) when REDIS_URL is set */
  redis: Redis | null;
  storage: Storage;
  events: EventBus;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Postgres schema (tests isolate each file); default: the URL's search_path */
  pgSchema?: string;
  migrate?: boolean;
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const logger = pino({ level: config.logLevel });
  const db = createDb({ kind: config.db.kind, url: config.db.url, sqlitePath: config.db.sqlitePath, ...(opts.pgSchema ? { schema: opts.pgSchema } : {}) });
  if (opts.migrate !== false) await migrateToLatest(db);
  const tokens = await TokenService.create(config);
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false }) : null;
  const storage = createStorage(config);
  const events = createEventBus(config, { onError: (err) => logger.error({ err }, "event bus error") });
  const closers: (() => Promise<unknown>)[] = [() => storage.close(), () => events.close()];
  return {
    config,
    logger,
    db,
    tokens,
    redis,
    storage,
    events,
    async close() {
      for (const c of closers.reverse()) await c();
      if (redis) await redis.quit().catch(() => undefined);
      await db.destroy();
    },
  };
}
