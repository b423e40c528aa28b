/**
 * The scale queue (kind `bullmq`): BullMQ on Redis, one BullMQ queue per job name. Workers run in
 * any number of processes; the backend learns about every job through QueueEvents (the Redis
 * stream each queue writes), so it needs no database access on the worker side.
 *
 * What BullMQ does not give us is added here: a failure code (kept in `failedReason` as
 * `[code] message`), the attempt number and non-final failures (custom stream events), a timeout
 * (an AbortController per attempt), a cross-process cancel (Redis pub/sub plus a short-lived key
 * for a job that is just starting) and re-enqueueing a finished job id (the old job is removed).
 *
 * And fair sharing. BullMQ's open-source edition has no groups, so jobs are *admitted*: enqueue
 * adds the job held (delayed by HOLD_MS) and puts its id in its fairness key's Redis list; an
 * admitter promotes at most ADMIT_DEPTH jobs into the wait list at a time, one key per turn,
 * the key served least recently first (a key never served, or not for a day, before any other).
 * The wait list stays one job deep, so a new owner's job is the next but one. Every instance runs
 * the admitter (kicked by enqueues and by every job start and end it hears, and on a timer);
 * the choice is one Lua script (the lists, the turn order and the depth check in one atomic
 * step), so any number of processes may run it at once. Nothing is lost on a crash: the job is a
 * BullMQ job from its enqueue on, the list is only its place in line. An admission interrupted
 * between the script and the promote is taken up again after ADMIT_STALE_MS; an enqueue
 * interrupted between listing and adding leaves an id the admitter drops once its marker
 * expires (the caller got no success, and the videos domain re-enqueues what it cannot find);
 * and a held job nobody admits still starts when its hold runs out.
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
import { settlesWithin } from "../../lib/promises.js";

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
  /** period of the admitter's safety pass (it is kicked by enqueues and job events anyway) */
  admitIntervalMs?: number;
  /** after how long an admission under way counts as interrupted (default 10 s; tests shorten it) */
  admitStaleMs?: number;
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

/** How long an enqueued job waits, at most, for its admission (a backstop: the admitter does it in ms). */
const HOLD_MS = 24 * 3600 * 1000;
/** Jobs admitted and not yet started, at most: one, so a newcomer is never far from the head. */
const ADMIT_DEPTH = 1;
/** An admission not finished after this long was interrupted (its process died): it is redone. */
const ADMIT_STALE_MS = 10_000;
/** An enqueue that listed its job but did not add it within this long died: its entry is dropped. */
const ADDING_MARKER_MS = ENQUEUE_LOCK_MS;
/** How long a key's last turn is remembered: a key not served for a day counts as new again. */
const SERVED_TTL_S = 24 * 3600;
/** Never-served keys score below every served one (turn numbers stay far below 2^40), in arrival order. */
const NEW_KEY_OFFSET = 2 ** 40;
/** admissions one pass makes at most before letting other work in */
const ADMISSIONS_PER_PASS = 100;

/**
 * Puts a held job in line. KEYS: ready (keys with jobs in line, by last turn), seq, keyof (job id
 * → key). ARGV: key base, job id, fairness key, adding-marker ms, NEW_KEY_OFFSET.
 */
const HOLD_SCRIPT = `
local ready, seq, keyof = KEYS[1], KEYS[2], KEYS[3]
local base, id, key = ARGV[1], ARGV[2], ARGV[3]
-- an earlier entry of this id (a job removed while in line by a crashed process) leaves the line
local old = redis.call('HGET', keyof, id)
if old then
  local oldList = base .. 'list:' .. old
  redis.call('LREM', oldList, 0, id)
  if redis.call('LLEN', oldList) == 0 then redis.call('ZREM', ready, old) end
end
-- until the job itself is added, the admitter keeps its place instead of dropping it as gone
redis.call('SET', base .. 'adding:' .. id, '1', 'PX', ARGV[4])
redis.call('RPUSH', base .. 'list:' .. key, id)
redis.call('HSET', keyof, id, key)
if not redis.call('ZSCORE', ready, key) then
  local served = redis.call('GET', base .. 'served:' .. key)
  local score
  if served then score = tonumber(served) else score = redis.call('INCR', seq) - tonumber(ARGV[5]) end
  redis.call('ZADD', ready, score, key)
end
return 1`;

/**
 * Chooses the next job to admit, or nothing when enough are admitted already. KEYS: ready, seq,
 * keyof, admitting (job id → ms), and BullMQ's wait, prioritized and delayed. ARGV: key base, job
 * key prefix, depth, now ms, stale ms, served TTL s.
 */
