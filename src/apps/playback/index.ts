/**
 * The playback domain's public face: the composition root imports this file only. Live
 * playback control over WebSockets (`/ws/stream/{video_id}/`) and its HTTP fallback, watch
 * rooms, and continue watching (docs/playback.md).
 */
export { createPlaybackModule, registerPlaybackRoutes, type PlaybackDeps, type PlaybackModule, type PlaybackRoutesDeps } from "./playback.module.js";
export type { PlaybackSessionService } from "./playback-session.service.js";
export type { HistoryService } from "./history.service.js";
export type { RoomsService } from "./rooms.service.js";
export { PLAYBACK_STATUSES, type PlaybackStatus, type StateView } from "./playback-state.js";
