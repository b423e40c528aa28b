/**
 * Issue 13 end to end in one process (the embedded default; PostgreSQL + Redis/BullMQ with
 * DATABASE_URL/REDIS_URL): a source whose frames grow past their probed size ends `failed` with
 * `limit_exceeded`, fast and never retried; a Matroska file whose header claims 5 s over 60 s is
 * published at its claimed length. The harness's ffmpeg runs under the default FFMPEG_MEMORY_LIMIT.
 */
import path from "node:path";
import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeJobHandlers } from "../../composition.js";
import { demuxerOf } from "../../platform/media/input-guard.js";
import { makeGrowingTs, makeLyingMkv } from "../../platform/media/media.fixtures.js";
import { probe } from "../../platform/media/probe.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { submitVideo, waitForStatus, workDirEntries, type Source } from "./pipeline.fixtures.js";
import { transcodeJobId } from "./transcode-results.service.js";
import type { VideosModule } from "./videos.module.js";

describe("conversion limits (embedded worker)", () => {
  let h: Harness;
  let mod: VideosModule;
  let owner: TestUser;
  let growing: Source;
  let lying: Source;

  const source = async (file: string, container: string): Promise<Source> => ({
    path: file,
    probe: await probe(h.ctx.media, file, { timeoutS: 30, format: demuxerOf(container) }),
    sizeBytes: (await stat(file)).size,
  });

  beforeAll(async () => {
    h = await createHarness({ X264_PRESET: "ultrafast", LADDER: "144,240" });
    mod = h.domains.videos;
    owner = await createUser(h, { role: "uploader" });
    // Writing the 8000×8000 frames takes x264 more than the conversion limit: the fixtures are
    // made without it.
    const unlimited = { ...h.ctx.media, memoryLimit: null };
    growing = await source(await makeGrowingTs(unlimited, path.join(h.dataDir, "growing.ts")), "mpegts");
    lying = await source(await makeLyingMkv(unlimited, path.join(h.dataDir, "lying.mkv"), { realS: 60, claimedS: 5 }), "mkv");
    await h.ctx.queue.work(composeJobHandlers({ config: h.config, storage: h.ctx.storage, media: h.ctx.media }), { concurrency: 1 });
  }, 90_000);
  afterAll(async () => {
    await h?.close();
  });

  it("runs ffmpeg under the default memory limit", () => {
    expect(h.ctx.media.memoryLimit?.bytes).toBe(h.config.media.memoryLimitBytes);
    expect(h.config.media.memoryLimitBytes).toBeGreaterThanOrEqual(1024 ** 3);
  });

  it("a stream that grows from 320×240 to 8000×8000 ends failed with limit_exceeded, at the first attempt", async () => {
    expect(growing.probe.video).toMatchObject({ width: 320, height: 240 });
    const t0 = Date.now();
    const id = await submitVideo(h, mod, owner.user.id, growing, "growing");
    const v = await waitForStatus(mod, id, "failed", 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(v).toMatchObject({ failure_code: "limit_exceeded", playable: 0 });
    expect(v.failure_message).toMatch(/8000x8000 frame exceeds the decoder's limit of 137984 pixels/);
    // not retryable: one attempt, no `retrying` event
    expect((await h.ctx.events.history(id, 0)).some((e) => e.type === "retrying")).toBe(false);
    expect(await h.ctx.queue.inspect(transcodeJobId(id))).toMatchObject({ state: "failed", attempt: 1, failure: { code: "limit_exceeded" } });
    const r = await h.app.inject({ url: `/api/videos/${id}/`, headers: { authorization: `Bearer ${owner.access}` } });
    expect(r.json()).toMatchObject({ status: "failed", failure_code: "limit_exceeded" });
    expect(await workDirEntries(h)).toEqual([]);
  }, 60_000);

  it("a Matroska file claiming 5 s over 60 s is published at its claimed length", async () => {
    expect(lying.probe.durationS).toBe(5);
    const id = await submitVideo(h, mod, owner.user.id, lying, "lying");
    const v = await waitForStatus(mod, id, "ready", 60_000);
    expect(v.duration_s).toBeGreaterThan(4.9);
    expect(v.duration_s).toBeLessThanOrEqual(6.2);
  }, 90_000);
});
