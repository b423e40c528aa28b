/**
 * A worker process (`src/worker.ts`, what `npm run start:worker` runs) serves its own metrics on
 * WORKER_METRICS_PORT: a real conversion and a failing job counted there, and the same
 * conversion as the API applied it on the API's `/metrics` (encode seconds by rung, time to
 * playable, the outcome). Runs on the harness's backend (SQLite, or PostgreSQL / BullMQ when set).
 */
import { createServer, type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { makeSource, submitVideo, waitFor, waitForStatus, WorkerProcess, workerEnv, type Source } from "./pipeline.fixtures.js";
import { videoKeys } from "./index.js";

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("worker metrics port", () => {
  let h: Harness;
  let owner: TestUser;
  let source: Source;
  let worker: WorkerProcess | null = null;

  beforeAll(async () => {
    h = await createHarness({ LADDER: "240", MP4_RENDITIONS: "false", X264_PRESET: "ultrafast" });
    owner = await createUser(h, { role: "uploader" });
    source = await makeSource(h, "metrics", { width: 320, height: 240, durationS: 2, fps: 25 });
  }, 60_000);
  afterEach(async (t) => {
    if (t.task.result?.state === "fail" && worker) console.warn(`worker output:\n${worker.output}`);
    await worker?.kill("SIGTERM");
    worker = null;
  });
  afterAll(async () => {
    await h?.close();
    if (TEST_REDIS_URL && h) {
      // BullMQ keys under the harness's prefix are left to expire with the test Redis
    }
  });

  it("serves jobs processed and failed and encode seconds by rung, behind METRICS_TOKEN; the API reports the applied conversion", async () => {
    const port = await freePort();
    worker = new WorkerProcess(await workerEnv(h, { WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: "127.0.0.1", METRICS_TOKEN: "worker-token-0123" }));
    await worker.started();
    const url = `http://127.0.0.1:${port}/metrics`;
    const scrape = async () => {
      const r = await fetch(url, { headers: { authorization: "Bearer worker-token-0123" } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      return r.text();
    };

    // the token is required, and only /metrics exists
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: { code: "not_authenticated", message: "The metrics need the bearer token METRICS_TOKEN.", details: null } });
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    const idle = await scrape();
    expect(idle).toContain("# TYPE vidflux_worker_jobs_processed_total counter");
    expect(sample(idle, "process_resident_memory_bytes")).toBeGreaterThan(0);

    const id = await submitVideo(h, h.domains.videos, owner.user.id, source, "measured");
    // the embedded queue's events stay in the worker process: the API's reconcile loop applies them
    await waitForStatus(h.domains.videos, id, "ready", 60_000);
    const text = await waitFor(async () => {
      const t = await scrape();
      return sample(t, "vidflux_worker_jobs_processed_total", { job: "video.transcode" }) === 1 ? t : null;
    }, "the worker to count the job");
    expect(sample(text, "vidflux_worker_job_seconds_count", { job: "video.transcode", outcome: "completed" })).toBe(1);
    expect(sample(text, "vidflux_worker_transcode_seconds_count", { rung: "240p" })).toBe(1);
    expect(sample(text, "vidflux_worker_transcode_seconds_sum", { rung: "240p" })).toBeGreaterThan(0);

    // a job whose source is gone fails with storage_error, without retrying it to death here
    const gone = await submitVideo(h, h.domains.videos, owner.user.id, source, "gone");
    await h.ctx.storage.delete(videoKeys.original(gone));
    await waitForStatus(h.domains.videos, gone, "failed", 60_000);
    const failed = await waitFor(async () => {
      const t = await scrape();
      return (sample(t, "vidflux_worker_jobs_failed_total", { job: "video.transcode", code: "storage_error" }) ?? 0) >= 1 ? t : null;
    }, "the worker to count the failure");
    expect(sample(failed, "vidflux_worker_job_seconds_count", { job: "video.transcode", outcome: "failed" })).toBeGreaterThanOrEqual(1);

    const api = (await h.app.inject({ url: "/metrics" })).body;
    expect(sample(api, "vidflux_transcode_seconds_count", { rung: "240p" })).toBe(1);
    expect(sample(api, "vidflux_time_to_playable_seconds_count")).toBe(1);
    expect(sample(api, "vidflux_conversions_total", { outcome: "ready" })).toBe(1);
    expect(sample(api, "vidflux_conversions_total", { outcome: "failed" })).toBe(1);
    expect(sample(api, "vidflux_queue_jobs", { state: "completed" })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("opens no port unless WORKER_METRICS_PORT asks for one", async () => {
    worker = new WorkerProcess(await workerEnv(h));
    await worker.started();
    expect(worker.output).not.toContain("worker metrics on");
  }, 60_000);
});
