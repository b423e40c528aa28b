/** A video's pipeline state (after the last byte) as a phase name, one line of numbers and a percent. */
import type { VideoLiveState } from "../api/video-events.js";
import { formatEta, formatPercent as pct, formatRate, formatSize } from "../ui/format.js";
import { describeFailure } from "./failures.js";

const STEPS: Record<string, string> = {
  starting: "Starting the conversion",
  downloading: "Fetching the original",
  transcoding: "Converting",
  packaging: "Packaging the stream",
  thumbnails: "Making thumbnails",
  uploading: "Storing the converted video",
};

export const STATUS_NAMES: Record<string, string> = {
  uploading: "Uploading",
  validating: "Checking the file",
  queued: "Waiting for conversion",
  processing: "Converting",
  ready: "Ready",
  failed: "Failed",
};

export interface LiveText {
  /** the phase, for the live region (changes seldom) */
  phase: string;
  /** the numbers (percent, ETA, queue place): not announced, shown */
  detail: string;
  /** the bar's value, null for no bar */
  percent: number | null;
  /** the bar's accessible name */
  bar: string;
  failed: boolean;
}

export function describeLive(s: VideoLiveState): LiveText {
  const p = s.progress;
  switch (s.status) {
    case "uploading": {
      const u = s.upload;
      const percent = u?.percent ?? p?.percent ?? 0;
      const parts = [pct(percent)];
      if (u) parts.push(`${formatSize(u.bytes_received)} of ${formatSize(u.total)}`);
      if (u?.rate_bytes_per_s) parts.push(formatRate(u.rate_bytes_per_s));
      if (u?.eta_s !== null && u?.eta_s !== undefined) parts.push(`${formatEta(u.eta_s)} left`);
      return { phase: "Uploading", detail: parts.join(" · "), percent, bar: "Upload progress", failed: false };
    }
    case "validating":
      return { phase: "Checking the file", detail: "The server is checking that the file is a video it can convert.", percent: null, bar: "", failed: false };
    case "queued": {
      const place = p?.queue_position;
      return { phase: "Waiting for conversion", detail: place ? `Position ${place} in the queue` : "In the queue", percent: null, bar: "", failed: false };
    }
    case "processing": {
      const step = p ? (STEPS[p.step] ?? "Converting") : "Starting the conversion";
      const parts = [p ? pct(p.percent) : pct(0)];
      if (p?.eta_s !== null && p?.eta_s !== undefined) parts.push(`${formatEta(p.eta_s)} left`);
      if (s.playable) parts.push("already playable");
      if (s.retrying) parts.push(`retrying after: ${s.retrying}`);
      return { phase: step, detail: parts.join(" · "), percent: p?.percent ?? 0, bar: "Conversion progress", failed: false };
    }
    case "ready":
      return { phase: "Ready", detail: "", percent: 100, bar: "Conversion progress", failed: false };
    case "failed":
      return { phase: "Failed", detail: describeFailure(s.failure_code, s.failure_message), percent: null, bar: "", failed: true };
    default:
      return { phase: STATUS_NAMES[s.status] ?? s.status, detail: "", percent: null, bar: "", failed: false };
  }
}
