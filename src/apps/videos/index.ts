/**
 * The videos domain's public face: other domains and the composition root import this file only.
 * Video rows and their lifecycle (create, status, media, deletion), the catalogue and detail,
 * subtitles, posters, live events, and the applier of the conversion workers' results.
 */
export { createVideosModule, registerVideosRoutes, type VideosDeps, type VideosModule, type VideosRoutesDeps, type VideoChangeListener } from "./videos.module.js";
export { VideoService, type NewVideo } from "./video.service.js";
export type { ServingVideo, VideoRepository, VideoRow, VideoWithOwner } from "./video.repository.js";
export type { VideoQueryService } from "./video-query.service.js";
export type { TranscodeResultsService } from "./transcode-results.service.js";
export type { SubtitlesService } from "./subtitles.service.js";
export type { VideoEventsService } from "./video-events.service.js";
export { POSTER_MAX_BYTES, type PosterService } from "./poster.service.js";
export { VideoDetailSchema, type VideoDetail } from "./video.schemas.js";
/** Row → list item JSON (title, poster without token): what other domains list videos with. */
export { toListItem } from "./video-serializer.js";
export { FAILURE_CODES, VIDEO_STATUSES, VISIBILITIES, type FailureCode, type VideoProgress, type VideoStatus, type Visibility } from "./video.types.js";
export { chaptersOf, chaptersToWebVtt, segmentSpan, validateChapters, withEnds, MAX_CHAPTER_TITLE, MAX_CHAPTERS, type Chapter, type ChapterInput } from "./chapters.js";
/** Storage keys of a video (the media layout, shared with the worker). */
export { videoKeys } from "../../contracts/media-layout.js";