const ADMIT_SCRIPT = `
local ready, seq, keyof, admitting = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, jobPrefix = ARGV[1], ARGV[2]
local depth, now, stale, servedTtl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local lost = redis.call('ZRANGEBYSCORE', admitting, '-inf', now - stale, 'LIMIT', 0, 1)
if lost[1] then
  redis.call('ZADD', admitting, now, lost[1])
  return lost[1]
end
local queued = redis.call('LLEN', KEYS[5]) + redis.call('ZCARD', KEYS[6]) + redis.call('ZCARD', admitting)
if queued >= depth then return false end
for _, key in ipairs(redis.call('ZRANGE', ready, 0, 99)) do
  local list = base .. 'list:' .. key
  while true do
    local id = redis.call('LINDEX', list, 0)
    if not id then
      redis.call('ZREM', ready, key)
      break
    end
    if redis.call('ZSCORE', KEYS[7], id) then
      redis.call('LPOP', list)
      redis.call('HDEL', keyof, id)
      local turn = redis.call('INCR', seq)
      -- served: to the back of the line, or out of it with its turn remembered
      if redis.call('LLEN', list) == 0 then redis.call('ZREM', ready, key) else redis.call('ZADD', ready, turn, key) end
      redis.call('SET', base .. 'served:' .. key, turn, 'EX', servedTtl)
      redis.call('ZADD', admitting, now, id)
      return id
    end
    if redis.call('EXISTS', jobPrefix .. id) == 0 and redis.call('EXISTS', base .. 'adding:' .. id) == 1 then
      -- its enqueue is still adding the job: this key waits for the next pass
      break
    end
    -- removed (cancelled), or started without us when its hold ran out: not a turn
    redis.call('LPOP', list)
    redis.call('HDEL', keyof, id)
  end
end
return false`;

/** Takes a removed job out of line. KEYS: ready, keyof. ARGV: key base, job id. */
const UNHOLD_SCRIPT = `
local key = redis.call('HGET', KEYS[2], ARGV[2])
if not key then return 0 end
local list = ARGV[1] .. 'list:' .. key
redis.call('LREM', list, 0, ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('LLEN', list) == 0 then redis.call('ZREM', KEYS[1], key) end
return 1`;

/**
 * The whole line at one instant: BullMQ's wait list (newest first) and prioritized set, the
 * admissions under way, and the held jobs of each key in turn order. KEYS: ready, admitting,
 * wait, prioritized, delayed. ARGV: key base.
 */
const LINE_SCRIPT = `
local held = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local ids = {}
  for _, id in ipairs(redis.call('LRANGE', ARGV[1] .. 'list:' .. key, 0, -1)) do
    if redis.call('ZSCORE', KEYS[5], id) then ids[#ids + 1] = id end
  end
  held[#held + 1] = ids
end
return { redis.call('LRANGE', KEYS[3], 0, -1), redis.call('ZRANGE', KEYS[4], 0, -1), redis.call('ZRANGE', KEYS[2], 0, -1), held }`;

/** The Redis keys of one job name's line (see the file comment). */
export interface FairKeys {
  /** prefix of the per-key lists (`list:<key>`), last turns (`served:<key>`) and adding markers (`adding:<job id>`) */
  base: string;
  /** keys with jobs in line, scored by their last turn */
  ready: string;
  seq: string;
  /** job id → its key, while in line */
  keyof: string;
  /** admissions under way: job id → when */
  admitting: string;
}

