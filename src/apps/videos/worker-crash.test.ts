/**
 * Conversion workers as separate processes (`src/worker.ts`, what `npm run start:worker` runs)
 * next to the API of the harness, on each queue backend: the embedded queue on SQLite (the
 * worker shares the database file) and on PostgreSQL (the same schema, via DATABASE_SCHEMA), and
 * BullMQ (the same Redis prefix). The embedded queue's events never leave the worker process, so
 * there the API learns everything through its reconcile loop; with BullMQ through QueueEvents.
 *
 *   - SIGKILL mid-conversion: the job is picked up by a new worker once the 3 s lease lapses, the
 *     dead attempt's temp dir and orphaned ffmpeg are cleaned, the video ends ready and plays;
 *   - SIGTERM mid-conversion (no grace): the job goes back to the queue, attempt not counted,
 *     and completes on another worker;
 *   - DELETE mid-conversion: the worker process kills ffmpeg, every file goes, the quota is back.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { transcodeJobId } from "./transcode-results.service.js";
import type { VideosModule } from "./videos.module.js";
import {
  assertPlayable,
  makeSource,
  processesMentioning,
  submitVideo,
  waitForProgress,
  waitForStatus,
  WorkerProcess,
  workDirEntries,
  workerEnv,
  type Source,
} from "./pipeline.fixtures.js";

if (!TEST_DATABASE_URL) console.warn("skipped: worker-crash suite on the embedded queue over PostgreSQL (DATABASE_URL is not a postgres URL)");
if (!TEST_REDIS_URL) console.warn("skipped: worker-crash suite on BullMQ (REDIS_URL not set)");

const BACKENDS: Array<{ label: string; skip: boolean; env: Record<string, string> }> = [
  { label: "embedded queue over SQLite", skip: false, env: { DATABASE_URL: "" } },
  { label: "embedded queue over PostgreSQL", skip: !TEST_DATABASE_URL, env: {} },
  { label: "BullMQ", skip: !TEST_REDIS_URL, env: { REDIS_URL: TEST_REDIS_URL ?? "" } },
];

const SOURCE_S = 8;
/** idle, each test takes 10-15 s; the margin is for a machine busy with other suites */
const TEST_TIMEOUT_MS = 90_000;
const READY_TIMEOUT_MS = 75_000;

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`conversion worker processes: ${backend.label}`, () => {
    let h: Harness;
    let mod: VideosModule;
    let owner: TestUser;
    let source: Source;
    let workers: WorkerProcess[] = [];

    const startWorker = async (extra: Record<string, string> = {}) => {
      const w = new WorkerProcess(await workerEnv(h, { JOB_LEASE_SECONDS: "3", ...extra }));
      workers.push(w);
      await w.started();
      return w;
    };
    const workDir = () => h.config.media.tmpDir;

    beforeAll(async () => {
      // `slow` + 240p/360p rungs: several seconds of ffmpeg, so a kill lands mid-run
      h = await createHarness({ X264_PRESET: "slow", LADDER: "240,360", JOB_LEASE_SECONDS: "3", ...backend.env });
      mod = h.domains.videos;
      owner = await createUser(h, { role: "uploader" });
      source = await makeSource(h, "source", { width: 640, height: 360, durationS: SOURCE_S, fps: 25 });
    }, 60_000);

    afterEach(async (t) => {
      if (t.task.result?.state === "fail") {
        for (const [i, w] of workers.entries()) console.warn(`worker ${i} output:\n${w.output}`);
      }
      await Promise.all(workers.map((w) => w.kill("SIGKILL")));
      workers = [];
      // an ffmpeg a failed test left behind
      for (const pid of await processesMentioning(h.dataDir)) process.kill(pid, "SIGKILL");
    });

    afterAll(async () => {
      if (!h) return;
      const prefix = h.config.redisUrl ? h.config.redisPrefix : null;
      await h.close();
      if (prefix) {
        const redis = new Redis(TEST_REDIS_URL!);
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
        await redis.quit();
      }
    });

    it("SIGKILL mid-conversion: a new worker completes the job, the dead attempt is cleaned", async () => {
      const first = await startWorker();
      const id = await submitVideo(h, mod, owner.user.id, source, "crash");
      const jobId = transcodeJobId(id);
      await waitForProgress(mod, id, { reconcile: true });
      const entries = await workDirEntries(h);
      expect(entries).toHaveLength(1);
      const deadDir = path.join(workDir(), entries[0]!);
      expect(entries[0]!.startsWith(`${id}-`)).toBe(true);

      expect(await first.kill("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
      // killed mid-run: the job is still held by the dead worker, whose ffmpeg outlives it
      expect(await h.ctx.queue.inspect(jobId)).toMatchObject({ state: "active", attempt: 1 });
      expect((await processesMentioning(deadDir)).length).toBeGreaterThan(0);

      await startWorker();
      // applied by the API's own loop/listeners, nothing driven by the test
      await waitForStatus(mod, id, "ready", READY_TIMEOUT_MS);
      expect(await h.ctx.queue.inspect(jobId)).toMatchObject({ state: "completed", attempt: 2 });
      const d = (await h.app.inject({ url: `/api/videos/${id}/` })).json();
      expect(d).toMatchObject({ status: "ready", playable: true, hls_url: `/api/videos/${id}/hls/master.m3u8` });
      expect(d.formats.map((f: { quality: string }) => f.quality)).toEqual(["240p", "360p"]);
      // 4 s segments: at least two per playlist (240p, 360p, audio)
      expect(await assertPlayable(h, `videos/${id}/hls/master.m3u8`, SOURCE_S)).toBeGreaterThanOrEqual(2 * 3);
      // the dead attempt's files and the ffmpeg it left running are gone, and so is the new attempt's dir
      expect(await processesMentioning(deadDir)).toEqual([]);
      expect(await workDirEntries(h)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it("SIGTERM mid-conversion requeues the job without counting the attempt; another worker completes it", async () => {
      const first = await startWorker({ SHUTDOWN_TIMEOUT: "0" });
      const id = await submitVideo(h, mod, owner.user.id, source, "term");
      const jobId = transcodeJobId(id);
      await waitForProgress(mod, id, { reconcile: true });
      const [dir] = await workDirEntries(h);
      expect(dir).toBeDefined();

      expect(await first.kill("SIGTERM")).toEqual({ code: 0, signal: null });
      // the worker killed its ffmpeg and removed its files before exiting
      expect(await processesMentioning(path.join(workDir(), dir!))).toEqual([]);
      expect(await workDirEntries(h)).toEqual([]);
      expect(await h.ctx.queue.inspect(jobId)).toMatchObject({ state: "waiting", attempt: 0, failure: null });
      expect(await h.ctx.queue.position(jobId)).toBe(1);

      await startWorker();
      await waitForStatus(mod, id, "ready", READY_TIMEOUT_MS);
      expect(await h.ctx.queue.inspect(jobId)).toMatchObject({ state: "completed", attempt: 1 });
      await assertPlayable(h, `videos/${id}/hls/master.m3u8`, SOURCE_S);
      expect(await workDirEntries(h)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it("DELETE mid-conversion: the worker process kills ffmpeg, every file goes, the quota is given back", async () => {
      const worker = await startWorker();
      const other = await createUser(h, { role: "uploader" });
      const id = await submitVideo(h, mod, other.user.id, source, "doomed");
      await waitForProgress(mod, id, { reconcile: true });
      const me = async () => (await h.app.inject({ url: "/api/users/me/", headers: authHeader(other.access) })).json();
      expect((await me()).quota.used_bytes).toBe(source.sizeBytes);
      const [dir] = await workDirEntries(h);
      const jobPath = path.join(workDir(), dir!);
      expect((await processesMentioning(jobPath)).length).toBeGreaterThan(0);

      const r = await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(other.access) });
      expect(r.statusCode).toBe(204);
      // the delete returned once the attempt had stopped in the worker process
      expect(await processesMentioning(jobPath)).toEqual([]);
      expect(await workDirEntries(h)).toEqual([]);
      expect(await h.ctx.queue.inspect(transcodeJobId(id))).toMatchObject({ state: "failed", failure: { code: "cancelled" } });
      expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([]);
      expect((await me()).quota.used_bytes).toBe(0);

      // nothing brings it back: a reconcile pass, the worker's late messages
      await mod.results.reconcile();
      expect(await mod.repo.find(id)).toBeUndefined();
      expect((await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(other.access) })).statusCode).toBe(404);
      expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([]);
      // and the worker goes on with the next job
      expect(worker.alive).toBe(true);
      const next = await submitVideo(h, mod, owner.user.id, source, "after");
      await waitForStatus(mod, next, "ready", READY_TIMEOUT_MS);
    }, TEST_TIMEOUT_MS);
  });
}
