import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { MemoryEventBus } from "../../platform/events/memory.events.js";
import type { VideoEvent } from "../../platform/events/events.js";
import { AppError } from "../../lib/errors.js";
import type { VideoRepository } from "./video.repository.js";
import { VideoEventsService } from "./video-events.service.js";
import { insertUser, insertVideo, type TestUser } from "./video-events.fixtures.js";

describe("VideoEventsService", () => {
  let h: Harness;
  let repo: VideoRepository;
  let owner: TestUser;
  let bus: MemoryEventBus;
  let service: VideoEventsService;

  beforeAll(async () => {
    h = await createHarness();
    repo = h.domains.videos.repo;
    owner = await insertUser(h, "uploader");
  });
  afterAll(async () => {
    await h.close();
  });

  // A small replay buffer makes the "buffer no longer reaches back" case cheap to produce.
  const freshBus = (): void => {
    bus = new MemoryEventBus({ bufferSize: 5 });
    service = new VideoEventsService(repo, bus);
  };

  const collect = async (videoId: string): Promise<{ got: VideoEvent[]; stream: Awaited<ReturnType<VideoEventsService["open"]>> }> => {
    const got: VideoEvent[] = [];
    const stream = await service.open(videoId, (e) => got.push(e));
    return { got, stream };
  };

  it("authorizes owner, moderators and admins; hides others' private videos", async () => {
    freshBus();
    const other = await insertUser(h, "uploader");
    const priv = await insertVideo(h, owner.id, "private");
    const pub = await insertVideo(h, owner.id, "public");
    const asUser = (id: string, role: "uploader" | "moderator" | "admin") => ({ id, username: "x", role });

    await expect(service.authorize(priv.id, asUser(owner.id, "uploader"), "uploader")).resolves.toMatchObject({ id: priv.id });
    await expect(service.authorize(priv.id, asUser(other.id, "moderator"), "moderator")).resolves.toMatchObject({ id: priv.id });
    await expect(service.authorize(priv.id, asUser(other.id, "admin"), "admin")).resolves.toMatchObject({ id: priv.id });

    const status = async (p: Promise<unknown>): Promise<number> => p.then(() => 200, (e: unknown) => (e instanceof AppError ? e.status : 500));
    expect(await status(service.authorize(priv.id, asUser(other.id, "uploader"), "uploader"))).toBe(404);
    expect(await status(service.authorize(pub.id, asUser(other.id, "uploader"), "uploader"))).toBe(403);
    expect(await status(service.authorize(pub.id, null, "guest"))).toBe(403);
    expect(await status(service.authorize(crypto.randomUUID(), asUser(owner.id, "uploader"), "uploader"))).toBe(404);
  });

  it("starts a fresh stream with a snapshot carrying the latest seq, then live events", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    await bus.publish(v.id, { type: "upload", percent: 10 });
    await bus.publish(v.id, { type: "upload", percent: 20 });
    const { got, stream } = await collect(v.id);
    // Published after subscribe: buffered, but also in history, so the snapshot already covers it.
    await bus.publish(v.id, { type: "upload", percent: 30 });
    expect(got).toEqual([]);
    await stream.sync(null);
    expect(got.map((e) => [e.type, e.seq])).toEqual([["snapshot", 3]]);
    expect(got[0]).toMatchObject({ status: "uploading", playable: false, video_id: v.id, progress: { step: "uploading" } });
    await bus.publish(v.id, { type: "status", status: "validating" });
    expect(got.at(-1)).toMatchObject({ type: "status", seq: 4 });
    await stream.close();
    await bus.publish(v.id, { type: "status", status: "queued" });
    expect(got).toHaveLength(2);
  });

  it("resumes after a seq with exactly the missed events, no snapshot, no duplicates", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    for (let i = 1; i <= 4; i++) await bus.publish(v.id, { type: "upload", percent: i * 10 });
    const { got, stream } = await collect(v.id);
    // Published after subscribe but before history is read: it is both in history and buffered.
    await bus.publish(v.id, { type: "upload", percent: 50 });
    await stream.sync(2);
    await bus.publish(v.id, { type: "upload", percent: 60 });
    expect(got.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(got.every((e) => e.type === "upload")).toBe(true);
    await stream.close();
  });

  it("delivers events published concurrently with the catch-up exactly once, in order", async () => {
    bus = new MemoryEventBus({ bufferSize: 1000 });
    service = new VideoEventsService(repo, bus);
    const v = await insertVideo(h, owner.id, "private");
    for (let i = 0; i < 10; i++) await bus.publish(v.id, { type: "upload" });
    const { got, stream } = await collect(v.id);
    const publisher = (async () => {
      for (let i = 0; i < 40; i++) {
        await bus.publish(v.id, { type: "upload" });
        await new Promise((r) => setImmediate(r));
      }
    })();
    await stream.sync(5);
    await publisher;
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 6));
    await stream.close();
  });

  it("follows the replay with a snapshot when the bounded buffer lost events", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    for (let i = 1; i <= 9; i++) await bus.publish(v.id, { type: "upload" }); // buffer keeps 5..9
    const { got, stream } = await collect(v.id);
    await stream.sync(1);
    expect(got.map((e) => [e.type, e.seq])).toEqual([["upload", 5], ["upload", 6], ["upload", 7], ["upload", 8], ["upload", 9], ["snapshot", 9]]);
    await stream.close();
  });

  it("resets a client whose seq is ahead of the bus (sequence restarted)", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    await bus.publish(v.id, { type: "upload" });
    const { got, stream } = await collect(v.id);
    await stream.sync(57);
    await bus.publish(v.id, { type: "status", status: "validating" });
    expect(got.map((e) => [e.type, e.seq])).toEqual([["snapshot", 1], ["status", 2]]);
    await stream.close();
  });

  it("replays on a mid-stream resume and keeps live delivery deduplicated", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    const { got, stream } = await collect(v.id);
    await stream.sync(null);
    for (let i = 0; i < 3; i++) await bus.publish(v.id, { type: "upload" });
    await stream.sync(1);
    await bus.publish(v.id, { type: "upload" });
    expect(got.map((e) => e.seq)).toEqual([0, 1, 2, 3, 2, 3, 4]);
    expect(stream.lastSeq).toBe(4);
    await stream.close();
  });

  it("reports a deleted video as a `deleted` event", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    const { got, stream } = await collect(v.id);
    await repo.delete(v.id);
    await stream.sync(null);
    expect(got.map((e) => e.type)).toEqual(["deleted"]);
    await stream.close();
  });

  it("closes the stream when catching up fails, delivering nothing further", async () => {
    freshBus();
    const v = await insertVideo(h, owner.id, "private");
    const { got, stream } = await collect(v.id);
    await bus.publish(v.id, { type: "upload" });
    await bus.close(); // history() now throws
    await expect(stream.sync(0)).rejects.toThrow(/closed/);
    expect(got).toEqual([]);
  });
});
