/**
 * The one contract both queue adapters pass (queue.test.ts runs it on the embedded queue over
 * SQLite and Postgres, and on BullMQ). A harness gives fresh queue instances on one shared backend:
 * two instances behave like two processes, and `openElsewhere` really is another connection.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TranscodeJob, TranscodeResult } from "../../contracts/transcode.messages.js";
import type { JobPolicy } from "./jobs.js";
import type { JobPolicyOverrides } from "./job-runner.js";
import type { JobContext, JobEvent, JobHandler, JobHandlers, JobInspection, Queue } from "./queue.js";
import type { CrashWorkerSpec } from "./test-fixtures/hanging-worker.js";

export interface ContractQueueOptions {
  policies?: JobPolicyOverrides;
}

export interface QueueHarness {
  /** A new queue instance on the shared backend. */
  open(opts?: ContractQueueOptions): Queue;
  /** A queue as another process would have it: its own connection to the backend. */
  openElsewhere(opts?: ContractQueueOptions): Queue;
  /** Empties the backend; runs before every test. */
  reset(): Promise<void>;
  /** What the crash fixture needs to reach the same backend from a child process. */
  crashSpec(): CrashWorkerSpec;
  dispose(): Promise<void>;
}

/** Short timings so the suite runs in seconds; tests override per case. */
export const FAST_POLICY: JobPolicy = { attempts: 3, backoffMs: 50, timeoutMs: 15_000, leaseMs: 2_000 };

export function fastPolicies(overrides: JobPolicyOverrides = {}): JobPolicyOverrides {
  return { "video.transcode": { ...FAST_POLICY, ...overrides["video.transcode"] } };
}

