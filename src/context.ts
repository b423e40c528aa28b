/**
 * The process's platform: which adapter implements each port, chosen from Config only. The API
 * server, the CLI and the tests build one of these, then hand it to the composition root
 * (composition.ts), which builds the domains from it. It knows no domain. `close()` releases
 * everything.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { openDb, type Db } from "./platform/db/db.js";
import type { Storage } from "./platform/storage/storage.js";
import { createStorage } from "./platform/storage/storage.factory.js";
import type { EventBus } from "./platform/events/events.js";
import { createEventBus } from "./platform/events/events.factory.js";
import type { StateHub } from "./platform/events/state-hub.js";
import { createStateHub } from "./platform/events/state-hub.factory.js";
import type { Queue } from "./platform/queue/queue.js";
import { createQueue } from "./platform/queue/queue.factory.js";
import { locateMedia, type MediaTools } from "./platform/media/media-tools.js";
import type { Mailer } from "./platform/mail/mailer.js";
import { createMailer } from "./platform/mail/mailer.factory.js";
import { ApiMetrics, createRegistry } from "./lib/metrics.js";
import { createLogger } from "./lib/request-log.js";

export interface AppContext {
  config: Config;
  logger: Logger;
  db: Db;
  /** shared ioredis connection (rate-limit store, locks) when REDIS_URL is set */
  redis: Redis | null;
  storage: Storage;
  events: EventBus;
  /**
   * The viewers' live channel (comments, reaction counts): a second bus on its own prefix, so the
   * owner's conversion events (`events`) and their seq/replay stay apart from the public ones.
   */
  liveEvents: EventBus;
  /** shared versioned state + fan-out (live playback sessions, rooms): in-process or Redis */
  hub: StateHub;
  queue: Queue;
  /** ffmpeg/ffprobe in use (FFMPEG_PATH, else the system's, else the npm-bundled 4.1) */
  media: MediaTools;
  /** account email (password reset): console, file or SMTP backend */
  mailer: Mailer;
  /** this process's Prometheus registry and the API's instruments (one per context: tests build many) */
  metrics: ApiMetrics;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Postgres schema (tests isolate each file); default: DATABASE_SCHEMA, else the server's search_path */
  pgSchema?: string;
  migrate?: boolean;
  /** where the process logger writes (default: stdout); tests read it */
  logStream?: { write(line: string): void };
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const logger = createLogger({ level: config.logLevel, nodeEnv: config.nodeEnv, stream: opts.logStream });
  const db = await openDb({ ...config.db, schema: opts.pgSchema ?? config.db.schema }, { migrate: opts.migrate !== false });
  // ioredis is imported only when REDIS_URL is set (embedded processes never load it).
  const redis = config.redisUrl ? new (await import("ioredis")).Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false }) : null;
  const storage = await createStorage(config);
  const events = await createEventBus(config, { prefix: config.redisPrefix, onError: (err) => logger.error({ err }, "event bus error") });
  const liveEvents = await createEventBus(config, { prefix: `${config.redisPrefix}:live`, onError: (err) => logger.error({ err }, "live event bus error") });
  const hub = await createStateHub(config, { prefix: config.redisPrefix, onError: (err) => logger.error({ err }, "state hub error") });
  const queue = await createQueue(config, db);
  const media = await locateMedia(config);
  const mailer = await createMailer(config, logger);
  const metrics = new ApiMetrics(createRegistry(), () => queue.counts());
  // closed in reverse order: the queue first (it may still report to the event bus), storage last
  const closers: (() => Promise<unknown>)[] = [() => storage.close(), () => events.close(), () => liveEvents.close(), () => hub.close(), () => queue.close()];
  return {
    config,
    logger,
    db,
    redis,
    storage,
    events,
    liveEvents,
    hub,
    queue,
    media,
    mailer,
    metrics,
    async close() {
      for (const c of closers.reverse()) await c();
      await mailer.close();
      if (redis) await redis.quit().catch(() => undefined);
      await db.destroy();
    },
  };
}
