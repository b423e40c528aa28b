/**
 * The `video.transcode` job's messages, seen by both sides of the queue: the backend builds a
 * `TranscodeJob`, the worker answers with `TranscodeProgress` messages and a `TranscodeResult` (or
 * fails with a `TranscodeError`) that the backend applies to the Video. A worker host needs only
 * these, the queue and the storage: no database.
 *
 * Contracts import nothing from apps/ or services/: only lib/ and pure platform types.
 */
import type { ProbeResult } from "../platform/media/media.types.js";

/** Segment container of the HLS renditions. */
export type SegmentType = "mpegts" | "fmp4";

export interface TranscodeOptions {
  /** target heights (shorter side), e.g. [240, 480, 720, 1080] */
  ladder: number[];
  maxFps: number;
  segmentS: number;
  segmentType: SegmentType;
  mp4: boolean;
  preset: string;
  mode: "single" | "per-rung";
  timeoutS: number;
  /** upload's language (BCP-47) used for audio streams without a language tag */
  defaultLanguage: string | null;
}

export interface TranscodeJob {
  videoId: string;
  /**
   * The video's owner: whose turn the job takes in the queue (its fairness key), so a video split
   * into several jobs still takes one turn per owner. The worker does not need it. Absent in jobs
   * queued before it was recorded.
   */
  ownerId?: string;
  /** storage key of the original */
  sourceKey: string;
  /** storage prefix the outputs go under, ending with `/`, e.g. `videos/<id>/` */
  outputPrefix: string;
  probe: ProbeResult;
  options: TranscodeOptions;
}

export interface RenditionOutput {
  /** `<height>p`, counted on the shorter side */
  quality: string;
  width: number;
  height: number;
  /** measured average video+audio bit/s */
  bitrate: number;
  /** HLS BANDWIDTH (peak) and AVERAGE-BANDWIDTH, bit/s */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  fps: number;
  /** storage key of the media playlist */
  playlistKey: string;
  /** storage key of the progressive MP4, null when MP4 renditions are off */
  mp4Key: string | null;
  /** bytes of the MP4 (or of the HLS segments when no MP4) */
  sizeBytes: number;
}

export interface AudioTrackOutput {
  /** BCP-47 short form (`en`, `fr`, `und`) */
  language: string;
  /** the language's own name, e.g. `English`, `français` */
  name: string;
  isDefault: boolean;
  playlistKey: string;
  codecs: string;
  bitrate: number;
}

export interface SubtitleTrackOutput {
  language: string;
  name: string;
  /** storage key of the WebVTT file and of its one-segment media playlist */
  vttKey: string;
  playlistKey: string;
}

export interface ThumbnailsOutput {
  posterKey: string | null;
  candidateKeys: string[];
  storyboardKey: string | null;
  storyboardVttKey: string | null;
}

export interface TranscodeResult {
  masterKey: string;
  durationS: number;
  renditions: RenditionOutput[];
  audioTracks: AudioTrackOutput[];
  subtitleTracks: SubtitleTrackOutput[];
  thumbnails: ThumbnailsOutput;
  /**
   * Segment container of the renditions (the master's EXT-X-VERSION depends on it). Optional:
   * results stored before it was recorded lack it; readers then look at the playlists.
   */
  segmentType?: TranscodeOptions["segmentType"];
  /**
   * 90 kHz PTS at which the MPEG-TS media starts: the MPEGTS value of the X-TIMESTAMP-MAP every
   * WebVTT rendition needs with MPEG-TS media (RFC 8216 §3.5), also for subtitles uploaded later.
   * null for fMP4; absent in results stored before it was recorded.
   */
  mpegtsStartPts?: number | null;
  /**
   * Bytes of every object the conversion left under the output prefix (segments, playlists, MP4s,
   * thumbnails, storyboard, subtitles, master): what the owner's storage quota counts besides the
   * original. Absent in results stored before it was recorded; readers then sum the renditions.
   */
  storedBytes?: number;
  /**
   * Wall-clock seconds of the encode per quality (`720p` → 41.2): the ffmpeg run that encoded
   * it. In `single` mode one run encodes every rung at once, so each carries that run's time; in
   * `per-rung` mode each its own run's. For the metrics; absent in older results.
   */
  encodeSeconds?: Record<string, number>;
}

/** Progress message; `playable` turns true once the master and a first segment of every rung are stored. */
export interface TranscodeProgress {
  step: "downloading" | "transcoding" | "packaging" | "thumbnails" | "uploading";
  percent: number;
  eta_s: number | null;
  playable: boolean;
  masterKey?: string;
}

/**
 * Why a conversion failed (the API maps these onto the Video's failure codes). `limit_exceeded`:
 * ffmpeg crossed a bound set from the probe or FFMPEG_MEMORY_LIMIT (never retried).
 */
export const TRANSCODE_FAILURE_CODES = ["transcode_failed", "timeout", "storage_error", "cancelled", "limit_exceeded"] as const;
export type TranscodeFailureCode = (typeof TRANSCODE_FAILURE_CODES)[number];

export class TranscodeError extends Error {
  /**
   * false for failures another attempt cannot fix (no video stream, source gone, ffmpeg rejecting
   * the input): the queue then skips the remaining attempts.
   */
  readonly retryable: boolean;

  constructor(
    readonly code: TranscodeFailureCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.name = "TranscodeError";
    this.retryable = options?.retryable ?? true;
  }
}
