/**
 * The scale queue (kind `bullmq`): BullMQ on Redis, one BullMQ queue per job name. Workers run in
 * any number of processes; the backend learns about every job through QueueEvents (the Redis
 * stream each queue writes), so it needs no database access on the worker side.
 *
 * What BullMQ does not give us is added here: a failure code (kept in `failedReason` as
 * `[code] message`), the attempt number and non-final failures (custom stream events), a timeout
 * (an AbortController per attempt), a cross-process cancel (Redis pub/sub plus a short-lived key
 * for a job that is just starting) and re-enqueueing a finished job id (the old job is removed).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import {
  Queue as BQueue,
  QueueEvents,
  QueueEventsProducer,
  UnrecoverableError,
  WaitingError,
  Worker,
  type Job,
  type QueueEventsListener,
} from "bullmq";
import { JOB_NAMES, type JobName, type JobPayloads, type JobPolicy, type JobResults } from "./jobs.js";
import {
  assertHandlers,
  completedEvent,
  defaultOnError,
  emitTo,
  resolvePolicies,
  runAttempt,
  RunningJob,
  type JobPolicyOverrides,
} from "./job-runner.js";
import type { EnqueueOptions, JobEvent, JobFailure, JobHandlers, JobInspection, JobProgress, JobState, Queue } from "./queue.js";

export interface BullQueueOptions {
  /** Redis key prefix; tests use a unique one per run. */
  prefix?: string;
  policies?: JobPolicyOverrides;
  /**
   * A worker's lock on its job; renewed at half this period while the handler runs. A SIGKILLed
   * worker's job is taken as stalled once the lock expired and a stalled check ran, so the
   * defaults (20 s + 10 s) restart it within about 30 s.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** how many stalls (crashed workers) a job survives before it fails with `worker_lost` */
  maxStalledCount?: number;
  /** after aborting a handler (timeout, cancel, shutdown), how long it may take to stop */
  abortGraceMs?: number;
  onError?: (err: unknown) => void;
}

type Listener = (e: JobEvent) => void;

/** Custom events this adapter writes to each queue's stream next to BullMQ's own. */
interface VidfluxEvents extends QueueEventsListener {
  "vidflux:active": (args: { jobId: string; attempt: string }, id: string) => void;
  "vidflux:failed": (args: { jobId: string; code: string; message: string; final: string }, id: string) => void;
}

const FAILURE_RE = /^\[([A-Za-z0-9_.:-]+)\] ([\s\S]*)$/;
// BullMQ's own reason when a job stalled more often than maxStalledCount allows
const STALLED_REASON = "job stalled more than allowable limit";
const MAX_EVENTS = 10_000;
const CANCEL_KEY_TTL_MS = 24 * 3600 * 1000;
const ENQUEUE_LOCK_MS = 10_000;

const encodeFailure = (f: JobFailure): string => `[${f.code}] ${f.message}`;

function decodeFailure(reason: string): JobFailure {
  const m = FAILURE_RE.exec(reason);
  if (m) return { code: m[1]!, message: m[2]! };
  if (reason === STALLED_REASON) return { code: "worker_lost", message: "The worker running the job stopped responding too many times." };
  return { code: "job_failed", message: reason };
}

/** The job states in which a job has not started yet (or waits to retry) and can be removed. */
const NOT_STARTED = new Set(["waiting", "delayed", "prioritized", "paused", "waiting-children"]);

function portState(state: string): JobState | null {
  if (state === "active" || state === "completed" || state === "failed") return state;
  return NOT_STARTED.has(state) ? "waiting" : null;
}

/** Our progress reports are objects; a number is BullMQ's default 0 or the reset at an attempt's start. */
const progressOf = (p: unknown): JobProgress | null => (typeof p === "object" && p !== null ? (p as JobProgress) : null);

