/**
 * The embedded queue (kind `memory`): jobs live in the `jobs` table, so a restart resumes queued
 * and interrupted ones, and several processes on one database share the work. Workers poll and
 * claim a job with one conditional UPDATE; while a handler runs its worker renews a lease, and any
 * worker takes an active job whose lease passed as crashed and retries it.
 *
 * Fair order: every job gets a turn at enqueue, its key's last turn + 1, but never earlier than
 * the turn being served now (the highest turn among running jobs, else the lowest waiting one),
 * and claims take the lowest turn, oldest first. Twelve jobs of one owner take turns 0–11; a
 * second owner's job enqueued behind them takes the turn being served and goes next; an owner
 * coming back later joins the current round instead of claiming the rounds it missed
 * (start-time fair queuing with every job costing one). Only waiting and running jobs count, so
 * turns start again from 0 whenever the queue drains. The order is a column, so the claim stays
 * one conditional UPDATE: on PostgreSQL two workers claiming at once take the first two rows in
 * turn order (SKIP LOCKED), which is again one per owner.
 *
 * Events go to listeners in this process only (embedded mode is one process): every DbQueue over
 * the same `Db` object shares listeners, running jobs and the enqueue wake-up.
 */
import { randomUUID } from "node:crypto";
import { sql, type RawBuilder, type Selectable } from "kysely";
import type { Db } from "../db/db.js";
import type { JobsTable } from "../db/tables.js";
import { JOB_NAMES, type JobName, type JobPayloads, type JobPolicy, type JobResults } from "./jobs.js";
import {
  assertHandlers,
  backoffDelayMs,
  completedEvent,
  defaultOnError,
  emitTo,
  isJobName,
  resolvePolicies,
  runAttempt,
  RunningJob,
  type AttemptOutcome,
  type JobPolicyOverrides,
} from "./job-runner.js";
import type { EnqueueOptions, JobEvent, JobHandlers, JobInspection, JobProgress, JobState, Queue } from "./queue.js";

export interface DbQueueOptions {
  /** `postgres` claims with FOR UPDATE SKIP LOCKED so workers never wait on each other's row. */
  dialect: "sqlite" | "postgres";
  policies?: JobPolicyOverrides;
  /** how often an idle worker looks for due jobs (an enqueue in this process wakes it at once) */
  pollMs?: number;
  /** lease renewal period; default a third of the job's lease, at most 2 s so a cross-process cancel is noticed soon */
  heartbeatMs?: number;
  /** how often a worker looks for active jobs whose lease expired */
  reapMs?: number;
  /** after aborting a handler (timeout, cancel, shutdown), how long it may take to stop */
  abortGraceMs?: number;
  onError?: (err: unknown) => void;
}

type Listener = (e: JobEvent) => void;

interface Hub {
  listeners: Set<Listener>;
  running: Map<string, RunningJob>;
  wakers: Set<() => void>;
}

// Keyed by the Db object: "this process" for one database, without crossing into another
// database opened by the same process (tests open several).
const hubs = new WeakMap<Db, Hub>();

function hubFor(db: Db): Hub {
  let hub = hubs.get(db);
  if (!hub) {
    hub = { listeners: new Set(), running: new Map(), wakers: new Set() };
    hubs.set(db, hub);
  }
  return hub;
}

type JobRow = Selectable<JobsTable>;

interface Active {
  run: RunningJob;
  done: Promise<void>;
}

