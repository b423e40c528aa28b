/**
 * The playback domain, built once by the composition root: live control sessions (WebSocket and
 * HTTP fallback), watch rooms and continue watching. It depends on the users domain (who is
 * calling), the videos domain (what may be watched, the detail's URLs) and the streaming domain
 * (playback tokens); none of them imports it. Session state and fan-out go through the state hub
 * (memory, or Redis across API processes); history is in the database.
 */
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import type { Db } from "../../platform/db/db.js";
import type { EventBus } from "../../platform/events/events.js";
import type { StateHub } from "../../platform/events/state-hub.js";
import type { PlaybackService } from "../streaming/index.js";
import type { SessionRevocations, TokenService } from "../users/index.js";
import type { VideosModule } from "../videos/index.js";
import { ControlLimiter } from "./control-limiter.js";
import { HistoryRepository } from "./history.repository.js";
import { historyRoutes } from "./history.routes.js";
import { HistoryService } from "./history.service.js";
import { LocalSessions } from "./local-sessions.js";
import { PlaybackSessionService } from "./playback-session.service.js";
import { playbackRoutes } from "./playback.routes.js";
import { roomRoutes } from "./rooms.routes.js";
import { RoomsService } from "./rooms.service.js";
import { SessionStore } from "./session-store.js";
import { ViewerAccess } from "./viewer-access.js";

export interface PlaybackDeps {
  config: Config;
  logger: Logger;
  db: Db;
  hub: StateHub;
  /** the viewers' live channel: comment and reactions events reach playback connections too */
  liveEvents: EventBus;
  tokens: TokenService;
  /** signed-in devices are disconnected when their session ends */
  revocations: Pick<SessionRevocations, "watch">;
  playbackTokens: Pick<PlaybackService, "verify">;
  videos: Pick<VideosModule, "repo" | "queries" | "onVideoChanged">;
}

export interface PlaybackModule {
  sessions: PlaybackSessionService;
  rooms: RoomsService;
  history: HistoryService;
  local: LocalSessions;
  start(): void;
  close(): Promise<void>;
}

export function createPlaybackModule(deps: PlaybackDeps): PlaybackModule {
  const pc = deps.config.playback;
  // Members are refreshed every heartbeat and expire after three missed ones (PLAYBACK_HEARTBEAT_MS).
  const heartbeatMs = pc.heartbeatMs;
  const access = new ViewerAccess({ db: deps.db, tokens: deps.tokens, playback: deps.playbackTokens, repo: deps.videos.repo, queries: deps.videos.queries });
  const store = new SessionStore(deps.hub, { sessionTtlS: 24 * 3600, roomTtlS: pc.roomIdleTtlS, memberTtlS: (heartbeatMs * 3) / 1000 });
  const history = new HistoryService(new HistoryRepository(deps.db), deps.videos.repo, { saveIntervalMs: pc.historySaveIntervalS * 1000 });
  const limiter = new ControlLimiter({ enabled: deps.config.rateLimit.enabled, rate: pc.controlRate, burst: pc.controlBurst });
  let sessions: PlaybackSessionService | null = null;
  const local = new LocalSessions(store, deps.liveEvents, deps.logger, {
    presenceDelayMs: 100,
    onVideoChanged: async (videoId, participants) => sessions?.recheck(videoId, participants),
  });
  sessions = new PlaybackSessionService({
    access,
    store,
    local,
    history,
    limiter,
    logger: deps.logger,
    timings: { waitTimeoutMs: pc.roomWaitTimeoutMs, httpMemberTtlS: 35 },
    revocations: deps.revocations,
  });
  const s = sessions;
  const rooms = new RoomsService(access, store);
  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  return {
    sessions: s,
    rooms,
    history,
    local,
    start() {
      // A video edited or deleted here is re-checked by every process watching it.
      unsubscribe = deps.videos.onVideoChanged((id) => void store.videoChanged(id).catch((err: unknown) => deps.logger.warn({ err }, "video change not announced")));
      timer = setInterval(() => void s.heartbeat().catch((err: unknown) => deps.logger.warn({ err }, "playback heartbeat failed")), heartbeatMs);
      timer.unref();
    },
    async close() {
      unsubscribe?.();
      if (timer) clearInterval(timer);
    },
  };
}

export interface PlaybackRoutesDeps {
  /** test seams */
  wsPingMs?: number;
  sseHeartbeatMs?: number;
}

export async function registerPlaybackRoutes(app: App, mod: PlaybackModule, config: Config, opts: PlaybackRoutesDeps = {}): Promise<void> {
  await app.register(playbackRoutes, { sessions: mod.sessions, longPollMs: config.playback.longPollMs, wsPingMs: opts.wsPingMs, sseHeartbeatMs: opts.sseHeartbeatMs });
  await app.register(roomRoutes, { rooms: mod.rooms });
  await app.register(historyRoutes, { history: mod.history });
}
