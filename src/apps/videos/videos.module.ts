/**
 * The videos domain, built once by the composition root: one repository and one VideoService
 * shared by the routes, the upload pipeline (through this domain's face) and the job-result
 * applier; the catalogue/detail queries, subtitles, posters and live events.
 *
 * What the videos domain needs from others comes in as plain functions (`playbackTokens`), and
 * what others need to hear from it goes out as a subscription (`onVideoChanged`): the streaming
 * domain depends on this one, never the other way round.
 */
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import type { ApiMetrics } from "../../lib/metrics.js";
import type { Db } from "../../platform/db/db.js";
import type { EventBus } from "../../platform/events/events.js";
import type { Queue } from "../../platform/queue/queue.js";
import type { Storage } from "../../platform/storage/storage.js";
import { toBcp47 } from "../../services/transcoder/index.js";
import type { SessionRevocations, TokenService } from "../users/index.js";
import { chaptersOf } from "./chapters.js";
import { PosterService } from "./poster.service.js";
import { ThreadedSubtitleParser } from "./subtitle-parser.js";
import { subtitleRoutes } from "./subtitles.routes.js";
import { SubtitlesService } from "./subtitles.service.js";
import { TranscodeResultsService } from "./transcode-results.service.js";
import { videoEventsRoutes, type VideoEventsRouteTimings } from "./video-events.routes.js";
import { VideoEventsService } from "./video-events.service.js";
import { VideoQueryService } from "./video-query.service.js";
import { VideoRepository } from "./video.repository.js";
import { videoRoutes } from "./video.routes.js";
import { parseJson, type UploadedSubtitle } from "./video-serializer.js";
import { VideoService } from "./video.service.js";

export interface VideosDeps {
  config: Config;
  logger: Logger;
  db: Db;
  events: EventBus;
  storage: Storage;
  queue: Queue;
  /** conversions as applied (encode seconds by rung, time to playable); absent in tests' second modules */
  metrics?: ApiMetrics;
  /** signs the playback tokens private videos' media URLs carry (the streaming domain's) */
  playbackTokens: { issue(videoId: string, epoch: number): Promise<string> };
  /**
   * The viewer's like/dislike for the detail's `my_reaction` (the reactions domain's, which
   * depends on this one: bound by the composition root through a forward reference). Absent in
   * tests that build a second videos module for its events or pipeline only: no reaction then.
   */
  reactions?: { myReaction(videoId: string, userId: string): Promise<"like" | "dislike" | null> };
}

export type VideoChangeListener = (videoId: string) => void;

export interface VideosModule {
  repo: VideoRepository;
  videos: VideoService;
  queries: VideoQueryService;
  results: TranscodeResultsService;
  subtitles: SubtitlesService;
  posters: PosterService;
  events: VideoEventsService;
  /**
   * Called whenever a video's visibility, media or existence changes in this process (edit,
   * delete, subtitle upload): caches elsewhere drop their copy. Returns an unsubscribe function.
   */
  onVideoChanged(listener: VideoChangeListener): () => void;
  /** applies the workers' messages (progress, results) from now on; `close()` stops it */
  start(): void;
  close(): Promise<void>;
}

export function createVideosModule(deps: VideosDeps): VideosModule {
  const listeners = new Set<VideoChangeListener>();
  const changed = (videoId: string) => {
    for (const l of listeners) l(videoId);
  };
  const repo = new VideoRepository(deps.db);
  const videos = new VideoService(repo, deps.events, deps.storage, deps.queue, deps.config);
  const queries = new VideoQueryService(repo, videos, {
    issuePlaybackToken: (vid, epoch) => deps.playbackTokens.issue(vid, epoch),
    // stored (container or edited) chapters, else `mm:ss Title` lines of the description
    chapters: (v) => chaptersOf(v),
    onVideoChanged: changed,
    uploadedSubtitles: (v) => parseJson<{ uploadedSubtitles?: UploadedSubtitle[] }>(v.media)?.uploadedSubtitles ?? [],
    toBcp47,
    myReaction: async (vid, uid) => (deps.reactions ? deps.reactions.myReaction(vid, uid) : null),
  });
  const parser = new ThreadedSubtitleParser();
  const subtitles = new SubtitlesService({ repo, videos, storage: deps.storage, parser, maxCues: deps.config.media.subtitleMaxCues, onMediaChanged: changed });
  // Every new conversion result gets the uploaded subtitle tracks again before it is stored.
  const results = new TranscodeResultsService(repo, videos, deps.queue, deps.storage, deps.config, deps.logger, { uploads: subtitles, metrics: deps.metrics });
  const posters = new PosterService({ repo, videos, storage: deps.storage });
  const events = new VideoEventsService(repo, deps.events);
  return {
    repo,
    videos,
    queries,
    results,
    subtitles,
    posters,
    events,
    onVideoChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: () => results.start(),
    async close() {
      await results.stop();
      await parser.close();
    },
  };
}

export interface VideosRoutesDeps {
  db: Db;
  tokens: TokenService;
  /** an ended session closes its live-event streams (the users domain's announcements) */
  sessions: Pick<SessionRevocations, "watch">;
  /** test seams: heartbeat and ping intervals of the live-event streams */
  timings?: VideoEventsRouteTimings;
}

export async function registerVideosRoutes(app: App, mod: VideosModule, deps: VideosRoutesDeps): Promise<void> {
  await videoRoutes(app, { queries: mod.queries });
  await app.register(subtitleRoutes, { queries: mod.queries, subtitles: mod.subtitles });
  await videoEventsRoutes(app, { service: mod.events, db: deps.db, tokens: deps.tokens, sessions: deps.sessions, ...deps.timings });
}