export function fairKeys(prefix: string, name: JobName): FairKeys {
  const base = `${prefix}:vidflux:fair:${name}:`;
  return { base, ready: `${base}ready`, seq: `${base}seq`, keyof: `${base}keyof`, admitting: `${base}admitting` };
}

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
  private readonly admitTimer: NodeJS.Timeout;
  private admitting: Promise<void> | null = null;
  private admitAgain = false;

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
    this.admitTimer = setInterval(() => this.admit(), opts.admitIntervalMs ?? 1000);
    this.admitTimer.unref();
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
    // a job starting or ending anywhere makes room in the wait list: the next one is admitted
    for (const event of ["active", "completed", "failed"] as const) events.on(event, () => this.admit());
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

  private fairKeys(name: JobName): FairKeys {
    return fairKeys(this.prefix, name);
  }

  /** Runs an admission pass now, or right after the one under way. Never throws. */
  private admit(): void {
    if (this.closed) return;
    if (this.admitting) {
      this.admitAgain = true;
      return;
    }
    this.admitting = this.admitPass()
      .catch(this.onError)
      .finally(() => {
        this.admitting = null;
        if (this.admitAgain) {
          this.admitAgain = false;
          this.admit();
        }
      });
  }

  private async admitPass(): Promise<void> {
    await this.ready;
    for (const [name, queue] of this.queues) {
      const fair = this.fairKeys(name);
      const { wait, prioritized, delayed } = queue.keys;
      for (let i = 0; i < ADMISSIONS_PER_PASS && !this.closed; i++) {
        const id = (await this.redis.eval(
          ADMIT_SCRIPT,
          7,
          fair.ready,
          fair.seq,
          fair.keyof,
          fair.admitting,
          wait!,
          prioritized!,
          delayed!,
          fair.base,
          queue.toKey(""),
          ADMIT_DEPTH,
          Date.now(),
          this.opts.admitStaleMs ?? ADMIT_STALE_MS,
          SERVED_TTL_S,
        )) as string | null;
        if (!id) break;
        const job = await queue.getJob(id);
        try {
          await job?.promote();
        } catch (err) {
          // not delayed any more: an interrupted admission got this far, or its hold ran out.
          // Still delayed: the admission stays under way and is redone after ADMIT_STALE_MS.
          if ((await job?.getState()) === "delayed") throw err;
        }
        await this.redis.zrem(fair.admitting, id);
      }
    }
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions): Promise<{ jobId: string; created: boolean }> {
    await this.ready;
    const { jobId } = opts;
    const fair = this.fairKeys(name);
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
      // in line first, then the job: an admitter never sees a job it could not place
      await this.redis.eval(HOLD_SCRIPT, 3, fair.ready, fair.seq, fair.keyof, fair.base, jobId, opts.fairnessKey ?? "", ADDING_MARKER_MS, NEW_KEY_OFFSET);
      await queue.add(name, payload, {
        jobId,
        // held until admitted (see the file comment)
        delay: HOLD_MS,
        attempts: policy.attempts,
        backoff: { type: "exponential", delay: policy.backoffMs },
        // keep finished jobs a while, bounded: inspect() reads the result or failure from them
        // (an API that missed the event applies it from there), and enqueue() reuses their ids
        removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
        removeOnFail: { age: 30 * 24 * 3600, count: 5000 },
      });
      await this.redis.del(`${fair.base}adding:${jobId}`);
      this.admit();
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
    for (const [name, queue] of this.queues) {
      const fair = this.fairKeys(name);
      const [wait, prioritized, admitting, held] = (await this.redis.eval(
        LINE_SCRIPT,
        5,
        fair.ready,
        fair.admitting,
        queue.keys.wait!,
        queue.keys.prioritized!,
        queue.keys.delayed!,
        fair.base,
      )) as [string[], string[], string[], string[][]];
      // BullMQ pushes to the wait list's head and takes from its tail; the prioritized set comes after it
      const admitted = [...wait.reverse(), ...prioritized, ...admitting];
      const index = admitted.indexOf(jobId);
      if (index >= 0) return index + 1;
      // then the held jobs in the order the admitter takes them: round r takes the r-th job of
      // every key that has one, the keys in turn order
      let place = admitted.length;
      for (let round = 0; held.some((ids) => ids.length > round); round++) {
        for (const ids of held) {
          if (ids.length <= round) continue;
          place++;
          if (ids[round] === jobId) return place;
        }
      }
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

  async counts(): Promise<Record<JobState, number>> {
    await this.ready;
    const out: Record<JobState, number> = { waiting: 0, active: 0, completed: 0, failed: 0 };
    for (const queue of this.queues.values()) {
      // held jobs (waiting for their admission) and backoffs are BullMQ's `delayed`
      const c = await queue.getJobCounts("wait", "prioritized", "delayed", "waiting-children", "active", "completed", "failed");
      out.waiting += (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c["waiting-children"] ?? 0);
      out.active += c.active ?? 0;
      out.completed += c.completed ?? 0;
      out.failed += c.failed ?? 0;
    }
    return out;
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
          const fair = this.fairKeys(name);
          await this.redis.eval(UNHOLD_SCRIPT, 2, fair.ready, fair.keyof, fair.base, jobId);
          // an admitted job leaving the wait list makes room for the next one
          this.admit();
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
    clearInterval(this.admitTimer);
    await this.admitting;
    await this.stopWorking(0);
    await this.ready.catch(() => undefined);
    await Promise.all(this.queueEvents.map((e) => e.close()));
    await Promise.all([...this.producers.values()].map((p) => p.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.listeners.clear();
  }
}
