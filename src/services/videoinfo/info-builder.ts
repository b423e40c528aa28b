/**
 * The video-info service (seed "Information sur les vidéos"): one pure function from what the
 * probe and the conversion reported to the `info` object the API serves, both at
 * `/api/videos/{id}/info/` and nested unchanged in the detail.
 */
import type { ProbeResult } from "../../platform/media/media.types.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import { formatDuration, humanSize } from "./format.js";

export interface RenditionInfo {
  quality: string;
  width: number;
  height: number;
  bitrate: number;
  size_bytes: number;
  size: string;
}

export interface VideoInfo {
  size_bytes: number;
  size: string;
  duration_seconds: number | null;
  duration: string | null;
  languages: string[];
  subtitle_languages: string[];
  has_subtitles: boolean;
  container: string | null;
  video_codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrate: number | null;
  renditions: RenditionInfo[];
}

export interface InfoInput {
  sizeBytes: number;
  probe: ProbeResult | null;
  media: TranscodeResult | null;
  /** BCP-47 audio languages (from the conversion, else the probe's tags normalized) */
  audioLanguages: string[];
  /** BCP-47 subtitle languages currently attached (source + uploaded) */
  subtitleLanguages: string[];
}

export function buildVideoInfo(input: InfoInput): VideoInfo {
  const { probe, media } = input;
  const duration = media?.durationS ?? probe?.durationS ?? null;
  const v = probe?.video ?? null;
  return {
    size_bytes: input.sizeBytes,
    size: humanSize(input.sizeBytes),
    duration_seconds: duration === null ? null : Math.round(duration * 1000) / 1000,
    duration: duration === null ? null : formatDuration(duration),
    languages: [...new Set(input.audioLanguages)],
    subtitle_languages: [...new Set(input.subtitleLanguages)],
    has_subtitles: input.subtitleLanguages.length > 0,
    container: probe?.container ?? null,
    video_codec: v?.codec ?? null,
    width: v ? v.displayWidth : null,
    height: v ? v.displayHeight : null,
    fps: v && v.fps > 0 ? Math.round(v.fps * 1000) / 1000 : null,
    bitrate: probe?.bitRate ?? null,
    renditions: (media?.renditions ?? []).map((r) => ({
      quality: r.quality,
      width: r.width,
      height: r.height,
      bitrate: r.bitrate,
      size_bytes: r.sizeBytes,
      size: humanSize(r.sizeBytes),
    })),
  };
}
