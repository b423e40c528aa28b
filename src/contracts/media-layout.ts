/**
 * Where a video's media lives and how it is served, in one place: the worker writes by these
 * rules, the streaming domain serves by them and the videos domain builds keys with them. Pure.
 *
 * Storage layout under `videos/<id>/` (the job's output prefix):
 *   original                                          the upload
 *   hls/master.m3u8                                   master playlist
 *   hls/<quality>/index.m3u8 + seg_00000.ts|m4s (+ init.mp4 for fMP4)   one per rung, video only
 *   hls/audio/<dir>/index.m3u8 + segments             one per audio stream
 *   hls/subs/<dir>/index.m3u8 + subs.vtt              one per subtitle track
 *   mp4/<quality>.mp4                                 progressive MP4s (optional)
 *   thumbs/c<N>.jpg, thumbs/poster.jpg                thumbnail candidates and the poster
 *   thumbs/storyboard.jpg + thumbs/storyboard.vtt     scrubbing previews
 *   uploads/subtitles/<lang>.vtt                      subtitles a person uploaded (our WebVTT, no X-TIMESTAMP-MAP)
 *   uploads/poster.jpg                                the custom poster a person uploaded
 *
 * `original` and `uploads/` are what people gave us; hls/, mp4/ and thumbs/ are what a conversion
 * made from them, and every conversion (a reprocess) replaces them. So nothing under `uploads/`
 * is ever written or removed by a conversion: the API carries it into each new result (an
 * uploaded track gets its `hls/subs/<lang>/` rendition and its place in the master again).
 * Videos from before `uploads/` keep their uploaded tracks in `hls/subs/<lang>/` and their poster
 * in `thumbs/custom-poster.jpg`; a reprocess moves them here first (VideoService.reprocess).
 *
 * Relative paths ("rel") below are relative to that prefix unless said otherwise; the worker's
 * local output dir mirrors them 1:1.
 */
import { assertNever } from "../lib/assert-never.js";
import type { SegmentType } from "./transcode.messages.js";

// ---------------------------------------------------------------------------------------------
// Object keys

/** Storage keys of a video: built from its id, never from request strings or filenames. */
export const videoKeys = {
  prefix: (id: string) => `videos/${id}/`,
  original: (id: string) => `videos/${id}/original`,
  /** the folder the HLS routes serve from */
  hlsPrefix: (id: string) => `videos/${id}/${HLS_DIR}/`,
  master: (id: string) => `videos/${id}/${MASTER_REL}`,
  /** the folder of what people uploaded (see the module comment) */
  uploads: (id: string) => `videos/${id}/${UPLOADS_DIR}/`,
  /** an uploaded subtitle track, by its BCP-47 short form */
  uploadedSubtitle: (id: string, lang: string) => `videos/${id}/${uploadedSubtitleRel(lang)}`,
  uploadedPoster: (id: string) => `videos/${id}/${UPLOADED_POSTER_REL}`,
};

// ---------------------------------------------------------------------------------------------
// File names

export const HLS_DIR = "hls";
export const MP4_DIR = "mp4";
export const THUMBS_DIR = "thumbs";
export const UPLOADS_DIR = "uploads";

export const PLAYLIST_NAME = "index.m3u8";
export const INIT_NAME = "init.mp4";
export const MASTER_NAME = "master.m3u8";
export const MASTER_REL = `${HLS_DIR}/${MASTER_NAME}`;
export const SUBTITLE_FILE = "subs.vtt";
/** storyboard names under `thumbs/`; the VTT's cues reference the image relative to the VTT's own URL */
export const STORYBOARD_IMAGE = "storyboard.jpg";
export const STORYBOARD_VTT = "storyboard.vtt";

/** Directory of a rendition, relative to the output dir and to the storage prefix. */
export const rungDir = (quality: string) => `${HLS_DIR}/${quality}`;
export const audioDir = (dir: string) => `${HLS_DIR}/audio/${dir}`;
export const subtitleDir = (dir: string) => `${HLS_DIR}/subs/${dir}`;
/** The media playlist of a rendition dir (`rungDir`, `audioDir`, `subtitleDir`). */
export const playlistIn = (dir: string) => `${dir}/${PLAYLIST_NAME}`;

export const mp4Rel = (quality: string) => `${MP4_DIR}/${quality}.mp4`;
export const candidateThumbRel = (i: number) => `${THUMBS_DIR}/c${i}.jpg`;
export const POSTER_REL = `${THUMBS_DIR}/poster.jpg`;
export const STORYBOARD_IMAGE_REL = `${THUMBS_DIR}/${STORYBOARD_IMAGE}`;
export const STORYBOARD_VTT_REL = `${THUMBS_DIR}/${STORYBOARD_VTT}`;
/**
 * The name the custom poster is served under (`/api/videos/<id>/thumbs/custom-poster.jpg`), and
 * where videos from before `uploads/` store it.
 */
export const CUSTOM_POSTER_NAME = "custom-poster.jpg";
export const CUSTOM_POSTER_REL = `${THUMBS_DIR}/${CUSTOM_POSTER_NAME}`;

export const UPLOADED_SUBTITLES_DIR = `${UPLOADS_DIR}/subtitles`;
/** `lang` is a BCP-47 short form the API validated (letters, digits, hyphens) */
export const uploadedSubtitleRel = (lang: string) => `${UPLOADED_SUBTITLES_DIR}/${lang}.vtt`;
export const UPLOADED_POSTER_REL = `${UPLOADS_DIR}/poster.jpg`;

