/**
 * Turning what fails inside a conversion (storage calls, ffmpeg runs, anything else) into the
 * job's `TranscodeError`, with its retryable flag.
 */
import { TranscodeError } from "../../contracts/transcode.messages.js";
import { FfmpegError } from "../../platform/media/ffmpeg-runner.js";
import { isNotFoundError } from "../../platform/storage/storage.js";

/** Runs a storage call; its failure becomes `storage_error`. */
export async function storageOp<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TranscodeError) throw err;
    // A missing object (the source deleted meanwhile) will still be missing next attempt.
    throw new TranscodeError("storage_error", `storage failed while ${what}: ${(err as Error).message}`, { cause: err, retryable: !isNotFoundError(err) });
  }
}

/** The TranscodeError for a failed ffmpeg run doing `what`. */
export function fromFfmpeg(err: unknown, what: string): TranscodeError {
  if (err instanceof TranscodeError) return err;
  if (err instanceof FfmpegError) {
    switch (err.code) {
      case "timeout":
        return new TranscodeError("timeout", `${what} timed out`, { cause: err });
      case "cancelled":
        return new TranscodeError("cancelled", `${what} cancelled`, { cause: err });
      case "limit_exceeded":
        // The same source crosses the same bound next time.
        return new TranscodeError("limit_exceeded", `${what} stopped: ${err.message}`.slice(0, 1000), { cause: err, retryable: false });
      case "ffmpeg_failed":
        // An exit code is ffmpeg refusing the input/arguments: deterministic. No exit code means
        // it was killed (OOM killer, a signal): worth another attempt.
        return new TranscodeError("transcode_failed", `${what} failed: ${err.message}`.slice(0, 1000), { cause: err, retryable: err.exitCode === null });
    }
  }
  return new TranscodeError("transcode_failed", `${what} failed: ${(err as Error).message}`, { cause: err });
}

/** What a job that failed with `err` reports: TranscodeErrors as they are, else cancelled/failed. */
export function asTranscodeError(err: unknown, signal: AbortSignal): TranscodeError {
  if (err instanceof TranscodeError) return err;
  if (signal.aborted) return new TranscodeError("cancelled", "transcode cancelled", { cause: err });
  return new TranscodeError("transcode_failed", (err as Error).message, { cause: err });
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new TranscodeError("cancelled", "transcode cancelled");
}

/** The job's time budget from now: seconds left, or `timeout` once it is spent. */
export function deadlineIn(timeoutS: number): () => number {
  const deadline = Date.now() + timeoutS * 1000;
  return () => {
    const s = (deadline - Date.now()) / 1000;
    if (s <= 0) throw new TranscodeError("timeout", `transcode exceeded ${timeoutS} s`);
    return s;
  };
}
