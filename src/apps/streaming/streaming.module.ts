/**
 * Wires the streaming domain from the AppContext, once per context: the video cache, the object
 * sender (open-fd cache), playback tokens, the view counter and its flusher. Other domains reach
 * it through `streamingModule(ctx)`: the detail calls `playback.issue(id)`, and code that changes
 * a video's visibility or media calls `invalidateVideo(ctx, id)` so this process stops serving
 * the old state at once (other processes follow within the 2 s cache TTL).
 */
import type { App } from "../../lib/app.types.js";
import type { AppContext } from "../../context.js";
import { VideoRepository } from "../videos/video.repository.js";
import { ObjectSender } from "./object-sender.js";
import { PlaybackService } from "./playback.service.js";
import { StreamingService } from "./streaming.service.js";
import { streamingRoutes } from "./streaming.routes.js";
import { VideoCache } from "./video-cache.js";
import { createViewCounter } from "./view-counter.factory.js";
import { viewerHashKey, type ViewCounter } from "./view-counter.js";

/** How long video rows, open files and parsed playlists are reused without re-reading. */
export const STREAM_CACHE_TTL_MS = 2000;

export interface StreamingModule {
  playback: PlaybackService;
  views: ViewCounter;
  videos: VideoCache;
  sender: ObjectSender;
  service: StreamingService;
  close(): Promise<void>;
}

const modules = new WeakMap<AppContext, StreamingModule>();

export function streamingModule(ctx: AppContext): StreamingModule {
  const existing = modules.get(ctx);
  if (existing) return existing;
  const onError = (err: unknown, msg: string) => ctx.logger.error({ err }, msg);
  const playback = PlaybackService.fromConfig(ctx.tokens, ctx.config);
  const videos = new VideoCache(ctx.db, STREAM_CACHE_TTL_MS);
  const sender = new ObjectSender(ctx.storage, { cacheTtlMs: STREAM_CACHE_TTL_MS });
  const views = createViewCounter(ctx.db, ctx.redis, {
    windowS: ctx.config.playback.viewWindowS,
    flushIntervalMs: 1000,
    prefix: `${ctx.config.redisPrefix}:views:`,
    onError: (err) => onError(err, "view count flush failed"),
  });
  const service = new StreamingService({
    config: ctx.config,
    storage: ctx.storage,
    repo: new VideoRepository(ctx.db),
    videos,
    sender,
    playback,
    views,
    viewerHashKey: viewerHashKey(ctx.config),
    onError,
    cacheTtlMs: STREAM_CACHE_TTL_MS,
  });
  const mod: StreamingModule = {
    playback,
    views,
    videos,
    sender,
    service,
    async close() {
      modules.delete(ctx);
      sender.close();
      await views.close();
    },
  };
  modules.set(ctx, mod);
  return mod;
}

/** Drops this process's cached state of a video (call after changing visibility, media or deleting it). */
export function invalidateVideo(ctx: AppContext, videoId: string): void {
  modules.get(ctx)?.service.invalidate(videoId);
}

export async function registerStreamingRoutes(app: App, ctx: AppContext): Promise<void> {
  const mod = streamingModule(ctx);
  // Pending view counts are written before the database closes (the context closes after the app).
  app.addHook("onClose", async () => mod.close());
  await streamingRoutes(app, mod.service);
}
