/**
 * The streaming domain's public face: other domains and the composition root import this file
 * only. Media delivery (HTTP ranges, HLS with private playback tokens, thumbnails), chapters,
 * and view counting.
 */
export { createStreamingModule, registerStreamingRoutes, STREAM_CACHE_TTL_MS, type StreamingDeps, type StreamingModule } from "./streaming.module.js";
export type { PlaybackService } from "./playback.service.js";
export type { ViewCounter } from "./view-counter.js";
export { tokenizeStoryboardVtt } from "./thumbs.routes.js";
