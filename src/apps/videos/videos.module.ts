/**
 * Wires the videos domain from the AppContext: one VideoService shared by the routes, the upload
 * pipeline and the job-result applier.
 */
import type { App } from "../../lib/app.types.js";
import type { AppContext } from "../../context.js";
import { toBcp47 } from "../../services/transcoder/languages.js";
import { VideoRepository } from "./video.repository.js";
import { VideoService } from "./video.service.js";
import { VideoQueryService, type DetailHooks } from "./video-query.service.js";
import { parseJson, type UploadedSubtitle } from "./video.serializer.js";
import { videoRoutes } from "./video.routes.js";
import { TranscodeResultsService } from "./transcode-results.service.js";
import { invalidateVideo, streamingModule } from "../streaming/streaming.module.js";
import { chaptersOf } from "../streaming/chapters.js";
import { SubtitlesService } from "./subtitles.service.js";
import { subtitleRoutes } from "./subtitles.routes.js";
import { PosterService } from "./poster.service.js";
import { thumbRoutes, type ThumbRoutesOptions } from "./thumbs.routes.js";

export interface VideosModule {
  repo: VideoRepository;
  videos: VideoService;
  queries: VideoQueryService;
  results: TranscodeResultsService;
  subtitles: SubtitlesService;
  posters: PosterService;
  storage: AppContext["storage"];
  /** the streaming domain, for the thumbnail route's access rules and byte sending */
  streaming: ThumbRoutesOptions["streaming"];
}

export function createVideosModule(ctx: AppContext, hooks: Partial<DetailHooks> = {}): VideosModule {
  const repo = new VideoRepository(ctx.db);
  const videos = new VideoService(repo, ctx.events, ctx.storage, ctx.queue, ctx.config);
  const allHooks: DetailHooks = {
    issuePlaybackToken: (vid) => streamingModule(ctx).playback.issue(vid),
    // stored (container or edited) chapters, else `mm:ss Title` lines of the description
    chapters: (v) => chaptersOf(v),
    onVideoChanged: (vid) => invalidateVideo(ctx, vid),
    uploadedSubtitles: (v) => parseJson<{ uploadedSubtitles?: UploadedSubtitle[] }>(v.media)?.uploadedSubtitles ?? [],
    toBcp47,
    ...hooks,
  };
  const queries = new VideoQueryService(repo, videos, allHooks);
  const results = new TranscodeResultsService(repo, videos, ctx.queue, ctx.storage, ctx.config, ctx.logger);
  const subtitles = new SubtitlesService({ repo, videos, storage: ctx.storage, onMediaChanged: (id) => invalidateVideo(ctx, id) });
  const posters = new PosterService({ repo, videos, storage: ctx.storage });
  return { repo, videos, queries, results, subtitles, posters, storage: ctx.storage, streaming: () => streamingModule(ctx) };
}

export async function registerVideoRoutes(app: App, mod: VideosModule): Promise<void> {
  await videoRoutes(app, { queries: mod.queries });
  await app.register(subtitleRoutes, { queries: mod.queries, subtitles: mod.subtitles });
  await app.register(thumbRoutes, { queries: mod.queries, posters: mod.posters, storage: mod.storage, streaming: mod.streaming });
}