const NAME = "video.transcode" as const;
const FIXTURE = fileURLToPath(new URL("./test-fixtures/hanging-worker.ts", import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export function transcodeJob(videoId: string): TranscodeJob {
  return {
    videoId,
    sourceKey: `originals/${videoId}.mp4`,
    outputPrefix: `videos/${videoId}/`,
    probe: {
      container: "mp4",
      formatName: "mov,mp4,m4a,3gp,3g2,mj2",
      durationS: 1,
      sizeBytes: 1000,
      bitRate: 8000,
      video: null,
      audio: [],
      subtitles: [],
      chapters: [],
    },
    options: {
      ladder: [240],
      maxFps: 30,
      segmentS: 4,
      segmentType: "mpegts",
      mp4: false,
      preset: "ultrafast",
      mode: "single",
      timeoutS: 60,
      defaultLanguage: null,
    },
  };
}

export function transcodeResult(videoId: string): TranscodeResult {
  return {
    masterKey: `videos/${videoId}/master.m3u8`,
    durationS: 1,
    renditions: [],
    audioTracks: [],
    subtitleTracks: [],
    thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
  };
}

const handlers = (fn: JobHandler<typeof NAME>): JobHandlers => ({ [NAME]: fn });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects with the signal's reason once it fires: what a cooperative handler does. */
function untilAborted(ctx: JobContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function recorder(queue: Queue) {
  const events: JobEvent[] = [];
  queue.onEvent((e) => events.push(e));
  return {
    events,
    of: (jobId: string) => events.filter((e) => e.jobId === jobId),
    kinds: (jobId: string) => events.filter((e) => e.jobId === jobId).map((e) => (e.kind === "failed" ? `failed:${e.final ? "final" : "retry"}` : e.kind)),
    async waitFor(pred: (e: JobEvent) => boolean, what: string, timeoutMs = 10_000): Promise<JobEvent> {
      await waitUntil(() => events.some(pred), `${what}; got ${JSON.stringify(events.map((e) => [e.kind, e.jobId]))}`, timeoutMs);
      return events.find(pred)!;
    },
  };
}

const isEvent = (kind: JobEvent["kind"], jobId: string, extra: (e: JobEvent) => boolean = () => true) => (e: JobEvent) =>
  e.kind === kind && e.jobId === jobId && extra(e);
const finalFailure = (jobId: string) => isEvent("failed", jobId, (e) => e.kind === "failed" && e.final);

export function queueContract(label: string, opts: { skip: boolean; setup: () => Promise<QueueHarness> }): void {
  describe.skipIf(opts.skip)(`Queue contract: ${label}`, () => {
    let harness: QueueHarness;
    let opened: Queue[] = [];
    let children: ChildProcess[] = [];
    const open = (o: ContractQueueOptions = {}) => {
      const q = harness.open({ policies: fastPolicies(o.policies) });
      opened.push(q);
      return q;
    };
    const openElsewhere = (o: ContractQueueOptions = {}) => {
      const q = harness.openElsewhere({ policies: fastPolicies(o.policies) });
      opened.push(q);
      return q;
    };
    const newId = () => `job-${randomUUID()}`;

    beforeAll(async () => {
      harness = await opts.setup();
    });
    afterAll(async () => {
      await harness?.dispose();
    });
    beforeEach(async () => {
      await harness.reset();
    });
    afterEach(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      children = [];
      await Promise.all(opened.map((q) => q.close()));
      opened = [];
    });

    it("runs a job: active, then completed with the handler's result", async () => {
      const q = open();
      const rec = recorder(q);
      const seen: Array<{ videoId: string; attempt: number; jobId: string }> = [];
      await q.work(
        handlers(async (payload, ctx) => {
          seen.push({ videoId: payload.videoId, attempt: ctx.attempt, jobId: ctx.jobId });
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      expect(await q.enqueue(NAME, transcodeJob("v1"), { jobId: id })).toEqual({ jobId: id, created: true });
      const done = await rec.waitFor(isEvent("completed", id), "completed");
      expect(done).toEqual({ kind: "completed", name: NAME, jobId: id, result: transcodeResult("v1") });
      expect(rec.of(id)[0]).toEqual({ kind: "active", name: NAME, jobId: id, attempt: 1 });
      expect(rec.kinds(id)).toEqual(["active", "completed"]);
      expect(seen).toEqual([{ videoId: "v1", attempt: 1, jobId: id }]);
      expect(await q.position(id)).toBeNull();
    });

    it("counts jobs by state, across instances: waiting, then active, then completed and failed", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 1 } } });
      const rec = recorder(q);
      expect(await q.counts()).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
      const [slow, broken, queued] = [newId(), newId(), newId()];
      await q.enqueue(NAME, transcodeJob("slow"), { jobId: slow, fairnessKey: "a" });
      await q.enqueue(NAME, transcodeJob("broken"), { jobId: broken, fairnessKey: "b" });
      await q.enqueue(NAME, transcodeJob("queued"), { jobId: queued, fairnessKey: "c" });
      expect(await q.counts()).toEqual({ waiting: 3, active: 0, completed: 0, failed: 0 });
      // another process sees the same numbers: they are the backend's, not this instance's
      expect(await openElsewhere().counts()).toEqual({ waiting: 3, active: 0, completed: 0, failed: 0 });

      const release = deferred();
      await q.work(
        handlers(async (payload) => {
          if (payload.videoId === "broken") throw Object.assign(new Error("cannot decode"), { retryable: false });
          if (payload.videoId === "slow") await release.promise;
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      await rec.waitFor(isEvent("active", slow), "slow active");
      expect(await q.counts()).toEqual({ waiting: 2, active: 1, completed: 0, failed: 0 });
      release.resolve();
      await rec.waitFor(finalFailure(broken), "broken failed");
      await rec.waitFor(isEvent("completed", queued), "queued completed");
      await waitUntil(async () => (await q.counts()).completed === 2, "two completed");
      expect(await q.counts()).toEqual({ waiting: 0, active: 0, completed: 2, failed: 1 });
    });

    it("enqueueing a job id that is waiting or active is a no-op", async () => {
      const q = open();
      const rec = recorder(q);
      const id = newId();
      expect((await q.enqueue(NAME, transcodeJob("first"), { jobId: id })).created).toBe(true);
      expect((await q.enqueue(NAME, transcodeJob("second"), { jobId: id })).created).toBe(false);
      expect(await q.position(id)).toBe(1);

      const release = deferred();
      const calls: string[] = [];
      await q.work(
        handlers(async (payload) => {
          calls.push(payload.videoId);
          await release.promise;
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      await rec.waitFor(isEvent("active", id), "active");
      // while active, from this and from another instance
      expect((await q.enqueue(NAME, transcodeJob("third"), { jobId: id })).created).toBe(false);
      expect((await openElsewhere().enqueue(NAME, transcodeJob("fourth"), { jobId: id })).created).toBe(false);
      release.resolve();
      await rec.waitFor(isEvent("completed", id), "completed");
      await sleep(150);
      expect(calls).toEqual(["first"]);
    });

    it("re-enqueueing a completed or failed job id runs it again with the new payload", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 1 } } });
      const rec = recorder(q);
      const calls: string[] = [];
      await q.work(
        handlers(async (payload) => {
          calls.push(payload.videoId);
          if (payload.videoId === "broken") throw new Error("cannot decode");
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      await q.enqueue(NAME, transcodeJob("broken"), { jobId: id });
      await rec.waitFor(finalFailure(id), "final failure");
      expect((await q.enqueue(NAME, transcodeJob("fixed"), { jobId: id })).created).toBe(true);
      await rec.waitFor(isEvent("completed", id), "completed");
      expect((await q.enqueue(NAME, transcodeJob("again"), { jobId: id })).created).toBe(true);
      await waitUntil(() => rec.of(id).filter((e) => e.kind === "completed").length === 2, "second completion");
      expect(calls).toEqual(["broken", "fixed", "again"]);
      const results = rec.of(id).flatMap((e) => (e.kind === "completed" ? [e.result.masterKey] : []));
      expect(results).toEqual(["videos/fixed/master.m3u8", "videos/again/master.m3u8"]);
    });

    it("delivers progress reports as progress events, in order", async () => {
      const q = open();
      const rec = recorder(q);
      await q.work(
        handlers(async (payload, ctx) => {
          await ctx.progress({ step: "transcoding", percent: 10, eta_s: 9, playable: false });
          await ctx.progress({ step: "transcoding", percent: 60, eta_s: 2, playable: true, masterKey: "m.m3u8" });
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      await q.enqueue(NAME, transcodeJob("p"), { jobId: id });
      await rec.waitFor(isEvent("completed", id), "completed");
      expect(rec.kinds(id)).toEqual(["active", "progress", "progress", "completed"]);
      const progress = rec.of(id).flatMap((e) => (e.kind === "progress" ? [e.progress] : []));
      expect(progress).toEqual([
        { step: "transcoding", percent: 10, eta_s: 9, playable: false },
        { step: "transcoding", percent: 60, eta_s: 2, playable: true, masterKey: "m.m3u8" },
      ]);
    });

    it("inspect: state, attempt, last progress, result, and a failure only once it is final", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 2, backoffMs: 60_000 } } });
      const rec = recorder(q);
      expect(await q.inspect(newId())).toBeNull();
      const [ok, flaky, hopeless] = [newId(), newId(), newId()];
      await q.enqueue(NAME, transcodeJob("ok"), { jobId: ok });
      expect(await q.inspect(ok)).toEqual({ name: NAME, state: "waiting", attempt: 0, progress: null, result: null, failure: null });

      const release = deferred();
      const progress = { step: "transcoding", percent: 40, eta_s: 3, playable: true };
      await q.work(
        handlers(async (payload, ctx) => {
          if (payload.videoId === "flaky") throw Object.assign(new Error("disk full"), { code: "storage_error" });
          if (payload.videoId === "hopeless") throw Object.assign(new Error("not a video"), { code: "invalid_source", retryable: false });
          await ctx.progress(progress);
          await release.promise;
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      await rec.waitFor(isEvent("progress", ok), "progress");
      const active = { name: NAME, state: "active", attempt: 1, progress, result: null, failure: null };
      expect(await q.inspect(ok)).toEqual(active);
      // what another process sees: the backend reconciling with workers it never hears from
      expect(await openElsewhere().inspect(ok)).toEqual(active);
      release.resolve();
      await rec.waitFor(isEvent("completed", ok), "completed");
      expect(await q.inspect(ok)).toEqual({ name: NAME, state: "completed", attempt: 1, progress, result: transcodeResult("ok"), failure: null });

      await q.enqueue(NAME, transcodeJob("flaky"), { jobId: flaky });
      await q.enqueue(NAME, transcodeJob("hopeless"), { jobId: hopeless });
      await rec.waitFor(isEvent("failed", flaky), "first failure");
      await rec.waitFor(finalFailure(hopeless), "final failure");
      // waiting out its backoff: not failed yet
      expect(await q.inspect(flaky)).toEqual({ name: NAME, state: "waiting", attempt: 1, progress: null, result: null, failure: null });
      expect(await q.inspect(hopeless)).toEqual({
        name: NAME,
        state: "failed",
        attempt: 1,
        progress: null,
        result: null,
        failure: { code: "invalid_source", message: "not a video" },
      });
    });

    it("retries a failed attempt after a backoff and then succeeds", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 3, backoffMs: 200 } } });
      const rec = recorder(q);
      const startedAt: number[] = [];
      let retrySawAtStart: JobInspection | null = null;
      await q.work(
        handlers(async (payload, ctx) => {
          startedAt.push(Date.now());
          if (ctx.attempt === 1) {
            await ctx.progress({ step: "transcoding", percent: 50, eta_s: 1 });
            throw Object.assign(new Error("disk full"), { code: "storage_error" });
          }
          retrySawAtStart = await q.inspect(ctx.jobId);
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      await q.enqueue(NAME, transcodeJob("r"), { jobId: id });
      await rec.waitFor(isEvent("completed", id), "completed");
      expect(rec.kinds(id)).toEqual(["active", "progress", "failed:retry", "active", "completed"]);
      expect(rec.of(id)[2]).toEqual({ kind: "failed", name: NAME, jobId: id, failure: { code: "storage_error", message: "disk full" }, final: false });
      expect(rec.of(id)[3]).toMatchObject({ kind: "active", attempt: 2 });
      // the retry does not show the failed attempt's progress
      expect(retrySawAtStart).toMatchObject({ state: "active", attempt: 2, progress: null });
      // the backoff was waited (allowing for timer granularity)
      expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(150);
    });

    it("fails for good when the attempts run out, or at once for a non-retryable error", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 2, backoffMs: 20 } } });
      const rec = recorder(q);
      await q.work(
        handlers(async (payload) => {
          if (payload.videoId === "hopeless") throw Object.assign(new Error("not a video"), { code: "invalid_source", retryable: false });
          throw new Error("flaky");
        }),
        { concurrency: 1 },
      );
      const flaky = newId();
      const hopeless = newId();
      await q.enqueue(NAME, transcodeJob("flaky"), { jobId: flaky });
      await q.enqueue(NAME, transcodeJob("hopeless"), { jobId: hopeless });
      const last = await rec.waitFor(finalFailure(flaky), "final failure");
      expect(last).toEqual({ kind: "failed", name: NAME, jobId: flaky, failure: { code: "job_failed", message: "flaky" }, final: true });
      expect(rec.kinds(flaky)).toEqual(["active", "failed:retry", "active", "failed:final"]);
      await rec.waitFor(finalFailure(hopeless), "non-retryable failure");
      expect(rec.kinds(hopeless)).toEqual(["active", "failed:final"]);
      expect(rec.of(hopeless)[1]).toMatchObject({ failure: { code: "invalid_source", message: "not a video" } });
    });

    it("aborts a handler that runs past its timeout and fails the attempt with `timeout`", async () => {
      const q = open({ policies: { "video.transcode": { attempts: 1, timeoutMs: 150 } } });
      const rec = recorder(q);
      const signals: AbortSignal[] = [];
      await q.work(
        handlers(async (payload, ctx) => {
          signals.push(ctx.signal);
          // "deaf" ignores its signal: the attempt is given up after the abort grace all the same
          if (payload.videoId === "deaf") return new Promise<never>(() => undefined);
          return untilAborted(ctx);
        }),
        { concurrency: 1 },
      );
      const polite = newId();
      const deaf = newId();
      await q.enqueue(NAME, transcodeJob("polite"), { jobId: polite });
      await q.enqueue(NAME, transcodeJob("deaf"), { jobId: deaf });
      const failed = await rec.waitFor(finalFailure(polite), "timeout failure");
      expect(failed).toMatchObject({ failure: { code: "timeout" }, final: true });
      expect(signals[0]!.aborted).toBe(true);
      await rec.waitFor(finalFailure(deaf), "timeout failure of a handler ignoring its signal");
      expect(rec.of(deaf)[1]).toMatchObject({ failure: { code: "timeout" }, final: true });
    });

    it("reports 1-based positions among waiting jobs, in enqueue order", async () => {
      const q = open();
      const rec = recorder(q);
      const [a, b, c] = [newId(), newId(), newId()];
      for (const id of [a, b, c]) await q.enqueue(NAME, transcodeJob(id), { jobId: id });
      expect(await q.position(a)).toBe(1);
      expect(await q.position(b)).toBe(2);
      expect(await q.position(c)).toBe(3);
      expect(await q.position(newId())).toBeNull();
      const order: string[] = [];
      await q.work(
        handlers(async (payload) => {
          order.push(payload.videoId);
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      await rec.waitFor(isEvent("completed", c), "last completed");
      expect(order).toEqual([a, b, c]);
      expect(await q.position(a)).toBeNull();
    });

    it("takes turns by fairness key: one owner's backlog does not hold the others back", async () => {
      // the API enqueues, a worker in another process takes the jobs
      const api = openElsewhere();
      const q = open();
      const rec = recorder(q);
      const a = Array.from({ length: 12 }, (_, i) => ({ jobId: newId(), name: `a${i}` }));
      const [b, c, d] = [newId(), newId(), newId()];
      for (const job of a) await api.enqueue(NAME, transcodeJob(job.name), { jobId: job.jobId, fairnessKey: "owner-a" });
      await api.enqueue(NAME, transcodeJob("b"), { jobId: b, fairnessKey: "owner-b" });
      await api.enqueue(NAME, transcodeJob("c"), { jobId: c, fairnessKey: "owner-c" });
      // the line as the owners are told it: B and C are next after A's first, not after A's twelve
      expect([await q.position(a[0]!.jobId), await q.position(b), await q.position(c), await api.position(a[1]!.jobId)]).toEqual([1, 2, 3, 4]);
      expect(await q.position(a[11]!.jobId)).toBe(14);

      const order: string[] = [];
      await q.work(
        handlers(async (payload) => {
          order.push(payload.videoId);
          // a new owner arriving in the middle of A's backlog waits for one of A's jobs at most
          if (payload.videoId === "a3") await api.enqueue(NAME, transcodeJob("d"), { jobId: d, fairnessKey: "owner-d" });
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      for (const id of [...a.map((j) => j.jobId), b, c, d]) await rec.waitFor(isEvent("completed", id), `completion of ${id}`);
      expect(order.slice(0, 4)).toEqual(["a0", "b", "c", "a1"]);
      expect(order.indexOf("d")).toBeGreaterThan(order.indexOf("a3"));
      expect(order.indexOf("d")).toBeLessThanOrEqual(order.indexOf("a3") + 2);
      // one owner's jobs keep their own order
      expect(order.filter((n) => n.startsWith("a"))).toEqual(a.map((j) => j.name));
    });

    it("cancels a waiting job: it leaves the line, never runs, and fails as `cancelled`", async () => {
      const q = open();
      const rec = recorder(q);
      const [x, y] = [newId(), newId()];
      await q.enqueue(NAME, transcodeJob("x"), { jobId: x });
      await q.enqueue(NAME, transcodeJob("y"), { jobId: y });
      await q.cancel(x);
      expect(await q.position(x)).toBeNull();
      expect(await q.position(y)).toBe(1);
      const failed = await rec.waitFor(finalFailure(x), "cancel event");
      expect(failed).toMatchObject({ failure: { code: "cancelled" }, final: true });
      // gone (BullMQ removes a job that never started) or failed as cancelled: never waiting
      const inspected = await q.inspect(x);
      if (inspected !== null) expect(inspected).toMatchObject({ state: "failed", failure: { code: "cancelled" } });
      const calls: string[] = [];
      await q.work(
        handlers(async (payload) => {
          calls.push(payload.videoId);
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      await rec.waitFor(isEvent("completed", y), "y completed");
      await sleep(100);
      expect(calls).toEqual(["y"]);
      expect(rec.kinds(x)).toEqual(["failed:final"]);
    });

    it("cancels an active job from this or another process: its signal fires and it is not retried", async () => {
      const q = open();
      const rec = recorder(q);
      const signals = new Map<string, AbortSignal>();
      await q.work(
        handlers(async (payload, ctx) => {
          signals.set(payload.videoId, ctx.signal);
          return untilAborted(ctx);
        }),
        { concurrency: 2 },
      );
      const [here, there] = [newId(), newId()];
      await q.enqueue(NAME, transcodeJob("here"), { jobId: here });
      await q.enqueue(NAME, transcodeJob("there"), { jobId: there });
      await rec.waitFor(isEvent("active", here), "active here");
      await rec.waitFor(isEvent("active", there), "active there");
      await q.cancel(here);
      await openElsewhere().cancel(there);
      for (const id of [here, there]) {
        const failed = await rec.waitFor(finalFailure(id), "cancel failure");
        expect(failed).toMatchObject({ failure: { code: "cancelled" }, final: true });
      }
      expect(signals.get("here")!.aborted).toBe(true);
      expect(signals.get("there")!.aborted).toBe(true);
      for (const id of [here, there]) expect(await q.inspect(id)).toMatchObject({ state: "failed", attempt: 1, failure: { code: "cancelled" } });
      await sleep(300);
      expect(rec.kinds(here)).toEqual(["active", "failed:final"]);
      expect(rec.kinds(there)).toEqual(["active", "failed:final"]);
    });

    it("refuses to work without a handler for every job name", async () => {
      const q = open();
      await expect(q.work({} as JobHandlers, { concurrency: 1 })).rejects.toThrow(/no handler for job "video.transcode"/);
    });

    it("runs at most `concurrency` jobs at once", async () => {
      const q = open();
      const rec = recorder(q);
      let running = 0;
      let peak = 0;
      await q.work(
        handlers(async (payload) => {
          running++;
          peak = Math.max(peak, running);
          await sleep(120);
          running--;
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 2 },
      );
      const ids = Array.from({ length: 5 }, newId);
      for (const id of ids) await q.enqueue(NAME, transcodeJob(id), { jobId: id });
      for (const id of ids) await rec.waitFor(isEvent("completed", id), `completion of ${id}`);
      expect(peak).toBe(2);
    });

    it("workers in two processes racing for the same jobs run each job exactly once", async () => {
      const [a, b] = [open(), openElsewhere()];
      const done = new Set<string>();
      for (const q of [a, b]) q.onEvent((e) => e.kind === "completed" && done.add(e.jobId));
      const calls = new Map<string, number>();
      const handler = handlers(async (payload) => {
        calls.set(payload.videoId, (calls.get(payload.videoId) ?? 0) + 1);
        await sleep(10);
        return transcodeResult(payload.videoId);
      });
      await a.work(handler, { concurrency: 2 });
      await b.work(handler, { concurrency: 2 });
      const ids = Array.from({ length: 12 }, newId);
      for (const id of ids) await a.enqueue(NAME, transcodeJob(id), { jobId: id });
      await waitUntil(() => ids.every((id) => done.has(id)), "every job completed");
      await sleep(150);
      expect(ids.map((id) => calls.get(id))).toEqual(ids.map(() => 1));
    });

    it("stopWorking lets jobs finish within the grace period", async () => {
      const q = open();
      const rec = recorder(q);
      await q.work(
        handlers(async (payload) => {
          await sleep(150);
          return transcodeResult(payload.videoId);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      await q.enqueue(NAME, transcodeJob("s"), { jobId: id });
      await rec.waitFor(isEvent("active", id), "active");
      await q.stopWorking(5_000);
      await rec.waitFor(isEvent("completed", id), "completed");
    });

    it("stopWorking aborts jobs still running after the grace period and puts them back, not counting the attempt", async () => {
      const q = open();
      const rec = recorder(q);
      const signals: AbortSignal[] = [];
      await q.work(
        handlers(async (_payload, ctx) => {
          signals.push(ctx.signal);
          return untilAborted(ctx);
        }),
        { concurrency: 1 },
      );
      const id = newId();
      await q.enqueue(NAME, transcodeJob("requeued"), { jobId: id });
      await rec.waitFor(isEvent("active", id), "active");
      await q.stopWorking(100);
      expect(signals[0]!.aborted).toBe(true);
      expect(await q.position(id)).toBe(1);
      expect(rec.of(id).some((e) => e.kind === "failed")).toBe(false);
      // back in line, the aborted attempt not counted
      expect(await q.inspect(id)).toMatchObject({ state: "waiting", attempt: 0, failure: null });

      const next = open();
      const nextRec = recorder(next);
      await next.work(handlers(async (payload) => transcodeResult(payload.videoId)), { concurrency: 1 });
      await nextRec.waitFor(isEvent("completed", id), "completed by the next worker");
      expect(nextRec.of(id)[0]).toMatchObject({ kind: "active", attempt: 1 });
    });

    it("a job whose worker process was SIGKILLed is picked up again by another worker", async () => {
      const id = newId();
      const q = open();
      await q.enqueue(NAME, transcodeJob("crash"), { jobId: id });

      const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, JSON.stringify(harness.crashSpec())], {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(child);
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
      await waitUntil(() => out.includes(`started ${id} 1`), `the child to start ${id} (stdout: ${out})`, 20_000);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      // still held by the dead worker until its lease lapses
      expect(await q.inspect(id)).toMatchObject({ state: "active", attempt: 1 });

      const rec = recorder(q);
      await q.work(handlers(async (payload) => transcodeResult(payload.videoId)), { concurrency: 1 });
      await rec.waitFor(isEvent("completed", id), "completion after the crash", 20_000);
      expect(rec.of(id)[0]).toMatchObject({ kind: "active", attempt: 2 });
      expect(await q.inspect(id)).toMatchObject({ state: "completed", attempt: 2, result: transcodeResult("crash") });
    }, 30_000);
  });
}