/** The language of an uploaded subtitle's key (`videos/<id>/uploads/subtitles/<lang>.vtt`); null for any other key. */
export function uploadedSubtitleLang(id: string, key: string): string | null {
  const prefix = `videos/${id}/${UPLOADED_SUBTITLES_DIR}/`;
  if (!key.startsWith(prefix)) return null;
  const m = /^([A-Za-z0-9-]{1,35})\.vtt$/.exec(key.slice(prefix.length));
  return m ? m[1]! : null;
}

/** A rel under `hls/` as a URI relative to the master playlist (which sits in `hls/`). */
export const masterRelative = (rel: string) => (rel.startsWith(`${HLS_DIR}/`) ? rel.slice(HLS_DIR.length + 1) : rel);

/** Extension of the HLS media segments of `type`. */
export function segmentExt(type: SegmentType): string {
  switch (type) {
    case "mpegts":
      return "ts";
    case "fmp4":
      return "m4s";
    default:
      return assertNever(type);
  }
}

/** ffmpeg's `-hls_segment_filename` pattern (inside a rendition dir). */
export const segmentPattern = (type: SegmentType) => `seg_%05d.${segmentExt(type)}`;

/** Folders the conversion owns: what a re-conversion did not write there is stale. `uploads/` is never one. */
export const CONVERSION_DIRS = [`${HLS_DIR}/`, `${MP4_DIR}/`, `${THUMBS_DIR}/`] as const;

/**
 * Thumbnail names the conversion writes under `thumbs/` (anything else there, such as an uploaded
 * custom poster, is not its own).
 */
export const OWN_THUMB = /^thumbs\/(?:(?:c\d+|poster|storyboard)\.jpg|storyboard\.vtt)$/;

// ---------------------------------------------------------------------------------------------
// Content types

/**
 * Content types of the files under `hls/` (`rel` relative to `hls/`) by extension; fMP4 under
 * `audio/` is audio/mp4. Null: not a servable HLS file.
 */
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

/** Content type of any object the conversion writes (`rel` relative to the video's prefix). */
export function objectContentType(rel: string): string {
  const fallback = "application/octet-stream";
  if (rel.startsWith(`${HLS_DIR}/`)) return contentTypeOf(rel.slice(HLS_DIR.length + 1)) ?? fallback;
  const ext = rel.slice(rel.lastIndexOf(".") + 1).toLowerCase();
  if (ext === "mp4") return "video/mp4";
  if (ext === "jpg" || ext === "jpeg") return "image/jpeg";
  if (ext === "webp") return "image/webp";
  if (ext === "vtt") return "text/vtt; charset=utf-8";
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Cache rules

export type HlsKind = "playlist" | "segment" | "subtitles";

/** What a file under `hls/` is, by its name. */
export function kindOf(rel: string): HlsKind {
  if (rel.endsWith(".m3u8")) return "playlist";
  if (rel.endsWith(".vtt") || rel.endsWith(".webvtt")) return "subtitles";
  return "segment";
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

/** Cache-Control of a file under `hls/`. */
export function cacheControl(kind: HlsKind, isPrivate: boolean, finished: boolean): string {
  // Subtitle files can be replaced by an uploaded track of the same language: revalidate hourly.
  if (kind === "subtitles") return isPrivate ? "private, max-age=3600" : "public, max-age=3600";
  if (kind === "playlist") {
    if (isPrivate) return CACHE.privatePlaylist;
    return finished ? CACHE.publicFinishedPlaylist : CACHE.publicGrowingPlaylist;
  }
  return isPrivate ? CACHE.privateSegment : CACHE.publicSegment;
}

/** Cache-Control of a progressive MP4 (rewritten only by a re-conversion): an hour, then revalidation. */
export function mp4CacheControl(isPrivate: boolean): string {
  return isPrivate ? "private, max-age=3600" : "public, max-age=3600";
}

/**
 * Names under `thumbs/` that may be served: what the worker writes (`poster.jpg`, `c0.jpg`…,
 * `storyboard.jpg`, `storyboard.vtt`) and the custom poster. A fixed alphabet: no path
 * separators, no dot segments, nothing else stored under the prefix.
 */
const SERVABLE_THUMB = /^(?:(?:poster|c[0-9]|storyboard|custom-poster)\.(?:jpg|webp)|storyboard\.vtt)$/;

/** Content-Type of a servable thumbnail name, null for any other name (the route answers 404). */
export function thumbContentType(name: string): string | null {
  if (!SERVABLE_THUMB.test(name)) return null;
  if (name.endsWith(".vtt")) return "text/vtt; charset=utf-8";
  return name.endsWith(".webp") ? "image/webp" : "image/jpeg";
}

/**
 * Cache-Control of a file under `thumbs/`. Generated thumbnails change only when the video is
 * reprocessed: an hour, then revalidation. The custom poster is replaced under the same name and
 * its owner expects to see the new one at once: `no-cache` (always revalidated; a 304 costs a round
 * trip, not the bytes). Private videos' files are cacheable by the browser only.
 */
export function thumbCacheControl(name: string, isPrivate: boolean): string {
  return `${isPrivate ? "private" : "public"}, ${name.startsWith("custom-poster.") ? "no-cache" : "max-age=3600"}`;
}
