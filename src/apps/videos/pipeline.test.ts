/**
 * The conversion pipeline in one process (the embedded default): a finished upload is queued,
 * converted by the worker, its messages applied to the Video; a deleted video's conversion is
 * killed and leaves nothing behind; a video whose job was lost is re-enqueued by the reconciler.
 * Real ffmpeg on generated clips, the harness's database (SQLite, or PostgreSQL with DATABASE_URL).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { composeJobHandlers } from "../../composition.js";
import type { VideoEvent } from "../../platform/events/events.js";
import { TranscodeResultsService, transcodeJobId } from "./transcode-results.service.js";
import { createVideosModule, type VideosModule } from "./videos.module.js";
import {
  assertPlayable,
  makeSource,
  processesMentioning,
  submitVideo,
  waitFor,
  waitForProgress,
  waitForStatus,
  workDirEntries,
  type Source,
} from "./pipeline.fixtures.js";

describe("conversion pipeline (embedded worker)", () => {
  let h: Harness;
  let mod: VideosModule;
  let owner: TestUser;
  let small: Source;
  let long: Source;

  beforeAll(async () => {
    h = await createHarness({ X264_PRESET: "ultrafast", LADDER: "144,240", JOB_LEASE_SECONDS: "3" });
    mod = h.domains.videos;
    owner = await createUser(h, { role: "uploader" });
    small = await makeSource(h, "small", { width: 320, height: 240, durationS: 2, fps: 25 });
    // seconds of work at preset `slow`: a delete lands while ffmpeg runs
    long = await makeSource(h, "long", { width: 640, height: 360, durationS: 12, fps: 25 });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  const events = async (id: string): Promise<VideoEvent[]> => h.ctx.events.history(id, 0);

  it("converts queued uploads in turn: queue position, playable before ready, formats and HLS in storage", async () => {
    // two in line before the worker starts: the second one is told its place, then that it moved up
    const first = await submitVideo(h, mod, owner.user.id, small, "first");
    const second = await submitVideo(h, mod, owner.user.id, small, "second");
    expect(await h.ctx.queue.position(transcodeJobId(second))).toBe(2);
    await h.ctx.queue.work(composeJobHandlers({ config: h.config, storage: h.ctx.storage, media: h.ctx.media }), { concurrency: 1 });

    for (const id of [first, second]) await waitForStatus(mod, id, "ready");

    for (const id of [first, second]) {
      const r = await h.app.inject({ url: `/api/videos/${id}/` });
      expect(r.statusCode).toBe(200);
      const d = r.json();
      expect(d).toMatchObject({ id, status: "ready", playable: true, hls_url: `/api/videos/${id}/hls/master.m3u8` });
      expect(d.formats.map((f: { quality: string }) => f.quality)).toEqual(["144p", "240p"]);
      for (const f of d.formats) expect(f.mp4_url).toBe(`/api/videos/${id}/stream/${f.quality}/`);
      expect(await h.ctx.storage.exists(`videos/${id}/hls/master.m3u8`)).toBe(true);
      expect(await assertPlayable(h, `videos/${id}/hls/master.m3u8`, 2)).toBeGreaterThanOrEqual(2);

      // published early: `playable` is announced before the status turns ready
      const types = (await events(id)).map((e) => (e.type === "status" ? `status:${String(e.status)}` : e.type));
      const playable = types.indexOf("playable");
      expect(playable).toBeGreaterThanOrEqual(0);
      expect(playable).toBeLessThan(types.indexOf("status:ready"));
      expect(types.indexOf("status:processing")).toBeLessThan(playable);
    }

    const secondEvents = await events(second);
    const startedAt = secondEvents.findIndex((e) => e.type === "status" && e.status === "processing");
    const positions = secondEvents.slice(0, startedAt).flatMap((e) => (typeof e.queue_position === "number" ? [e.queue_position] : []));
    expect(positions).toEqual([2, 1]);
    expect(await workDirEntries(h)).toEqual([]);
  }, 60_000);

  it("deleting a video mid-conversion kills ffmpeg, removes every file, gives the quota back, and stays deleted", async () => {
    const other = await createUser(h, { role: "uploader" });
    // a slower preset and bigger rungs keep ffmpeg busy for seconds (options are fixed at enqueue)
    const slow = createVideosModule({ ...h.ctx, config: { ...h.config, media: { ...h.config.media, preset: "slow", ladder: [240, 360] } }, playbackTokens: h.domains.streaming.playback });
    const id = await submitVideo(h, slow, other.user.id, long, "doomed");
    await waitForProgress(mod, id);
    const me = async () => (await h.app.inject({ url: "/api/users/me/", headers: authHeader(other.access) })).json();
    expect((await me()).quota.used_bytes).toBe(long.sizeBytes);
    const jobDir = (await workDirEntries(h)).find((name) => name.startsWith(`${id}-`));
    expect(jobDir).toBeDefined();
    const jobPath = path.join(h.config.media.tmpDir, jobDir!);
    expect((await processesMentioning(jobPath)).length).toBeGreaterThan(0);

    const r = await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(other.access) });
    expect(r.statusCode).toBe(204);
    // the delete returns once the attempt stopped: ffmpeg is gone, and so are its files
    expect(await processesMentioning(jobPath)).toEqual([]);
    expect(await workDirEntries(h)).toEqual([]);
    expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([]);
    expect((await me()).quota.used_bytes).toBe(0);
    expect(await h.ctx.queue.inspect(transcodeJobId(id))).toMatchObject({ state: "failed", failure: { code: "cancelled" } });

    // late messages and a reconcile pass change nothing
    await mod.results.reconcile();
    await mod.results.apply({ kind: "progress", name: "video.transcode", jobId: transcodeJobId(id), progress: { step: "transcoding", percent: 50, eta_s: 1, playable: true } });
    await mod.results.apply({ kind: "failed", name: "video.transcode", jobId: transcodeJobId(id), failure: { code: "cancelled", message: "late" }, final: true });
    expect(await mod.repo.find(id)).toBeUndefined();
    expect((await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(other.access) })).statusCode).toBe(404);
    expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([]);
    expect((await events(id)).at(-1)?.type).toBe("deleted");
  }, 60_000);

  it("re-enqueues a video whose job was lost, once it stayed lost for the grace period", async () => {
    const results = new TranscodeResultsService(mod.repo, mod.videos, h.ctx.queue, h.ctx.storage, h.config, h.ctx.logger, { lostJobGraceMs: 300 });
    // processing, but its job is gone (e.g. Redis lost its data)
    const id = await submitVideo(h, mod, owner.user.id, small, "lost");
    await waitForStatus(mod, id, "ready");
    await mod.repo.update(id, { status: "processing", playable: 0, media: null });
    await h.ctx.db.deleteFrom("jobs").where("id", "=", transcodeJobId(id)).execute();

    await results.reconcile();
    // seen once: not yet (a delete or reprocess may be under way)
    expect(await h.ctx.queue.inspect(transcodeJobId(id))).toBeNull();
    await waitFor(
      async () => {
        await results.reconcile();
        return (await h.ctx.queue.inspect(transcodeJobId(id))) !== null;
      },
      "the lost job to be enqueued again",
      10_000,
    );
    const v = await waitForStatus(mod, id, "ready");
    expect(v.playable).toBe(1);
    await assertPlayable(h, `videos/${id}/hls/master.m3u8`, 2);
  }, 60_000);
});
