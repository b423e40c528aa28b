/**
 * One payload type and one result type per job name, and the retry/backoff/timeout table.
 * Handlers are a `Record<JobName, Handler>` (see queue.ts), checked by the compiler and again at
 * start-up by the adapters (a name with no handler is refused).
 */
import type { TranscodeJob, TranscodeResult } from "../../contracts/transcode.messages.js";

export interface JobPayloads {
  "video.transcode": TranscodeJob;
}

export interface JobResults {
  "video.transcode": TranscodeResult;
}

export type JobName = keyof JobPayloads;

export const JOB_NAMES: readonly JobName[] = ["video.transcode"];

export interface JobPolicy {
  /** total attempts including the first */
  attempts: number;
  /** exponential backoff base: attempt n waits base * 2^(n-1) */
  backoffMs: number;
  /** a handler running longer is aborted and the attempt fails with `timeout` */
  timeoutMs: number;
  /** lease: an in-process job whose heartbeat is older than this is taken as crashed and retried */
  leaseMs: number;
}

export const JOB_POLICIES: Record<JobName, JobPolicy> = {
  // Transcoding is long and CPU-bound: few attempts, a long timeout (TRANSCODE_TIMEOUT also
  // bounds ffmpeg itself), a lease short enough that a SIGKILLed worker's job restarts soon.
  "video.transcode": { attempts: 3, backoffMs: 5_000, timeoutMs: 6 * 3600 * 1000, leaseMs: 30_000 },
};