export class BullQueue implements Queue {
  readonly kind = "bullmq" as const;
  private readonly prefix: string;
  private readonly policies: Record<JobName, JobPolicy>;
  private readonly connection: { url: string; maxRetriesPerRequest: null };
  private readonly onError: (err: unknown) => void;
  private readonly redis: Redis;
  private readonly queues = new Map<JobName, BQueue>();
  private readonly producers = new Map<JobName, QueueEventsProducer>();
  private readonly queueEvents: QueueEvents[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly running = new Map<string, RunningJob>();
  private readonly ready: Promise<void>;
  private workers: Worker[] = [];
  private subscriber: Redis | null = null;
  private closed = false;

  constructor(
    redisUrl: string,
    private readonly opts: BullQueueOptions = {},
  ) {
    this.prefix = opts.prefix ?? "vidflux";
    this.policies = resolvePolicies(opts.policies);
    this.onError = opts.onError ?? defaultOnError;
    // BullMQ's blocking commands must wait for Redis rather than fail after a few retries
    this.connection = { url: redisUrl, maxRetriesPerRequest: null };
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.redis.on("error", this.onError);
    for (const name of JOB_NAMES) {
      const queue = new BQueue(name, { connection: this.connection, prefix: this.prefix });
      queue.on("error", this.onError);
      this.queues.set(name, queue);
      const producer = new QueueEventsProducer(name, { connection: this.connection, prefix: this.prefix });
      producer.on("error", this.onError);
      this.producers.set(name, producer);
    }
    this.ready = this.init();
    // a failed init surfaces on the first call that awaits it
    this.ready.catch(() => undefined);
  }

  /** Starts reading the event streams from their current end, so no event after construction is missed. */
  private async init(): Promise<void> {
    for (const [name, queue] of this.queues) {
      const last = await this.redis.xrevrange(queue.keys.events!, "+", "-", "COUNT", 1);
      const lastEventId = last[0]?.[0] ?? "0-0";
      const events = new QueueEvents(name, { connection: this.connection, prefix: this.prefix, lastEventId });
      events.on("error", this.onError);
      this.listen(name, events);
      this.queueEvents.push(events);
      await events.waitUntilReady();
    }
  }

  private listen(name: JobName, events: QueueEvents): void {
    events.on<VidfluxEvents, "vidflux:active">("vidflux:active", ({ jobId, attempt }) => this.emit({ kind: "active", name, jobId, attempt: Number(attempt) }));
    events.on("progress", ({ jobId, data }) => {
      const progress = progressOf(data);
      if (progress) this.emit({ kind: "progress", name, jobId, progress });
    });
    events.on("completed", ({ jobId, returnvalue }) => {
      this.emit(completedEvent(name, jobId, returnvalue as unknown as JobResults[typeof name]));
    });
    // BullMQ writes `failed` to the stream only when the job lands in the failed set (a retry
    // moves it to delayed/waiting instead), so this one is final; retries come as vidflux:failed.
    events.on("failed", ({ jobId, failedReason }) => this.emit({ kind: "failed", name, jobId, failure: decodeFailure(failedReason), final: true }));
    events.on<VidfluxEvents, "vidflux:failed">("vidflux:failed", ({ jobId, code, message, final }) =>
      this.emit({ kind: "failed", name, jobId, failure: { code, message }, final: final === "1" }),
    );
  }

  private emit(event: JobEvent): void {
    emitTo([...this.listeners], event, this.onError);
  }

  private queueFor(name: JobName): BQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`queue: unknown job name "${name}"`);
    return queue;
  }

  private async publish(name: JobName, fields: { eventName: string } & Record<string, string>): Promise<void> {
    await this.producers.get(name)!.publishEvent(fields, MAX_EVENTS);
  }

  private cancelKey(jobId: string): string {
    return `${this.prefix}:vidflux:cancel:${jobId}`;
  }

  private get cancelChannel(): string {
    return `${this.prefix}:vidflux:cancel`;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions): Promise<{ jobId: string; created: boolean }> {
    await this.ready;
    const { jobId } = opts;
    const queue = this.queueFor(name);
    const policy = this.policies[name];
    // BullMQ silently ignores an add with a known id and cannot tell us whether it did, so the
    // check-remove-add below runs under a short per-id lock to report `created` exactly.
    return this.withEnqueueLock(name, jobId, async () => {
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== "completed" && state !== "failed" && state !== "unknown") return { jobId, created: false };
        // reprocessing: a finished job's id is free again only once the old job is gone
        await existing.remove();
      }
      await this.redis.del(this.cancelKey(jobId));
      await queue.add(name, payload, {
        jobId,
        attempts: policy.attempts,
        backoff: { type: "exponential", delay: policy.backoffMs },
        // keep finished jobs a while, bounded: inspect() reads the result or failure from them
        // (an API that missed the event applies it from there), and enqueue() reuses their ids
        removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
        removeOnFail: { age: 30 * 24 * 3600, count: 5000 },
      });
      return { jobId, created: true };
    });
  }

  private async withEnqueueLock<T>(name: JobName, jobId: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.prefix}:vidflux:enqueue-lock:${name}:${jobId}`;
    const token = randomUUID();
    const deadline = Date.now() + ENQUEUE_LOCK_MS;
    while ((await this.redis.set(key, token, "PX", ENQUEUE_LOCK_MS, "NX")) !== "OK") {
      if (Date.now() > deadline) throw new Error(`queue: could not lock job id ${jobId} for enqueueing`);
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      return await fn();
    } finally {
      // delete only our own lock (it may have expired and been taken by another caller)
      await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, token);
    }
  }

  async work(handlers: JobHandlers, opts: { concurrency: number }): Promise<void> {
    assertHandlers(handlers);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error("queue: concurrency must be a positive integer");
    if (this.workers.length > 0) throw new Error("queue: work() was already called on this queue");
    await this.ready;

    // Cancel from any process: every worker hears the message and aborts the job if it runs it.
    const subscriber = this.redis.duplicate();
    subscriber.on("error", this.onError);
    subscriber.on("message", (_channel: string, jobId: string) => this.running.get(jobId)?.abort("cancelled"));
    await subscriber.subscribe(this.cancelChannel);
    this.subscriber = subscriber;

    const lockDuration = this.opts.lockDurationMs ?? 20_000;
    for (const name of JOB_NAMES) {
      // one worker per job name, each with `concurrency` slots
      const worker = new Worker(name, (job: Job, token?: string) => this.process(name, handlers, job, token), {
        connection: this.connection,
        prefix: this.prefix,
        concurrency: opts.concurrency,
        lockDuration,
        stalledInterval: this.opts.stalledIntervalMs ?? 10_000,
        maxStalledCount: this.opts.maxStalledCount ?? 2,
        autorun: false,
      });
      worker.on("error", this.onError);
      // the lock went to another worker (e.g. this process was frozen longer than the lock)
      worker.on("lockRenewalFailed", (jobIds) => {
        for (const id of jobIds) this.running.get(id)?.abort("lease_lost");
      });
      this.workers.push(worker);
      worker.run().catch(this.onError);
      await worker.waitUntilReady();
    }
  }

  private async process<N extends JobName>(name: N, handlers: JobHandlers, job: Job, token: string | undefined): Promise<JobResults[N]> {
    const jobId = job.id!;
    const policy = this.policies[name];
    // BullMQ counts failed attempts in attemptsMade and crashes in stalledCounter; both are attempts here
    const attempt = job.attemptsMade + job.stalledCounter + 1;
    const run = new RunningJob();
    this.running.set(jobId, run);
    try {
      // a cancel published while the job was being picked up found no running handler
      if ((await this.redis.exists(this.cancelKey(jobId))) === 1) run.abort("cancelled");
      // BullMQ keeps a job's progress across attempts (a retry, a crash, a shutdown requeue):
      // inspect() must not show the previous attempt's. A number is not a progress report, so
      // no listener hears this reset.
      if (progressOf(job.progress)) await job.updateProgress(0);
      await this.publish(name, { eventName: "vidflux:active", jobId, attempt: String(attempt) });
      const outcome = await runAttempt(handlers[name], job.data as JobPayloads[N], {
        jobId,
        attempt,
        timeoutMs: policy.timeoutMs,
        abortGraceMs: this.opts.abortGraceMs ?? 5000,
        run,
        progress: (p) => job.updateProgress(p),
      });
      if (outcome.kind === "completed") return outcome.result;
      if (outcome.kind === "failed") {
        // same rule as BullMQ's own retry decision
        const final = !outcome.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (final) throw new UnrecoverableError(encodeFailure(outcome.failure));
        await this.publish(name, { eventName: "vidflux:failed", jobId, code: outcome.failure.code, message: outcome.failure.message, final: "0" });
        throw new Error(encodeFailure(outcome.failure));
      }
      // shutdown: back to the head of the line without counting an attempt; lease lost: the
      // job is another worker's now. WaitingError tells BullMQ the job was moved by us.
      if (outcome.code === "shutdown") await job.moveToWait(token);
      throw new WaitingError();
    } finally {
      if (this.running.get(jobId) === run) this.running.delete(jobId);
    }
  }

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async position(jobId: string): Promise<number | null> {
    await this.ready;
    for (const queue of this.queues.values()) {
      // ascending: the next job to run first
      const ids = await queue.getRanges(["wait"], 0, -1, true);
      const index = ids.indexOf(jobId);
      if (index >= 0) return index + 1;
    }
    return null;
  }

  async inspect(jobId: string): Promise<JobInspection | null> {
    await this.ready;
    for (const [name, queue] of this.queues) {
      const job = await queue.getJob(jobId);
      if (!job) continue;
      const state = portState(await job.getState());
      if (state === null) return null;
      // attemptsMade counts finished attempts (failed or completed), stalledCounter crashed ones
      const finished = job.attemptsMade + job.stalledCounter;
      return {
        name,
        state,
        attempt: state === "active" ? finished + 1 : finished,
        progress: progressOf(job.progress),
        result: state === "completed" ? (job.returnvalue as JobResults[JobName]) : null,
        failure: state === "failed" ? decodeFailure(job.failedReason ?? "") : null,
      };
    }
    return null;
  }

  async cancel(jobId: string): Promise<void> {
    await this.ready;
    for (const [name, queue] of this.queues) {
      const job = await queue.getJob(jobId);
      if (!job) continue;
      const state = await job.getState();
      if (NOT_STARTED.has(state)) {
        try {
          await job.remove();
          await this.publish(name, { eventName: "vidflux:failed", jobId, code: "cancelled", message: "The job was cancelled.", final: "1" });
          return;
        } catch {
          // a worker took it (remove refuses a locked job): cancel it as an active one
        }
      } else if (state !== "active") {
        continue;
      }
      // BullMQ cannot abort another process's job: every worker subscribes to this channel.
      await this.redis.set(this.cancelKey(jobId), "1", "PX", CANCEL_KEY_TTL_MS);
      await this.redis.publish(this.cancelChannel, jobId);
      return;
    }
  }

  async stopWorking(graceMs: number): Promise<void> {
    const workers = this.workers;
    if (workers.length === 0) return;
    // close() stops fetching and waits for the active jobs
    const closing = Promise.all(workers.map((w) => w.close()));
    closing.catch(this.onError);
    if (!(await settlesWithin(closing, graceMs))) {
      // too slow: abort them; their processors put the jobs back in line (see process())
      for (const run of this.running.values()) run.abort("shutdown");
      if (!(await settlesWithin(closing, (this.opts.abortGraceMs ?? 5000) + 2000))) {
        await Promise.all(workers.map((w) => w.close(true)));
      }
    }
    this.workers = [];
    if (this.subscriber) {
      const subscriber = this.subscriber;
      this.subscriber = null;
      await subscriber.quit().catch(() => subscriber.disconnect());
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopWorking(0);
    await this.ready.catch(() => undefined);
    await Promise.all(this.queueEvents.map((e) => e.close()));
    await Promise.all([...this.producers.values()].map((p) => p.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.listeners.clear();
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
