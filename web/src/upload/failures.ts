/**
 * Why an upload or a conversion did not work, in sentences. The API gives machine codes
 * (`failure_code` on the video, `error.code` on a refused request); the codes come from
 * src/apps/videos/video.types.ts (FAILURE_CODES) and the tus handlers in src/apps/uploads.
 */
import { ApiError } from "../api/client.js";
import { formatEta, formatSize } from "../ui/format.js";

/**
 * code → sentence. `detail`: the server's message adds facts worth showing (limits, durations),
 * after the sentence ("append") or instead of it when it says the same more precisely ("replace":
 * "This file is not a video (it looks like a PDF document).").
 */
const FAILURES: Record<string, { text: string; detail?: "append" | "replace" }> = {
  empty_file: { text: "The file is empty." },
  not_a_video: { text: "This file is not a video.", detail: "replace" },
  unsupported_container: { text: "This kind of video file is not supported.", detail: "replace" },
  no_video_stream: { text: "The file has no picture (audio only?)." },
  corrupt: { text: "The file is damaged and cannot be read.", detail: "append" },
  too_long: { text: "The video is longer than allowed.", detail: "append" },
  resolution_too_large: { text: "The picture is larger than allowed.", detail: "append" },
  too_large: { text: "The file is larger than allowed." },
  quota_exceeded: { text: "This upload would exceed your storage quota." },
  upload_expired: { text: "The upload took too long and expired; upload the file again." },
  transcode_failed: { text: "The conversion failed.", detail: "append" },
  timeout: { text: "The conversion took too long and was stopped." },
  storage_error: { text: "The file could not be stored; upload it again." },
  limit_exceeded: { text: "The video crossed a safety limit while being converted (its header does not match its content).", detail: "append" },
  conversion_queue_full: { text: "You have too many videos waiting for conversion; try again once one is ready." },
  too_many_uploads: { text: "You have too many uploads in progress; finish or cancel one first." },
  upload_length_exceeded: { text: "More bytes were sent than the file has; start the upload again." },
  checksum_mismatch: { text: "Part of the file arrived damaged; it will be sent again." },
  insufficient_storage: { text: "The server is out of space; try again later." },
  upload_not_found: { text: "The server no longer has this upload; start it again." },
  upload_locked: { text: "Another request is still writing to this upload; try again in a moment." },
  offset_mismatch: { text: "The server and the browser disagree about how much was sent; resume to continue." },
  not_authenticated: { text: "You are signed out; sign in again to upload." },
  token_revoked: { text: "Your session ended; sign in again to upload." },
  permission_denied: { text: "Your account may not upload videos." },
  validation_error: { text: "Some details of the video were refused.", detail: "append" },
};

/** The sentence for a video's `failure_code` (with the server's message when it adds facts). */
export function describeFailure(code: string | null | undefined, message?: string | null): string {
  const known = code ? FAILURES[code] : undefined;
  if (!known) return message?.trim() || "Something went wrong while processing the video.";
  const m = message?.trim();
  if (!known.detail || !m || m === known.text) return known.text;
  return known.detail === "replace" ? m : `${known.text} ${m}`;
}

type Details = Record<string, unknown> | unknown[] | null | undefined;
const num = (d: Details, k: string): number | null => {
  const v = d && !Array.isArray(d) ? d[k] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

/** A refused request's body (`{error: {code, message, details}}`) in words, with its numbers. */
export function describeRefusal(code: string | null, message: string | null, details: Details, status: number): string {
  switch (code) {
    case "quota_exceeded": {
      const used = num(details, "used");
      const limit = num(details, "limit");
      const requested = num(details, "requested");
      if (used !== null && limit !== null) {
        const left = Math.max(0, limit - used);
        return requested !== null
          ? `This upload would exceed your storage quota: you use ${formatSize(used)} of ${formatSize(limit)}, ${formatSize(left)} are left and this file is ${formatSize(requested)}. Delete videos you no longer need, or upload a smaller file.`
          : `Your storage quota is used up (${formatSize(used)} of ${formatSize(limit)}).`;
      }
      return describeFailure(code);
    }
    case "conversion_queue_full": {
      const queued = num(details, "queued");
      const limit = num(details, "limit");
      const after = num(details, "retry_after_s");
      if (queued !== null && limit !== null) {
        return `You have ${queued} videos waiting for or in conversion, and at most ${limit} may be at once. Try again once one is ready${after !== null ? ` (in about ${formatEta(after)})` : ""}.`;
      }
      return describeFailure(code);
    }
    case "too_many_uploads": {
      const used = num(details, "used");
      const limit = num(details, "limit");
      if (limit !== null) return `At most ${limit} uploads may be in progress at once${used !== null ? ` and you have ${used}` : ""}. Finish or cancel one (paused uploads count), then try again.`;
      return describeFailure(code);
    }
    case "too_large": {
      const limit = num(details, "limit");
      return limit !== null ? `The file is larger than the ${formatSize(limit)} allowed.` : describeFailure(code);
    }
    case "validation_error":
      if (Array.isArray(details) && details.length) {
        const fields = (details as { field?: string; message?: string }[]).map((d) => (d.field ? `${d.field} ${d.message ?? "is invalid"}` : (d.message ?? ""))).filter(Boolean);
        return `Some details of the video were refused: ${fields.join("; ")}.`;
      }
      return describeFailure(code, message);
    case null:
      if (status === 0) return "The server could not be reached. Check your connection, then resume.";
      return message ?? `The server refused the upload (HTTP ${status}).`;
    default:
      return FAILURES[code] ? describeFailure(code, message) : (message ?? `The server refused the upload (HTTP ${status}).`);
  }
}

type RefusalBody = { error?: { code?: string; message?: string; details?: Details } } | null;

/** Any error of an upload or an API call, in words. */
export function describeUploadError(err: unknown): string {
  if (err instanceof ApiError) return describeRefusal(err.code, err.message, err.details as Details, err.status);
  const res = (err as { originalResponse?: { getStatus(): number; getBody(): string } | null } | null)?.originalResponse;
  if (res) {
    let body: RefusalBody | null = null;
    try {
      body = JSON.parse(res.getBody()) as RefusalBody;
    } catch {
      // not an API error body (a proxy's page): the status says enough
    }
    return describeRefusal(body?.error?.code ?? null, body?.error?.message ?? null, body?.error?.details, res.getStatus());
  }
  if (err && typeof err === "object" && "originalRequest" in err) return describeRefusal(null, null, null, 0);
  return err instanceof Error ? err.message : String(err);
}

/** The refused request's code, if any (a tus error or an API error). */
export function errorCode(err: unknown): string | null {
  if (err instanceof ApiError) return err.code;
  const res = (err as { originalResponse?: { getBody(): string } | null } | null)?.originalResponse;
  if (!res) return null;
  try {
    return (JSON.parse(res.getBody()) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}
