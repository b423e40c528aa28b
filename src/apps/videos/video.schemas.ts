/** TypeBox schemas of the videos API: the single source of validation, types and OpenAPI. */
import { Type, type Static } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../../lib/schemas.js";
import { VIDEO_STATUSES, VISIBILITIES } from "./video.types.js";

const VIDEO_ID = "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52";
const OWNER = { id: "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", username: "alice", display_name: "Alice" };
const AT = "2026-01-02T03:04:05.000Z";
const MEDIA = `/api/videos/${VIDEO_ID}`;
const INFO_EXAMPLE = {
  size_bytes: 31_457_280,
  size: "30.0 MB",
  duration_seconds: 62.5,
  duration: "1:02",
  languages: ["en", "fr"],
  subtitle_languages: ["en"],
  has_subtitles: true,
  container: "mp4",
  video_codec: "h264",
  width: 1920,
  height: 1080,
  fps: 30,
  bitrate: 4_026_531,
  renditions: [
    { quality: "480p", width: 854, height: 480, bitrate: 1_200_000, size_bytes: 9_437_184, size: "9.0 MB" },
    { quality: "1080p", width: 1920, height: 1080, bitrate: 5_000_000, size_bytes: 39_321_600, size: "37.5 MB" },
  ],
};
/** A ready public video, as the detail answers it (the OpenAPI example of every detail response). */
export const VIDEO_DETAIL_EXAMPLE = {
  id: VIDEO_ID,
  title: "My trip",
  description: "Day one, 0:42 the harbour",
  owner: OWNER,
  visibility: "public",
  language: "en",
  original_filename: "trip.mp4",
  size_bytes: 31_457_280,
  status: "ready",
  playable: true,
  failure_code: null,
  failure_message: null,
  progress: null,
  created: AT,
  updated: AT,
  published: AT,
  views: 42,
  likes: 12,
  dislikes: 1,
  my_reaction: null,
  comments_enabled: true,
  duration: 62.5,
  hls_url: `${MEDIA}/hls/master.m3u8`,
  playback_token: null,
  formats: INFO_EXAMPLE.renditions.map((r) => ({ ...r, mp4_url: `${MEDIA}/stream/${r.quality}/` })),
  poster: `${MEDIA}/thumbs/poster.jpg`,
  thumbnails: {
    poster: `${MEDIA}/thumbs/poster.jpg`,
    candidates: [0, 1, 2, 3, 4].map((i) => `${MEDIA}/thumbs/c${i}.jpg`),
    storyboard: `${MEDIA}/thumbs/storyboard.jpg`,
    storyboard_vtt: `${MEDIA}/thumbs/storyboard.vtt`,
  },
  audio_tracks: [
    { language: "en", name: "English", default: true, url: `${MEDIA}/hls/audio_0/index.m3u8` },
    { language: "fr", name: "Français", default: false, url: `${MEDIA}/hls/audio_1/index.m3u8` },
  ],
  subtitles: [{ lang: "en", name: "English", url: `${MEDIA}/hls/subs_en/index.vtt`, source: "upload" }],
  chapters: [
    { index: 0, title: "Harbour", start: 0, end: 30 },
    { index: 1, title: "Market", start: 30, end: 62.5 },
  ],
  info: INFO_EXAMPLE,
};
export const VIDEO_LIST_ITEM_EXAMPLE = {
  id: VIDEO_ID,
  title: "My trip",
  poster: `${MEDIA}/thumbs/poster.jpg`,
  duration: 62.5,
  views: 42,
  likes: 12,
  dislikes: 1,
  owner: OWNER,
  created: AT,
  status: "ready",
  visibility: "public",
};

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

export const InfoSchema = Type.Object(
  {
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
  },
  { description: "Size, duration, languages, codecs and renditions", examples: [INFO_EXAMPLE] },
);

/** A format is a rendition of the info block plus where to stream its progressive MP4. */
export const FormatSchema = Type.Composite([RenditionInfoSchema, Type.Object({ mp4_url: Nullable(Type.String()) })]);

export const AudioTrackSchema = Type.Object({
  language: Type.String(),
  name: Type.String(),
  default: Type.Boolean(),
  url: Type.String(),
});

export const SubtitleTrackSchema = Type.Object(
  {
    lang: Type.String({ description: "BCP 47 short form (`fr`)" }),
    name: Type.String({ description: "the language's own name" }),
    url: Type.String({ description: "the WebVTT file (with the playback token for private videos)" }),
    source: Type.Union([Type.Literal("source"), Type.Literal("upload")], { description: "from the uploaded file's streams, or uploaded since" }),
  },
  { examples: [VIDEO_DETAIL_EXAMPLE.subtitles[0]] },
);

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
  { $id: "VideoDetail", description: "A video", examples: [VIDEO_DETAIL_EXAMPLE] },
);
export type VideoDetail = Static<typeof VideoDetailSchema>;

export const VideoListItemSchema = Type.Object(
  {
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
  },
  { examples: [VIDEO_LIST_ITEM_EXAMPLE] },
);
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
  { additionalProperties: false, minProperties: 1, examples: [{ title: "My trip, day one", visibility: "unlisted" }, { poster_candidate: 2 }, { comments_enabled: false }] },
);
export type VideoPatch = Static<typeof VideoPatchSchema>;
