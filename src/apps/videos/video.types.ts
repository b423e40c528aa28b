/** The Video's vocabulary, shared by the API, the upload pipeline and the job-result applier. */
export const VIDEO_STATUSES = ["uploading", "validating", "queued", "processing", "ready", "failed"] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

export const VISIBILITIES = ["public", "unlisted", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const FAILURE_CODES = [
  "empty_file",
  "not_a_video",
  "unsupported_container",
  "no_video_stream",
  "corrupt",
  "too_long",
  "resolution_too_large",
  "too_large",
  "quota_exceeded",
  "upload_expired",
  "transcode_failed",
  "timeout",
  "storage_error",
  // the source crossed a bound the conversion sets from its probe (picture size, duration) or
  // FFMPEG_MEMORY_LIMIT: a file whose header lies about what follows it
  "limit_exceeded",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export interface VideoProgress {
  step: string;
  percent: number;
  bytes_received: number | null;
  eta_s: number | null;
  queue_position: number | null;
}
