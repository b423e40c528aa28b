/**
 * The streaming domain, built once by the composition root: the video cache, the object sender
 * (open-fd cache), playback tokens, the view counter and its flusher, the media routes and the
 * thumbnail routes. It reads video rows through the videos domain's repository and hears of
 * changed videos through `videos.onVideoChanged`, so this process stops serving the old state at
 * once (other processes follow within the 2 s cache TTL).
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import type { Db } from "../../platform/db/db.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { TokenService } from "../users/index.js";
import type { VideosModule } from "../videos/index.js";
import { ObjectSender } from "./object-sender.js";
import { MediaOffload } from "./offload.js";
import { PlaybackService } from "./playback.service.js";
import { StreamingService } from "./streaming.service.js";
import { streamingRoutes } from "./streaming.routes.js";
import { thumbRoutes } from "./thumbs.routes.js";
import { VideoCache } from "./video-cache.js";
import { createViewCounter } from "./view-counter.factory.js";
import { viewerHashKey, type ViewCounter } from "./view-counter.js";

/** How long video rows, open files and parsed playlists are reused without re-reading. */
export const STREAM_CACHE_TTL_MS = 2000;

export interface StreamingDeps {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis | null;
  storage: Storage;
  tokens: TokenService;
  videos: Pick<VideosModule, "repo" | "queries" | "posters" | "onVideoChanged">;
}

export interface StreamingModule {
  playback: PlaybackService;
  views: ViewCounter;
  videos: VideoCache;
  sender: ObjectSender;
  service: StreamingService;
  /** Drops this process's cached state of a video (after its visibility, media or existence changed). */
  invalidate(videoId: string): void;
  close(): Promise<void>;
}

export function createStreamingModule(deps: StreamingDeps): StreamingModule {
  const { config } = deps;
  const onError = (err: unknown, msg: string) => deps.logger.error({ err }, msg);
  const playback = PlaybackService.fromConfig(deps.tokens, config);
  const videos = new VideoCache(deps.videos.repo, STREAM_CACHE_TTL_MS);
  const sender = new ObjectSender(deps.storage, { cacheTtlMs: STREAM_CACHE_TTL_MS });
  const views = createViewCounter(deps.db, deps.redis, {
    windowS: config.playback.viewWindowS,
    maxPerAddress: config.playback.viewsPerAddress,
    flushIntervalMs: 1000,
    prefix: `${config.redisPrefix}:views:`,
    onError: (err) => onError(err, "view count flush failed"),
  });
  // config.ts refuses MEDIA_OFFLOAD=nginx with STORAGE=s3, so the storage here is the disk one.
  const offload = config.storage.offload.mode === "nginx" ? new MediaOffload(config.storage.offload.prefix, sender) : null;
  const service = new StreamingService({
    config,
    storage: deps.storage,
    repo: deps.videos.repo,
    videos,
    sender,
    playback,
    views,
    viewerHashKey: viewerHashKey(config),
    onError,
    cacheTtlMs: STREAM_CACHE_TTL_MS,
    offload,
  });
  const unsubscribe = deps.videos.onVideoChanged((id) => service.invalidate(id));
  return {
    playback,
    views,
    videos,
    sender,
    service,
    invalidate: (id) => service.invalidate(id),
    async close() {
      unsubscribe();
      sender.close();
      // Pending view counts are written before the database closes (the context closes after the app).
      await views.close();
    },
  };
}

export async function registerStreamingRoutes(app: App, mod: StreamingModule, deps: Pick<StreamingDeps, "storage" | "videos">): Promise<void> {
  await streamingRoutes(app, mod.service);
  await app.register(thumbRoutes, { queries: deps.videos.queries, posters: deps.videos.posters, storage: deps.storage, service: mod.service, sender: mod.sender });
}
