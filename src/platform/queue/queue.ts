/**
 * Job queue port. Two adapters pass one contract suite: in-process (default; jobs persisted in the
 * database so a restart resumes queued and interrupted jobs) and BullMQ on Redis (REDIS_URL).
 *
 * The queue is also the microservice boundary: workers receive a job message, report progress
 * and a result as messages, and never touch the database; the backend listens with `onEvent`
 * and applies them to the Video, and catches up on what it did not hear with `inspect`.
 */
import type { JobName, JobPayloads, JobResults } from "./jobs.js";

export interface JobProgress {
  step: string;
  percent: number;
  eta_s: number | null;
  [field: string]: unknown;
}

export interface JobContext {
  jobId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the job is cancelled, times out, or the worker shuts down. */
  signal: AbortSignal;
  /** Reports progress; delivered to `onEvent` listeners as a `progress` event. */
  progress(p: JobProgress): Promise<void>;
}

/**
 * A rejection fails the attempt: an error's string `code` becomes `JobFailure.code` (else
 * `job_failed`), and `retryable: false` on the error skips the remaining attempts.
 */
export type JobHandler<N extends JobName> = (payload: JobPayloads[N], ctx: JobContext) => Promise<JobResults[N]>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface JobFailure {
  /** stable failure code, e.g. `transcode_failed`, `timeout`, `storage_error`, `cancelled` */
  code: string;
  message: string;
}

export type JobEvent =
  | { kind: "active"; name: JobName; jobId: string; attempt: number }
  | { kind: "progress"; name: JobName; jobId: string; progress: JobProgress }
  | { [N in JobName]: { kind: "completed"; name: N; jobId: string; result: JobResults[N] } }[JobName]
  | { kind: "failed"; name: JobName; jobId: string; failure: JobFailure; /** no retry left */ final: boolean };

export type JobState = "waiting" | "active" | "completed" | "failed";

/**
 * What the queue knows about one job, for a backend that may have missed its events (another
 * process's in-process queue, an API restart between a job's end and its result being applied).
 */
export interface JobInspection {
  name: JobName;
  /** `waiting` includes a job waiting out a retry backoff */
  state: JobState;
  /** the running attempt (active), the last one (completed/failed), attempts made so far (waiting) */
  attempt: number;
  /** the last progress reported by the current or last attempt; null before the first report */
  progress: JobProgress | null;
  /** the handler's result, when completed */
  result: JobResults[JobName] | null;
  /** why it failed for good, when failed */
  failure: JobFailure | null;
}

export interface EnqueueOptions {
  /** Idempotency key: enqueueing an id that is waiting or active is a no-op. */
  jobId: string;
  /**
   * Whose turn the job takes (the videos domain passes the owner's id): waiting jobs are taken
   * round-robin by key, oldest first within a key, so one key's backlog never holds the others
   * back and a key seen for the first time is served within a round. Jobs without a key share
   * one. Per owner, not per video: a video split into several jobs still takes one turn at a time.
   */
  fairnessKey?: string;
}

export interface Queue {
  readonly kind: "memory" | "bullmq";
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions): Promise<{ jobId: string; created: boolean }>;
  /** Starts consuming jobs with these handlers (a worker). Call once per process. */
  work(handlers: JobHandlers, opts: { concurrency: number }): Promise<void>;
  /** Backend side: progress/completion/failure messages of every job, from any worker. */
  onEvent(listener: (e: JobEvent) => void): () => void;
  /**
   * 1-based position among waiting jobs in the order they will be taken (turns by fairness key),
   * null when not waiting. A snapshot: a key seen for the first time may still go ahead of it.
   */
  position(jobId: string): Promise<number | null>;
  /**
   * The job's state, or null when no job has this id (never enqueued, or removed: BullMQ drops a
   * job cancelled before it started, and finished jobs after their retention period).
   */
  inspect(jobId: string): Promise<JobInspection | null>;
  /**
   * How many jobs are in each state now, every job name together: the queue depth the metrics
   * report. Finished jobs count as long as the queue keeps them (BullMQ trims them by age and
   * number, the embedded queue keeps its rows); `waiting` includes jobs waiting out a backoff.
   */
  counts(): Promise<Record<JobState, number>>;
  /** Removes a waiting job or aborts an active one (its handler's signal fires, ffmpeg is killed). */
  cancel(jobId: string): Promise<void>;
  /** SIGTERM: stop taking jobs; let the current ones finish within graceMs, else requeue them. */
  stopWorking(graceMs: number): Promise<void>;
  close(): Promise<void>;
}
