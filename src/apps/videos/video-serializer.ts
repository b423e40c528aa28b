/**
 * Row → API JSON. Pure: URLs are absolute paths built from the id, so clients follow them as
 * given; private videos' media URLs carry the playback token.
 */
import type { ProbeResult } from "../../platform/media/media.types.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import { buildVideoInfo } from "../../services/videoinfo/index.js";
import type { VideoWithOwner } from "./video.repository.js";
import type { VideoDetail, VideoListItem } from "./video.schemas.js";
import { CUSTOM_POSTER_NAME, THUMBS_DIR, videoKeys } from "../../contracts/media-layout.js";
import type { VideoProgress, VideoStatus, Visibility } from "./video.types.js";

export interface Chapter {
  index: number;
  title: string;
  start: number;
  end: number;
}

export interface UploadedSubtitle {
  lang: string;
  name: string;
  vttKey: string;
  playlistKey: string;
}

export function parseJson<T>(s: string | null): T | null {
  if (!s) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

/** `videos/<id>/hls/480p/index.m3u8` → `/api/videos/<id>/hls/480p/index.m3u8` (+ token). */
export function mediaUrl(videoId: string, key: string, token: string | null): string {
  const prefix = videoKeys.prefix(videoId);
  const rel = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return `/api/videos/${videoId}/${rel}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

export function streamUrl(videoId: string, quality: string, token: string | null): string {
  return `/api/videos/${videoId}/stream/${quality}/${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

/**
 * The poster's URL: the custom one is served as `thumbs/custom-poster.jpg` wherever it is stored
 * (`uploads/poster.jpg`, or `thumbs/` for videos from before `uploads/`).
 */
export function posterUrl(v: Pick<VideoWithOwner, "id" | "custom_poster_key" | "poster_choice">, media: TranscodeResult | null, token: string | null): string | null {
  if (v.custom_poster_key) return mediaUrl(v.id, `${videoKeys.prefix(v.id)}${THUMBS_DIR}/${CUSTOM_POSTER_NAME}`, token);
  const key = generatedPosterKey(v, media);
  return key ? mediaUrl(v.id, key, token) : null;
}

function generatedPosterKey(v: Pick<VideoWithOwner, "poster_choice">, media: TranscodeResult | null): string | null {
  const t = media?.thumbnails;
  if (!t) return null;
  if (v.poster_choice !== null && t.candidateKeys[v.poster_choice]) return t.candidateKeys[v.poster_choice]!;
  return t.posterKey;
}

export interface DetailExtras {
  playbackToken: string | null;
  chapters: Chapter[];
  uploadedSubtitles: UploadedSubtitle[];
  audioLanguagesFromProbe: string[];
  /** the signed-in viewer's reaction (the reactions domain's), null otherwise */
  myReaction: "like" | "dislike" | null;
}

export function toDetail(v: VideoWithOwner, x: DetailExtras): VideoDetail {
  const media = parseJson<TranscodeResult>(v.media);
  const probe = parseJson<ProbeResult>(v.probe);
  const tok = x.playbackToken;
  const playable = v.playable === 1;
  const sourceSubs = (media?.subtitleTracks ?? []).map((s) => ({ lang: s.language, name: s.name, url: mediaUrl(v.id, s.vttKey, tok), source: "source" as const }));
  const uploaded = x.uploadedSubtitles.map((s) => ({ lang: s.lang, name: s.name, url: mediaUrl(v.id, s.vttKey, tok), source: "upload" as const }));
  // An uploaded track replaces a source track of the same language.
  const subtitles = [...sourceSubs.filter((s) => !uploaded.some((u) => u.lang === s.lang)), ...uploaded];
  const audioLanguages = media ? media.audioTracks.map((a) => a.language) : x.audioLanguagesFromProbe;
  const poster = posterUrl(v, media, tok);
  const thumbs = media?.thumbnails;
  const info = buildVideoInfo({ sizeBytes: v.size_bytes, probe, media, audioLanguages, subtitleLanguages: subtitles.map((s) => s.lang) });
  return {
    id: v.id,
    title: v.title,
    description: v.description,
    owner: { id: v.owner_id, username: v.owner_username, display_name: v.owner_display_name },
    visibility: v.visibility as Visibility,
    language: v.language,
    original_filename: v.original_filename,
    size_bytes: v.size_bytes,
    status: v.status as VideoStatus,
    playable,
    failure_code: v.failure_code,
    failure_message: v.failure_message,
    progress: parseJson<VideoProgress>(v.progress),
    created: v.created_at,
    updated: v.updated_at,
    published: v.published_at,
    views: v.views,
    likes: v.likes,
    dislikes: v.dislikes,
    my_reaction: x.myReaction,
    comments_enabled: v.comments_enabled === 1,
    duration: v.duration_s,
    hls_url: playable ? mediaUrl(v.id, media?.masterKey ?? `${videoKeys.prefix(v.id)}hls/master.m3u8`, tok) : null,
    playback_token: tok,
    formats: info.renditions.map((r, i) => ({ ...r, mp4_url: media?.renditions[i]?.mp4Key ? streamUrl(v.id, r.quality, tok) : null })),
    poster,
    thumbnails: {
      poster,
      candidates: (thumbs?.candidateKeys ?? []).map((k) => mediaUrl(v.id, k, tok)),
      storyboard: thumbs?.storyboardKey ? mediaUrl(v.id, thumbs.storyboardKey, tok) : null,
      storyboard_vtt: thumbs?.storyboardVttKey ? mediaUrl(v.id, thumbs.storyboardVttKey, tok) : null,
    },
    audio_tracks: (media?.audioTracks ?? []).map((a) => ({ language: a.language, name: a.name, default: a.isDefault, url: mediaUrl(v.id, a.playlistKey, tok) })),
    subtitles,
    chapters: x.chapters,
    info,
  };
}

export function toListItem(v: VideoWithOwner): VideoListItem {
  const media = parseJson<TranscodeResult>(v.media);
  const poster = posterUrl(v, media, null);
  // List items never carry tokens: private videos are listed only to their owner and staff,
  // who fetch the detail (with its token) before playing.
  return {
    id: v.id,
    title: v.title,
    poster: poster && v.visibility !== "private" ? poster : null,
    duration: v.duration_s,
    views: v.views,
    likes: v.likes,
    dislikes: v.dislikes,
    owner: { id: v.owner_id, username: v.owner_username, display_name: v.owner_display_name },
    created: v.created_at,
    status: v.status as VideoStatus,
    visibility: v.visibility as Visibility,
  };
}
