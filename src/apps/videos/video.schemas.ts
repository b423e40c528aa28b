/** TypeBox schemas of the videos API: the single source of validation, types and OpenAPI. */
import { Type, type Static } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../../lib/schemas.js";
import { VIDEO_STATUSES, VISIBILITIES } from "./video.types.js";

export const VisibilitySchema = StringEnum(VISIBILITIES);
export const StatusSchema = StringEnum(VIDEO_STATUSES);

export const OwnerSchema = Type.Object({ id: Type.String(), username: Type.String(), display_name: Type.String() });

export const ProgressSchema = Type.Object({
  step: Type.String(),
  percent: Type.Number(),
  bytes_received: Nullable(Type.Number()),
  eta_s: Nullable(Type.Number()),
  queue_position: Nullable(Type.Integer()),
});

export const RenditionInfoSchema = Type.Object({
  quality: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  bitrate: Type.Integer(),
  size_bytes: Type.Integer(),
  size: Type.String(),
});

export const InfoSchema = Type.Object({
  size_bytes: Type.Integer(),
  size: Type.String(),
  duration_seconds: Nullable(Type.Number()),
  duration: Nullable(Type.String()),
  languages: Type.Array(Type.String()),
  subtitle_languages: Type.Array(Type.String()),
  has_subtitles: Type.Boolean(),
  container: Nullable(Type.String()),
  video_codec: Nullable(Type.String()),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  fps: Nullable(Type.Number()),
  bitrate: Nullable(Type.Integer()),
  renditions: Type.Array(RenditionInfoSchema),
});

/** A format is a rendition of the info block plus where to stream its progressive MP4. */
export const FormatSchema = Type.Composite([RenditionInfoSchema, Type.Object({ mp4_url: Nullable(Type.String()) })]);

export const AudioTrackSchema = Type.Object({
  language: Type.String(),
  name: Type.String(),
  default: Type.Boolean(),
  url: Type.String(),
});

export const SubtitleTrackSchema = Type.Object({
  lang: Type.String(),
  name: Type.String(),
  url: Type.String(),
  source: Type.Union([Type.Literal("source"), Type.Literal("upload")]),
});

export const ChapterSchema = Type.Object({
  index: Type.Integer(),
  title: Type.String(),
  start: Type.Number(),
  end: Type.Number(),
});

export const ThumbnailsSchema = Type.Object({
  poster: Nullable(Type.String()),
  candidates: Type.Array(Type.String()),
  storyboard: Nullable(Type.String()),
  storyboard_vtt: Nullable(Type.String()),
});

export const VideoDetailSchema = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    title: Type.String(),
    description: Type.String(),
    owner: OwnerSchema,
    visibility: VisibilitySchema,
    language: Nullable(Type.String()),
    original_filename: Type.String(),
    size_bytes: Type.Integer(),
    status: StatusSchema,
    playable: Type.Boolean(),
    failure_code: Nullable(Type.String()),
    failure_message: Nullable(Type.String()),
    progress: Nullable(ProgressSchema),
    created: Type.String({ format: "date-time" }),
    updated: Type.String({ format: "date-time" }),
    published: Nullable(Type.String({ format: "date-time" })),
    views: Type.Integer(),
    likes: Type.Integer(),
    dislikes: Type.Integer(),
    /** the signed-in viewer's reaction; null for anonymous viewers and viewers who did not react */
    my_reaction: Nullable(StringEnum(["like", "dislike"] as const)),
    /** false: existing comments stay visible and read-only, new ones are refused */
    comments_enabled: Type.Boolean(),
    duration: Nullable(Type.Number()),
    hls_url: Nullable(Type.String()),
    playback_token: Nullable(Type.String()),
    formats: Type.Array(FormatSchema),
    poster: Nullable(Type.String()),
    thumbnails: ThumbnailsSchema,
    audio_tracks: Type.Array(AudioTrackSchema),
    subtitles: Type.Array(SubtitleTrackSchema),
    chapters: Type.Array(ChapterSchema),
    info: InfoSchema,
  },
  { $id: "VideoDetail" },
);
export type VideoDetail = Static<typeof VideoDetailSchema>;

export const VideoListItemSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  title: Type.String(),
  poster: Nullable(Type.String()),
  duration: Nullable(Type.Number()),
  views: Type.Integer(),
  likes: Type.Integer(),
  dislikes: Type.Integer(),
  owner: OwnerSchema,
  created: Type.String({ format: "date-time" }),
  status: StatusSchema,
  visibility: VisibilitySchema,
});
export type VideoListItem = Static<typeof VideoListItemSchema>;

export const VideoListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  owner: Type.Optional(Type.String({ format: "uuid" })),
  ordering: Type.Optional(Type.Union([Type.Literal("-created"), Type.Literal("created"), Type.Literal("-views"), Type.Literal("-likes")])),
  status: Type.Optional(StatusSchema),
});
export type VideoListQuery = Static<typeof VideoListQuery>;

export const VideoPatchSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    visibility: Type.Optional(VisibilitySchema),
    language: Type.Optional(Nullable(Type.String({ maxLength: 35 }))),
    poster_candidate: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    comments_enabled: Type.Optional(Type.Boolean({ description: "false: existing comments stay, read-only; new ones get 403 comments_disabled" })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type VideoPatch = Static<typeof VideoPatchSchema>;
