/**
 * The uploads domain, built once by the composition root. `createUploadsModule` is the one place
 * that constructs its pieces, each once per process, because they hold in-memory state the
 * routes, the periodic sweep and the tests must share (locks, progress trackers, validation
 * slots): the byte store (DATA_DIR/uploads), the locker (Redis when REDIS_URL is set, for several
 * API instances), quotas and locks, live progress, validation, the upload records, the tus
 * protocol, the simple upload, the sweep, and the facade the handlers use.
 */
import path from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import type { ApiMetrics } from "../../lib/metrics.js";
import type { Db } from "../../platform/db/db.js";
import type { MediaTools } from "../../platform/media/media-tools.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { VideoService, VideosModule } from "../videos/index.js";
import { DiskUploadStore } from "./disk.upload-store.js";
import type { Locker } from "./locker.js";
import { MemoryLocker } from "./memory.locker.js";
import { RedisLocker } from "./redis.locker.js";
import { SimpleUploadService } from "./simple-upload.service.js";
import { TusUploadService } from "./tus-upload.service.js";
import { UploadLimits } from "./upload-limits.service.js";
import { UploadProgressPublisher } from "./upload-progress-publisher.js";
import { UploadRecords } from "./upload-records.service.js";
import type { UploadByteStore } from "./upload-store.js";
import { UploadValidationService } from "./upload-validation.service.js";
import { uploadRoutes } from "./upload.routes.js";
import { UploadRepository } from "./upload.repository.js";
import { UploadService } from "./upload.service.js";
import { UploadSweeper, type SweepResult } from "./upload-sweeper.js";

export interface UploadsDeps {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis | null;
  storage: Storage;
  media: MediaTools;
  videos: VideoService;
  /** upload bytes received and uploads completed; absent in tests' second modules */
  metrics?: ApiMetrics;
}

export interface UploadsModule {
  /** the operations the handlers and other domains call */
  uploads: UploadService;
  /** background validation of complete uploads (`idle()`, `recover()`) */
  validation: UploadValidationService;
  /** expired uploads and account deletion */
  sweeper: UploadSweeper;
  /** where unfinished uploads' bytes live */
  store: UploadByteStore;
  /**
   * Deletes expired uploads and their partial files (`start()` schedules it every
   * UPLOAD_SWEEP_INTERVAL seconds).
   */
  sweepExpired(now?: Date): Promise<SweepResult>;
  /** resumes validations a restart interrupted, then sweeps periodically */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store, with every kept byte of every append counted (tus PATCHes, creation-with-upload and
 * simple uploads all append through it): the same object otherwise, so its other methods and
 * fields are the store's own.
 */
function countingAppends(store: DiskUploadStore, metrics: ApiMetrics): UploadByteStore {
  const counted: UploadByteStore = Object.create(store) as DiskUploadStore;
  counted.append = async (id, source, opts) => {
    const result = await store.append(id, source, opts);
    metrics.uploadBytes.inc(result.written);
    return result;
  };
  return counted;
}

export function createLocker(deps: Pick<UploadsDeps, "redis" | "config">): Locker {
  return deps.redis ? new RedisLocker(deps.redis, { prefix: `${deps.config.redisPrefix}:` }) : new MemoryLocker();
}

export function createUploadsModule(deps: UploadsDeps): UploadsModule {
  const { config, logger, videos } = deps;
  const repo = new UploadRepository(deps.db);
  const locker = createLocker(deps);
  // The staging directory: DATA_DIR/uploads (shared by every instance when several run).
  const disk = new DiskUploadStore(path.join(config.dataDir, "uploads"));
  const store: UploadByteStore = deps.metrics ? countingAppends(disk, deps.metrics) : disk;
  const limits = new UploadLimits(config, repo, videos, locker);
  const progress = new UploadProgressPublisher(videos, logger);
  const validation = new UploadValidationService({ config, logger, repo, videos, store, storage: deps.storage, media: deps.media, metrics: deps.metrics });
  const records = new UploadRecords({ config, repo, videos, store, progress, validation });
  const tus = new TusUploadService({ config, logger, repo, videos, locker, store, limits, records, progress });
  const simple = new SimpleUploadService(config, limits, records, store, videos);
  const sweeper = new UploadSweeper({ config, repo, videos, locker, store, progress, validation });
  const uploads = new UploadService(tus, simple);
  const sweepExpired = (now = new Date()) => sweeper.sweepExpired(now);
  const periodic = periodicSweep(sweepExpired, logger);
  return {
    uploads,
    validation,
    sweeper,
    store,
    sweepExpired,
    async start() {
      // Videos a restart left in `validating` are validated again.
      await validation.recover().catch((err: unknown) => logger.error({ err }, "resuming upload validations failed"));
      periodic.start(config.upload.sweepIntervalS * 1000);
    },
    async close() {
      periodic.stop();
      // Validations stop (their videos stay `validating` for `recover()`), then locks are released.
      await validation.close();
      await locker.close();
    },
  };
}

/** Runs `sweep` every `intervalMs`, never two at once; failures are logged, not thrown. */
function periodicSweep(sweep: () => Promise<SweepResult>, logger: Logger): { start(intervalMs: number): void; stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let sweeping = false;
  const sweepOnce = () => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .then((r) => {
        if (r.uploads || r.orphanFiles) logger.info(r, "expired uploads swept");
      })
      .catch((err: unknown) => logger.error({ err }, "upload sweep failed"))
      .finally(() => {
        sweeping = false;
      });
  };
  return {
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(sweepOnce, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

export async function registerUploadsRoutes(app: App, mod: UploadsModule, deps: { config: Config; videos: Pick<VideosModule, "queries"> }): Promise<void> {
  await mod.store.init();
  app.addHook("onReady", () => mod.start());
  app.addHook("onClose", () => mod.close());
  await uploadRoutes(app, { uploads: mod.uploads, config: deps.config, detail: (id, user, role) => deps.videos.queries.detail(id, user, role) });
}
