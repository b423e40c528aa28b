/**
 * HLS request paths, pure: which request paths map to which storage keys. Keys are built from the
 * video id and a validated relative path: only `[A-Za-z0-9_.-]` segments, none empty, none
 * starting with a dot (no `..`, no hidden temp files). Content types and cache policies are the
 * media layout's (`src/contracts/media-layout.ts`), shared with the worker that writes the files.
 */
import { contentTypeOf, videoKeys } from "../../contracts/media-layout.js";

export const masterKey = (videoId: string) => videoKeys.master(videoId);

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** The storage key for `rel` under the video's `hls/` folder, or null when `rel` is not acceptable. */
export function hlsKey(videoId: string, rel: string): string | null {
  if (rel.length === 0 || rel.length > 512) return null;
  const parts = rel.split("/");
  if (parts.length > 6 || !parts.every((p) => SEGMENT.test(p))) return null;
  if (contentTypeOf(rel) === null) return null;
  return videoKeys.hlsPrefix(videoId) + rel;
}

/** The path after `hls/`, for a key under the video's `hls/` folder. */
export function hlsRel(videoId: string, key: string): string | null {
  const p = videoKeys.hlsPrefix(videoId);
  return key.startsWith(p) ? key.slice(p.length) : null;
}
