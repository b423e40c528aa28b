/**
 * HLS delivery rules, pure: which request paths map to which storage keys, their content types
 * and cache policies. Keys are built from the video id and a validated relative path: only
 * `[A-Za-z0-9_.-]` segments, none empty, none starting with a dot (no `..`, no hidden temp files).
 */
import { videoKeys } from "../videos/video.types.js";

export const hlsPrefix = (videoId: string) => `${videoKeys.prefix(videoId)}hls/`;
export const masterKey = (videoId: string) => `${hlsPrefix(videoId)}master.m3u8`;

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** The storage key for `rel` under the video's `hls/` folder, or null when `rel` is not acceptable. */
export function hlsKey(videoId: string, rel: string): string | null {
  if (rel.length === 0 || rel.length > 512) return null;
  const parts = rel.split("/");
  if (parts.length > 6 || !parts.every((p) => SEGMENT.test(p))) return null;
  if (contentTypeOf(rel) === null) return null;
  return hlsPrefix(videoId) + rel;
}

/** The path after `hls/`, for a key under the video's `hls/` folder. */
export function hlsRel(videoId: string, key: string): string | null {
  const p = hlsPrefix(videoId);
  return key.startsWith(p) ? key.slice(p.length) : null;
}

export type HlsKind = "playlist" | "segment" | "subtitles";

export function kindOf(rel: string): HlsKind {
  if (rel.endsWith(".m3u8")) return "playlist";
  if (rel.endsWith(".vtt") || rel.endsWith(".webvtt")) return "subtitles";
  return "segment";
}

/** Content types by extension; fMP4 under `audio/` is audio/mp4. Null: not a servable HLS file. */
export function contentTypeOf(rel: string): string | null {
  const dot = rel.lastIndexOf(".");
  const ext = dot === -1 ? "" : rel.slice(dot + 1).toLowerCase();
  const audio = rel.startsWith("audio/");
  switch (ext) {
    case "m3u8":
      // RFC 8216 §4: "application/vnd.apple.mpegurl" (or audio/mpegurl).
      return "application/vnd.apple.mpegurl";
    case "ts":
      return "video/mp2t";
    case "m4s":
    case "mp4":
    case "cmfv":
    case "cmfa":
      return audio ? "audio/mp4" : "video/mp4";
    case "m4a":
      return "audio/mp4";
    case "aac":
      return "audio/aac";
    case "vtt":
    case "webvtt":
      return "text/vtt; charset=utf-8";
    default:
      return null;
  }
}

export const CACHE = {
  /** segments never change under their name: a re-conversion writes new names or a new video */
  publicSegment: "public, max-age=31536000, immutable",
  /** finished playlists (EXT-X-ENDLIST, or the master of a ready video) */
  publicFinishedPlaylist: "public, max-age=300",
  /** a playlist still growing during conversion: about one segment */
  publicGrowingPlaylist: "public, max-age=1",
  /** private playlists carry a token and must never be stored by any cache */
  privatePlaylist: "private, no-store",
  privateSegment: "private, max-age=31536000, immutable",
} as const;

export function cacheControl(kind: HlsKind, isPrivate: boolean, finished: boolean): string {
  // Subtitle files can be replaced by an uploaded track of the same language: revalidate hourly.
  if (kind === "subtitles") return isPrivate ? "private, max-age=3600" : "public, max-age=3600";
  if (kind === "playlist") {
    if (isPrivate) return CACHE.privatePlaylist;
    return finished ? CACHE.publicFinishedPlaylist : CACHE.publicGrowingPlaylist;
  }
  return isPrivate ? CACHE.privateSegment : CACHE.publicSegment;
}