let lastCreatedMs = 0;
/** created_at orders the waiting line; equal milliseconds within this process are nudged apart. */
function createdAtIso(): string {
  lastCreatedMs = Math.max(Date.now(), lastCreatedMs + 1);
  return new Date(lastCreatedMs).toISOString();
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The turn a job of `key` enqueued now takes (see the file comment): one statement, evaluated
 * inside the INSERT or UPDATE that stores it. Two enqueues of one key racing on PostgreSQL may
 * get the same turn; the tie goes by age, and the next round is back to one each.
 */
function turnFor(key: string): RawBuilder<number> {
  return sql<number>`(select case when own.last is null or own.last + 1 < cur.turn then cur.turn else own.last + 1 end
    from (select coalesce((select max(turn) from jobs where status = 'active'), (select min(turn) from jobs where status = 'waiting'), 0) as turn) cur,
         (select max(turn) as last from jobs where fairness_key = ${key} and status in ('waiting', 'active')) own)`;
}

export class DbQueue implements Queue {
  readonly kind = "memory" as const;
  private readonly hub: Hub;
  private readonly policies: Record<JobName, JobPolicy>;
  private readonly workerId = randomUUID();
  private readonly pollMs: number;
  private readonly reapMs: number;
  private readonly abortGraceMs: number;
  private readonly onError: (err: unknown) => void;
  private handlers: JobHandlers | null = null;
  private concurrency = 0;
  private working = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly active = new Map<string, Active>();
  private readonly ownListeners = new Set<Listener>();
  private wake: (() => void) | null = null;
  private readonly waker = () => this.wake?.();

  constructor(
    private readonly db: Db,
    private readonly opts: DbQueueOptions,
  ) {
    this.hub = hubFor(db);
    this.policies = resolvePolicies(opts.policies);
    this.pollMs = opts.pollMs ?? 250;
    this.reapMs = opts.reapMs ?? 1000;
    this.abortGraceMs = opts.abortGraceMs ?? 5000;
    this.onError = opts.onError ?? defaultOnError;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions): Promise<{ jobId: string; created: boolean }> {
    const jobId = opts.jobId;
    const now = new Date().toISOString();
    const key = opts.fairnessKey ?? "";
    const fresh = {
      name,
      payload: JSON.stringify(payload),
      status: "waiting" as const,
      attempts: 0,
      max_attempts: this.policies[name].attempts,
      run_at: now,
      lease_until: null,
      worker_id: null,
      cancel_requested: 0 as const,
      progress: null,
      result: null,
      error_code: null,
      error_message: null,
      fairness_key: key,
      turn: turnFor(key),
      created_at: createdAtIso(),
      updated_at: now,
    };
    const inserted = await this.db
      .insertInto("jobs")
      .values({ id: jobId, ...fresh })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    let created = inserted !== undefined;
    if (!created) {
      // A finished job is reset in place (reprocessing); a waiting or active one is left alone.
      // The status condition makes concurrent re-enqueues create it once.
      const reset = await this.db
        .updateTable("jobs")
        .set(fresh)
        .where("id", "=", jobId)
        .where("status", "in", ["completed", "failed"])
        .returning("id")
        .executeTakeFirst();
      created = reset !== undefined;
    }
    if (created) for (const wake of this.hub.wakers) wake();
    return { jobId, created };
  }

  async work(handlers: JobHandlers, opts: { concurrency: number }): Promise<void> {
    assertHandlers(handlers);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error("queue: concurrency must be a positive integer");
    if (this.working) throw new Error("queue: work() was already called on this queue");
    this.handlers = handlers;
    this.concurrency = opts.concurrency;
    this.working = true;
    this.hub.wakers.add(this.waker);
    this.loopDone = this.loop();
  }

  onEvent(listener: Listener): () => void {
    this.hub.listeners.add(listener);
    this.ownListeners.add(listener);
    return () => {
      this.hub.listeners.delete(listener);
      this.ownListeners.delete(listener);
    };
  }

  async position(jobId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom("jobs")
      .select(["turn", "created_at"])
      .where("id", "=", jobId)
      .where("status", "=", "waiting")
      .executeTakeFirst();
    if (!row) return null;
    // ahead: the waiting jobs the claim's order (turn, created_at, id) puts first
    const ahead = await this.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("status", "=", "waiting")
      .where((eb) =>
        eb.or([
          eb("turn", "<", row.turn),
          eb.and([eb("turn", "=", row.turn), eb.or([eb("created_at", "<", row.created_at), eb.and([eb("created_at", "=", row.created_at), eb("id", "<", jobId)])])]),
        ]),
      )
      .executeTakeFirstOrThrow();
    return Number(ahead.n) + 1;
  }

  async inspect(jobId: string): Promise<JobInspection | null> {
    const row = await this.db
      .selectFrom("jobs")
      .select(["name", "status", "attempts", "progress", "result", "error_code", "error_message"])
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (!row || !isJobName(row.name)) return null;
    return {
      name: row.name,
      state: row.status,
      attempt: row.attempts,
      progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
      result: row.status === "completed" && row.result !== null ? (JSON.parse(row.result) as JobResults[JobName]) : null,
      // a waiting row may keep the error of the attempt it retries after: only a failed one is final
      failure: row.status === "failed" ? { code: row.error_code ?? "job_failed", message: row.error_message ?? "" } : null,
    };
  }

  async counts(): Promise<Record<JobState, number>> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["status", (eb) => eb.fn.countAll().as("n")])
      .groupBy("status")
      .execute();
    const out: Record<JobState, number> = { waiting: 0, active: 0, completed: 0, failed: 0 };
    for (const r of rows) if (r.status in out) out[r.status] = Number(r.n);
    return out;
  }

  async cancel(jobId: string): Promise<void> {
    const now = new Date().toISOString();
    const removed = await this.db
      .updateTable("jobs")
      .set({ status: "failed", error_code: "cancelled", error_message: "The job was cancelled.", updated_at: now })
      .where("id", "=", jobId)
      .where("status", "=", "waiting")
      .returning(["name"])
      .executeTakeFirst();
    if (removed) {
      if (isJobName(removed.name)) {
        this.emit({ kind: "failed", name: removed.name, jobId, failure: { code: "cancelled", message: "The job was cancelled." }, final: true });
      }
      return;
    }
    // Active: abort it here if it runs in this process, and flag it for a worker elsewhere
    // (its heartbeat reads the flag); the flag also covers a claim racing this call.
    this.hub.running.get(jobId)?.abort("cancelled");
    await this.db
      .updateTable("jobs")
      .set({ cancel_requested: 1, updated_at: now })
      .where("id", "=", jobId)
      .where("status", "=", "active")
      .execute();
  }

  async stopWorking(graceMs: number): Promise<void> {
    if (!this.working) {
      await Promise.all([...this.active.values()].map((a) => a.done));
      return;
    }
    this.working = false;
    this.hub.wakers.delete(this.waker);
    this.wake?.();
    // the loop starts every job it claimed before it returns, so `active` is complete after this
    await this.loopDone;
    const all = Promise.all([...this.active.values()].map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (!inTime) {
      for (const a of this.active.values()) a.run.abort("shutdown");
      await all;
    }
  }

  async close(): Promise<void> {
    await this.stopWorking(0);
    for (const l of this.ownListeners) this.hub.listeners.delete(l);
    this.ownListeners.clear();
  }

  // ---- worker internals ------------------------------------------------------------------

  private async loop(): Promise<void> {
    let lastReap = 0;
    while (this.working) {
      try {
        if (Date.now() - lastReap >= this.reapMs) {
          lastReap = Date.now();
          await this.reapExpiredLeases();
        }
        while (this.working && this.active.size < this.concurrency) {
          const row = await this.claim();
          if (!row) break;
          this.start(row);
        }
      } catch (err) {
        this.onError(err);
      }
      if (!this.working) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  private async claim(): Promise<JobRow | undefined> {
    const now = Date.now();
    const names = JOB_NAMES as JobName[];
    const next = this.db
      .selectFrom("jobs")
      .select("id")
      .where("status", "=", "waiting")
      .where("run_at", "<=", iso(now))
      // only names this code has handlers for (a newer version may have queued others)
      .where("name", "in", names)
      // round-robin by fairness key (see the file comment), oldest first within a turn
      .orderBy("turn")
      .orderBy("created_at")
      .orderBy("id")
      .limit(1)
      // Postgres: concurrent workers skip a row another is claiming instead of queueing on it
      .$if(this.opts.dialect === "postgres", (qb) => qb.forUpdate().skipLocked());
    // The status condition is re-checked on the row itself, so two workers racing for the same
    // row cannot both win (on Postgres the loser's UPDATE re-evaluates it after the lock).
    return this.db
      .updateTable("jobs")
      .set((eb) => {
        // each name has its own lease, stored in the row: the reaper in any process reads it there
        let lease = eb.case("name").when(names[0]!).then(iso(now + this.policies[names[0]!].leaseMs));
        for (const name of names.slice(1)) lease = lease.when(name).then(iso(now + this.policies[name].leaseMs));
        return {
          status: "active",
          attempts: eb("attempts", "+", 1),
          worker_id: this.workerId,
          lease_until: lease.end(),
          cancel_requested: 0,
          progress: null,
          updated_at: iso(now),
        };
      })
      .where("id", "=", next)
      .where("status", "=", "waiting")
      .returningAll()
      .executeTakeFirst();
  }

  private start(row: JobRow): void {
    const run = new RunningJob();
    const done = this.execute(row, run)
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.active.delete(row.id);
        if (this.hub.running.get(row.id) === run) this.hub.running.delete(row.id);
        this.wake?.();
      });
    this.active.set(row.id, { run, done });
    this.hub.running.set(row.id, run);
  }

  private async execute(row: JobRow, run: RunningJob): Promise<void> {
    // claim() only takes names of JOB_NAMES
    const name = row.name as JobName;
    const policy = this.policies[name];
    const attempt = row.attempts;
    this.emit({ kind: "active", name, jobId: row.id, attempt });
    const stopHeartbeat = this.heartbeat(row, run, policy);
    let outcome: AttemptOutcome<JobResults[typeof name]>;
    try {
      const payload = JSON.parse(row.payload) as JobPayloads[typeof name];
      outcome = await runAttempt(this.handlerFor(name), payload, {
        jobId: row.id,
        attempt,
        timeoutMs: policy.timeoutMs,
        abortGraceMs: this.abortGraceMs,
        run,
        progress: (p) => this.reportProgress(name, row, run, p),
      });
    } finally {
      stopHeartbeat();
    }
    await this.finish(name, row, policy, outcome);
  }

  private handlerFor<N extends JobName>(name: N): JobHandlers[N] {
    if (!this.handlers) throw new Error("queue: work() was not called");
    return this.handlers[name];
  }

  /** Renews the lease while the handler runs; notices a cancel flag and a lease taken over. */
  private heartbeat(row: JobRow, run: RunningJob, policy: JobPolicy): () => void {
    const every = this.opts.heartbeatMs ?? Math.max(50, Math.min(policy.leaseMs / 3, 2000));
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.db
        .updateTable("jobs")
        .set({ lease_until: iso(Date.now() + policy.leaseMs), updated_at: iso(Date.now()) })
        .where("id", "=", row.id)
        .where("worker_id", "=", this.workerId)
        .where("attempts", "=", row.attempts)
        .where("status", "=", "active")
        .returning(["cancel_requested"])
        .executeTakeFirst()
        .then((r) => {
          if (!r) run.abort("lease_lost");
          else if (r.cancel_requested === 1) run.abort("cancelled");
        })
        .catch((err: unknown) => this.onError(err))
        .finally(() => {
          busy = false;
        });
    }, every);
    return () => clearInterval(timer);
  }

  private async reportProgress(name: JobName, row: JobRow, run: RunningJob, progress: JobProgress): Promise<void> {
    const updated = await this.db
      .updateTable("jobs")
      .set({ progress: JSON.stringify(progress), updated_at: new Date().toISOString() })
      .where("id", "=", row.id)
      .where("worker_id", "=", this.workerId)
      .where("attempts", "=", row.attempts)
      .where("status", "=", "active")
      .returning(["id"])
      .executeTakeFirst();
    if (!updated) {
      run.abort("lease_lost");
      return;
    }
    this.emit({ kind: "progress", name, jobId: row.id, progress });
  }

  private async finish<N extends JobName>(name: N, row: JobRow, policy: JobPolicy, outcome: AttemptOutcome<JobResults[N]>): Promise<void> {
    const now = Date.now();
    // Every write is fenced by (worker, attempt): after a lost lease another attempt owns the row.
    const owned = this.db
      .updateTable("jobs")
      .where("id", "=", row.id)
      .where("worker_id", "=", this.workerId)
      .where("attempts", "=", row.attempts)
      .where("status", "=", "active");
    switch (outcome.kind) {
      case "completed": {
        const done = await owned
          .set({ status: "completed", result: JSON.stringify(outcome.result ?? null), lease_until: null, error_code: null, error_message: null, updated_at: iso(now) })
          .returning("id")
          .executeTakeFirst();
        if (done) this.emit(completedEvent(name, row.id, outcome.result));
        return;
      }
      case "failed": {
        const final = !outcome.retryable || row.attempts >= row.max_attempts;
        const { code, message } = outcome.failure;
        const done = await owned
          .set(
            final
              ? { status: "failed", lease_until: null, error_code: code, error_message: message, updated_at: iso(now) }
              : {
                  status: "waiting",
                  run_at: iso(now + backoffDelayMs(policy, row.attempts)),
                  lease_until: null,
                  worker_id: null,
                  error_code: code,
                  error_message: message,
                  updated_at: iso(now),
                },
          )
          .returning("id")
          .executeTakeFirst();
        if (done) {
          this.emit({ kind: "failed", name, jobId: row.id, failure: { code, message }, final });
          if (!final) for (const wake of this.hub.wakers) wake();
        }
        return;
      }
      case "aborted":
        if (outcome.code === "shutdown") await this.release(row);
        return;
    }
  }

  /** Puts a claimed job back in line without counting the attempt. */
  private async release(row: JobRow): Promise<void> {
    await this.db
      .updateTable("jobs")
      .set((eb) => ({
        status: "waiting",
        attempts: eb("attempts", "-", 1),
        run_at: iso(Date.now()),
        lease_until: null,
        worker_id: null,
        updated_at: iso(Date.now()),
      }))
      .where("id", "=", row.id)
      .where("worker_id", "=", this.workerId)
      .where("attempts", "=", row.attempts)
      .where("status", "=", "active")
      .execute();
  }

  /**
   * An active job whose lease passed belongs to a worker that died (SIGKILL, power loss): it is
   * retried at once, as its next attempt, or failed when that was its last attempt or it was
   * cancelled meanwhile.
   */
  private async reapExpiredLeases(): Promise<void> {
    const now = iso(Date.now());
    const expired = await this.db
      .selectFrom("jobs")
      .select(["id", "name", "attempts", "max_attempts", "cancel_requested", "lease_until"])
      .where("status", "=", "active")
      .where("lease_until", "<", now)
      .execute();
    for (const job of expired) {
      const cancelled = job.cancel_requested === 1;
      const final = cancelled || job.attempts >= job.max_attempts;
      const code = cancelled ? "cancelled" : "worker_lost";
      const message = cancelled ? "The job was cancelled." : "The worker running the job stopped responding.";
      // fenced by the lease we saw: a heartbeat that renewed it in between wins
      const done = await this.db
        .updateTable("jobs")
        .set(
          final
            ? { status: "failed", lease_until: null, error_code: code, error_message: message, updated_at: now }
            : { status: "waiting", run_at: now, lease_until: null, worker_id: null, error_code: code, error_message: message, updated_at: now },
        )
        .where("id", "=", job.id)
        .where("status", "=", "active")
        .where("lease_until", "=", job.lease_until)
        .returning("id")
        .executeTakeFirst();
      if (done && final && isJobName(job.name)) {
        this.emit({ kind: "failed", name: job.name, jobId: job.id, failure: { code, message }, final: true });
      }
    }
  }

  private emit(event: JobEvent): void {
    emitTo([...this.hub.listeners], event, this.onError);
  }
}
