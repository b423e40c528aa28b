/**
 * What both queue adapters share: running one attempt of a handler (timeout, cancel, shutdown,
 * a handler that ignores its signal), mapping errors to a JobFailure, per-name policies and the
 * start-up check that every job name has a handler.
 */
import { JOB_NAMES, JOB_POLICIES, type JobName, type JobPayloads, type JobPolicy, type JobResults } from "./jobs.js";
import type { JobContext, JobEvent, JobFailure, JobHandler, JobHandlers, JobProgress } from "./queue.js";

/** Per-name policy overrides (config-driven timeouts; tests use short leases and backoffs). */
export type JobPolicyOverrides = Partial<Record<JobName, Partial<JobPolicy>>>;

export function resolvePolicies(overrides: JobPolicyOverrides = {}): Record<JobName, JobPolicy> {
  const out = {} as Record<JobName, JobPolicy>;
  for (const name of JOB_NAMES) out[name] = { ...JOB_POLICIES[name], ...overrides[name] };
  return out;
}

/** Exponential backoff: the wait after failed attempt n is base * 2^(n-1). */
export function backoffDelayMs(policy: JobPolicy, failedAttempt: number): number {
  return policy.backoffMs * 2 ** Math.max(0, failedAttempt - 1);
}

/** Refuses a handler table with a missing name (the compiler checks it too, but not for casts or JS callers). */
export function assertHandlers(handlers: JobHandlers): void {
  const missing = JOB_NAMES.filter((name) => typeof (handlers as Partial<JobHandlers>)[name] !== "function");
  if (missing.length > 0) throw new Error(`queue: no handler for job ${missing.map((n) => `"${n}"`).join(", ")}`);
}

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/** Why an attempt was aborted; the first reason wins. */
export type AbortCode = "timeout" | "cancelled" | "shutdown" | "lease_lost";

const ABORT_MESSAGES: Record<AbortCode, string> = {
  timeout: "The job ran longer than its timeout.",
  cancelled: "The job was cancelled.",
  shutdown: "The worker is shutting down; the job goes back to the queue.",
  lease_lost: "The worker lost the job's lease; another worker owns it now.",
};

/** The reason given to `AbortController.abort()`, so handlers can tell why their signal fired. */
export class JobAbortError extends Error {
  constructor(readonly code: AbortCode) {
    super(ABORT_MESSAGES[code]);
    this.name = "JobAbortError";
  }
}

/** One attempt in progress: its signal and the first abort reason. */
export class RunningJob {
  readonly controller = new AbortController();
  private code: AbortCode | null = null;

  get abortCode(): AbortCode | null {
    return this.code;
  }

  abort(code: AbortCode): void {
    if (this.code !== null) return;
    this.code = code;
    this.controller.abort(new JobAbortError(code));
  }
}

/** Maps a thrown value to a failure: an error's string `code` is kept, else `job_failed`. */
export function toJobFailure(err: unknown): JobFailure & { retryable: boolean } {
  if (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
    return {
      code: typeof e.code === "string" && e.code !== "" ? e.code : "job_failed",
      message: typeof e.message === "string" && e.message !== "" ? e.message : String(err),
      // a handler marks hopeless failures (unreadable source) so they are not retried
      retryable: e.retryable !== false,
    };
  }
  return { code: "job_failed", message: String(err), retryable: true };
}

export type AttemptOutcome<R> =
  | { kind: "completed"; result: R }
  | { kind: "failed"; failure: JobFailure; retryable: boolean }
  /** shutdown: put the job back without counting the attempt; lease_lost: someone else owns it, write nothing */
  | { kind: "aborted"; code: "shutdown" | "lease_lost" };

export interface AttemptOptions {
  jobId: string;
  attempt: number;
  timeoutMs: number;
  /** after an abort, how long the handler may take to wind down before the attempt is given up */
  abortGraceMs: number;
  run: RunningJob;
  progress: (p: JobProgress) => Promise<void>;
}

/** Runs one attempt. Never throws: every ending is an outcome. */
export async function runAttempt<N extends JobName>(
  handler: JobHandler<N>,
  payload: JobPayloads[N],
  opts: AttemptOptions,
): Promise<AttemptOutcome<JobResults[N]>> {
  const { run } = opts;
  let settled = false;
  const ctx: JobContext = {
    jobId: opts.jobId,
    attempt: opts.attempt,
    signal: run.controller.signal,
    // a handler still running after its attempt was given up must not overwrite newer progress
    progress: async (p) => {
      if (!settled) await opts.progress(p);
    },
  };

  const timeout = setTimeout(() => run.abort("timeout"), opts.timeoutMs);
  let graceTimer: NodeJS.Timeout | undefined;
  const onAbort = (resolve: (v: { stuck: true }) => void) => {
    graceTimer = setTimeout(() => resolve({ stuck: true }), opts.abortGraceMs);
  };
  const stuck = new Promise<{ stuck: true }>((resolve) => {
    if (run.controller.signal.aborted) onAbort(resolve);
    else run.controller.signal.addEventListener("abort", () => onAbort(resolve), { once: true });
  });
  const handled = Promise.resolve()
    .then(() => handler(payload, ctx))
    .then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );

  try {
    const ending = await Promise.race([handled, stuck]);
    const code = run.abortCode;
    if ("ok" in ending && ending.ok) {
      // A result that arrives despite a timeout or shutdown is still good work; a cancelled
      // job must not turn ready, and after a lost lease the other worker's attempt counts.
      if (code === "cancelled") return failedBy(code);
      if (code === "lease_lost") return { kind: "aborted", code };
      return { kind: "completed", result: ending.result };
    }
    if (code === "shutdown" || code === "lease_lost") return { kind: "aborted", code };
    if (code !== null) return failedBy(code);
    // an error can only be here when the handler rejected (stuck needs an abort code)
    const failure = toJobFailure("error" in ending ? ending.error : new Error("job failed"));
    return { kind: "failed", failure: { code: failure.code, message: failure.message }, retryable: failure.retryable };
  } finally {
    settled = true;
    clearTimeout(timeout);
    clearTimeout(graceTimer);
  }
}

function failedBy(code: "timeout" | "cancelled"): { kind: "failed"; failure: JobFailure; retryable: boolean } {
  // a timed-out attempt may succeed on a less busy worker; a cancelled job must not run again
  return { kind: "failed", failure: { code, message: ABORT_MESSAGES[code] }, retryable: code === "timeout" };
}

/** Builds a `completed` event; the cast ties `result` to `name`, which the union cannot express generically. */
export function completedEvent<N extends JobName>(name: N, jobId: string, result: JobResults[N]): JobEvent {
  return { kind: "completed", name, jobId, result } as JobEvent;
}

/** Calls every listener; one throwing listener neither stops the others nor the queue. */
export function emitTo(listeners: Iterable<(e: JobEvent) => void>, event: JobEvent, onError: (err: unknown) => void): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (err) {
      onError(err);
    }
  }
}

export const defaultOnError = (err: unknown): void => {
  console.error("[queue]", err);
};
