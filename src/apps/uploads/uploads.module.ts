/**
 * Wires the uploads domain from the AppContext. One UploadService per context (a WeakMap), so
 * the routes, the periodic sweep and the tests share the same in-memory locks, progress trackers
 * and validation slots. Locks go through Redis when REDIS_URL is set (several API instances).
 */
import path from "node:path";
import type { AppContext } from "../../context.js";
import { VideoRepository } from "../videos/video.repository.js";
import { VideoService } from "../videos/video.service.js";
import type { Locker } from "./locker.js";
import { MemoryLocker } from "./memory.locker.js";
import { RedisLocker } from "./redis.locker.js";
import { UploadRepository } from "./upload.repository.js";
import { UploadService } from "./upload.service.js";
import { UploadStore } from "./upload.store.js";

const services = new WeakMap<AppContext, UploadService>();

export function createLocker(ctx: Pick<AppContext, "redis" | "config">): Locker {
  return ctx.redis ? new RedisLocker(ctx.redis, { prefix: `${ctx.config.redisPrefix}:` }) : new MemoryLocker();
}

/** The staging directory: DATA_DIR/uploads (shared by every instance when several run). */
export function stagingDir(ctx: Pick<AppContext, "config">): string {
  return path.join(ctx.config.dataDir, "uploads");
}

/** The context's UploadService; `videos` lets the app share its VideoService (else one is made). */
export function uploadServiceFor(ctx: AppContext, videos?: VideoService): UploadService {
  let svc = services.get(ctx);
  if (!svc) {
    svc = new UploadService({
      config: ctx.config,
      logger: ctx.logger,
      repo: new UploadRepository(ctx.db),
      videos: videos ?? new VideoService(new VideoRepository(ctx.db), ctx.events, ctx.storage, ctx.queue, ctx.config),
      storage: ctx.storage,
      media: ctx.media,
      locker: createLocker(ctx),
      store: new UploadStore(stagingDir(ctx)),
    });
    services.set(ctx, svc);
  }
  return svc;
}

/**
 * Deletes expired uploads and their partial files (the server schedules it every
 * UPLOAD_SWEEP_INTERVAL seconds; `startUploadSweeper` does that).
 */
export async function sweepExpired(ctx: AppContext, now = new Date()): Promise<{ uploads: number; orphanFiles: number }> {
  return uploadServiceFor(ctx).sweepExpired(now);
}

/** Runs `sweepExpired` every `config.upload.sweepIntervalS`; returns a stop function. */
export function startUploadSweeper(ctx: AppContext): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepExpired(ctx)
      .then((r) => {
        if (r.uploads || r.orphanFiles) ctx.logger.info(r, "expired uploads swept");
      })
      .catch((err: unknown) => ctx.logger.error({ err }, "upload sweep failed"))
      .finally(() => {
        running = false;
      });
  }, ctx.config.upload.sweepIntervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
