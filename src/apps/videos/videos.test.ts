import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { VideoRepository } from "./video.repository.js";
import type { VideosModule } from "./videos.module.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import type { ProbeResult } from "../../platform/media/media.types.js";

const probe: ProbeResult = {
  container: "mp4",
  formatName: "mov,mp4,m4a,3gp,3g2,mj2",
  durationS: 3.02,
  sizeBytes: 1536,
  bitRate: 900_000,
  video: { index: 0, codec: "h264", width: 1280, height: 720, displayWidth: 1280, displayHeight: 720, rotation: 0, sar: [1, 1], fps: 30, isVfr: false, pixFmt: "yuv420p", bitDepth: 8, bitRate: 800_000 },
  audio: [
    { index: 1, codec: "aac", channels: 2, sampleRate: 48000, language: "eng", title: null, bitRate: 128000, isDefault: true },
    { index: 2, codec: "aac", channels: 2, sampleRate: 48000, language: "fra", title: null, bitRate: 128000, isDefault: false },
  ],
  subtitles: [],
  chapters: [
    { start: 0, end: 1.5, title: "Intro" },
    { start: 1.5, end: 3.02, title: "Main" },
  ],
};

const media = (id: string): TranscodeResult => ({
  masterKey: `videos/${id}/hls/master.m3u8`,
  durationS: 3,
  renditions: [
    { quality: "240p", width: 426, height: 240, bitrate: 400_000, bandwidth: 500_000, averageBandwidth: 400_000, codecs: "avc1.64001e,mp4a.40.2", fps: 30, playlistKey: `videos/${id}/hls/240p/index.m3u8`, mp4Key: `videos/${id}/mp4/240p.mp4`, sizeBytes: 150_000 },
  ],
  audioTracks: [
    { language: "en", name: "English", isDefault: true, playlistKey: `videos/${id}/hls/audio/en/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128000 },
    { language: "fr", name: "français", isDefault: false, playlistKey: `videos/${id}/hls/audio/fr/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128000 },
  ],
  subtitleTracks: [{ language: "en", name: "English", vttKey: `videos/${id}/hls/subs/en/subs.vtt`, playlistKey: `videos/${id}/hls/subs/en/index.m3u8` }],
  thumbnails: { posterKey: `videos/${id}/thumbs/poster.jpg`, candidateKeys: [`videos/${id}/thumbs/c0.jpg`, `videos/${id}/thumbs/c1.jpg`], storyboardKey: null, storyboardVttKey: null },
});

describe("videos: catalogue, detail, edit, delete", () => {
  let h: Harness;
  let mod: VideosModule;
  let repo: VideoRepository;
  let owner: TestUser;
  let other: TestUser;
  let mod1: TestUser;
  let admin: TestUser;
  let clock = 0;

  async function makeVideo(o: TestUser, opts: { title: string; visibility?: "public" | "unlisted" | "private"; ready?: boolean; views?: number }) {
    const v = await mod.videos.create({ ownerId: o.user.id, title: opts.title, description: `about ${opts.title}`, visibility: opts.visibility ?? "public", language: "en", originalFilename: "clip.mp4", sizeBytes: 1536 });
    // distinct creation times: rows made in the same millisecond would tie and order by id
    await repo.update(v.id, { created_at: new Date(Date.UTC(2026, 0, 1) + ++clock * 1000).toISOString() });
    if (opts.ready !== false) {
      await repo.update(v.id, { status: "ready", playable: 1, media: JSON.stringify(media(v.id)), probe: JSON.stringify(probe), duration_s: 3.02, views: opts.views ?? 0, chapters: JSON.stringify([{ title: "Intro", start: 0 }, { title: "Main", start: 1.5 }]) });
    }
    return v.id;
  }

  beforeAll(async () => {
    h = await createHarness();
    mod = h.domains.videos;
    repo = mod.repo;
    owner = await createUser(h, { role: "uploader" });
    other = await createUser(h, { role: "user" });
    mod1 = await createUser(h, { role: "moderator" });
    admin = await createUser(h, { role: "admin" });
  });
  afterAll(async () => h.close());

  it("shows a public ready video's detail with formats, tracks, chapters and info", async () => {
    const id = await makeVideo(owner, { title: "Detail" });
    const r = await h.app.inject({ url: `/api/videos/${id}/` });
    expect(r.statusCode).toBe(200);
    const d = r.json();
    expect(d).toMatchObject({ id, title: "Detail", status: "ready", playable: true, visibility: "public", playback_token: null });
    expect(d.owner).toEqual({ id: owner.user.id, username: owner.user.username, display_name: "" });
    expect(d.hls_url).toBe(`/api/videos/${id}/hls/master.m3u8`);
    expect(d.formats).toEqual([{ quality: "240p", width: 426, height: 240, bitrate: 400000, size_bytes: 150000, size: "146.5 K", mp4_url: `/api/videos/${id}/stream/240p/` }]);
    expect(d.audio_tracks.map((a: { language: string }) => a.language)).toEqual(["en", "fr"]);
    expect(d.subtitles).toEqual([{ lang: "en", name: "English", url: `/api/videos/${id}/hls/subs/en/subs.vtt`, source: "source" }]);
    expect(d.chapters).toEqual([
      { index: 0, title: "Intro", start: 0, end: 1.5 },
      { index: 1, title: "Main", start: 1.5, end: 3.02 },
    ]);
    expect(d.poster).toBe(`/api/videos/${id}/thumbs/poster.jpg`);
    expect(d.info).toMatchObject({ size_bytes: 1536, size: "1.5 K", duration: "00:00:03", languages: ["en", "fr"], subtitle_languages: ["en"], has_subtitles: true, container: "mp4", video_codec: "h264", width: 1280, height: 720, fps: 30, bitrate: 900000 });
    const info = await h.app.inject({ url: `/api/videos/${id}/info` });
    expect(info.json()).toEqual(d.info);
  });

  it("hides private videos from others (404) and gives staff a playback token", async () => {
    const id = await makeVideo(owner, { title: "Secret", visibility: "private" });
    expect((await h.app.inject({ url: `/api/videos/${id}/` })).statusCode).toBe(404);
    expect((await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(other.access) })).statusCode).toBe(404);
    for (const who of [owner, mod1, admin]) {
      const r = await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(who.access) });
      expect(r.statusCode).toBe(200);
      const d = r.json();
      expect(d.playback_token).toEqual(expect.any(String));
      expect(d.hls_url).toContain(`?token=${encodeURIComponent(d.playback_token)}`);
    }
  });

  it("lists public playable videos, your own, everything for staff; paginates with cursors", async () => {
    const h2 = await createUser(h, { role: "uploader" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await makeVideo(h2, { title: `Paged ${i}`, views: i * 10 }));
    const unlisted = await makeVideo(h2, { title: "Paged unlisted", visibility: "unlisted" });
    const uploading = await makeVideo(h2, { title: "Paged uploading", ready: false });

    const anon = await h.app.inject({ url: `/api/videos/?owner=${h2.user.id}&limit=2` });
    expect(anon.statusCode).toBe(200);
    const p1 = anon.json();
    expect(p1.results.map((r: { id: string }) => r.id)).toEqual([ids[4], ids[3]]);
    expect(p1.previous).toBeNull();
    const p2 = (await h.app.inject({ url: new URL(p1.next, "http://localhost").pathname + new URL(p1.next, "http://localhost").search })).json();
    expect(p2.results.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const p3 = (await h.app.inject({ url: new URL(p2.next, "http://localhost").pathname + new URL(p2.next, "http://localhost").search })).json();
    expect(p3.results.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(p3.next).toBeNull();
    const back = (await h.app.inject({ url: new URL(p3.previous, "http://localhost").pathname + new URL(p3.previous, "http://localhost").search })).json();
    expect(back.results.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);

    const own = (await h.app.inject({ url: `/api/videos/?owner=${h2.user.id}&limit=100`, headers: authHeader(h2.access) })).json();
    expect(own.results.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([unlisted, uploading]));
    const staff = (await h.app.inject({ url: `/api/videos/?owner=${h2.user.id}&limit=100`, headers: authHeader(mod1.access) })).json();
    expect(staff.results).toHaveLength(7);
    const mine = (await h.app.inject({ url: `/api/videos/?owner=${h2.user.id}&status=uploading`, headers: authHeader(h2.access) })).json();
    expect(mine.results.map((r: { id: string }) => r.id)).toEqual([uploading]);

    const byViews = (await h.app.inject({ url: `/api/videos/?owner=${h2.user.id}&ordering=-views&limit=3` })).json();
    expect(byViews.results.map((r: { views: number }) => r.views)).toEqual([40, 30, 20]);
    const search = (await h.app.inject({ url: `/api/videos/?search=paged%203` })).json();
    expect(search.results.map((r: { id: string }) => r.id)).toEqual([ids[3]]);
    const literal = (await h.app.inject({ url: `/api/videos/?search=${encodeURIComponent("%")}` })).json();
    expect(literal.results).toEqual([]);
    expect((await h.app.inject({ url: "/api/videos/?cursor=garbage" })).statusCode).toBe(400);
    expect((await h.app.inject({ url: "/api/videos/?limit=101" })).statusCode).toBe(400);
  });

  it("lets the owner and staff edit; refuses others", async () => {
    const id = await makeVideo(owner, { title: "Edit me" });
    const bad = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(other.access), payload: { title: "x" } });
    expect(bad.statusCode).toBe(403);
    const anon = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, payload: { title: "x" } });
    expect(anon.statusCode).toBe(401);
    const ok = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(owner.access), payload: { title: "Edited", visibility: "unlisted", poster_candidate: 1 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ title: "Edited", visibility: "unlisted", poster: `/api/videos/${id}/thumbs/c1.jpg` });
    const byMod = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(mod1.access), payload: { description: "moderated" } });
    expect(byMod.json().description).toBe("moderated");
    const badCandidate = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(owner.access), payload: { poster_candidate: 5 } });
    expect(badCandidate.statusCode).toBe(400);
    expect(badCandidate.json().error.code).toBe("invalid_poster_candidate");
    const blank = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(owner.access), payload: { title: "" } });
    expect(blank.statusCode).toBe(400);
    const unknown = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, headers: authHeader(owner.access), payload: { status: "ready" } });
    expect(unknown.statusCode).toBe(400);
  });

  it("deletes every stored file of a video", async () => {
    const id = await makeVideo(owner, { title: "Delete me" });
    await h.ctx.storage.put(`videos/${id}/original`, "x");
    await h.ctx.storage.put(`videos/${id}/hls/240p/index.m3u8`, "#EXTM3U");
    expect((await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(other.access) })).statusCode).toBe(403);
    const r = await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(owner.access) });
    expect(r.statusCode).toBe(204);
    expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([]);
    expect((await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(owner.access) })).statusCode).toBe(404);
  });

  it("reprocess is for admins and requeues from the kept original", async () => {
    const id = await makeVideo(owner, { title: "Again" });
    await repo.update(id, { source_key: `videos/${id}/original` });
    await h.ctx.storage.put(`videos/${id}/original`, "x");
    await h.ctx.storage.put(`videos/${id}/hls/master.m3u8`, "#EXTM3U");
    expect((await h.app.inject({ method: "POST", url: `/api/videos/${id}/reprocess/`, headers: authHeader(owner.access) })).statusCode).toBe(403);
    const r = await h.app.inject({ method: "POST", url: `/api/videos/${id}/reprocess/`, headers: authHeader(admin.access) });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ status: "queued", playable: false });
    expect(await h.ctx.storage.list(`videos/${id}/`)).toEqual([`videos/${id}/original`]);
    expect(await h.ctx.queue.position(`transcode-${id}`)).toBeGreaterThanOrEqual(1);
    await h.ctx.queue.cancel(`transcode-${id}`);
  });

  it("applies worker messages: active, playable progress, completion, final failure", async () => {
    const id = await makeVideo(owner, { title: "Converting", ready: false });
    await repo.update(id, { status: "queued", probe: JSON.stringify(probe), source_key: `videos/${id}/original` });
    const seen: string[] = [];
    const unsub = await h.ctx.events.subscribe(id, (e) => seen.push(e.type));
    await mod.results.apply({ kind: "active", name: "video.transcode", jobId: `transcode-${id}`, attempt: 1 });
    expect((await repo.find(id))?.status).toBe("processing");
    await mod.results.apply({ kind: "progress", name: "video.transcode", jobId: `transcode-${id}`, progress: { step: "transcoding", percent: 12.34, eta_s: 9, playable: true } });
    let v = await repo.find(id);
    expect(v).toMatchObject({ status: "processing", playable: 1 });
    expect(JSON.parse(v!.progress!)).toEqual({ step: "transcoding", percent: 12.3, bytes_received: null, eta_s: 9, queue_position: null });
    await mod.results.apply({ kind: "completed", name: "video.transcode", jobId: `transcode-${id}`, result: media(id) });
    v = await repo.find(id);
    expect(v).toMatchObject({ status: "ready", playable: 1, progress: null });
    expect(v!.published_at).not.toBeNull();
    // a late failure after completion changes nothing
    await mod.results.apply({ kind: "failed", name: "video.transcode", jobId: `transcode-${id}`, failure: { code: "timeout", message: "late" }, final: true });
    expect((await repo.find(id))?.status).toBe("ready");
    await unsub();
    expect(seen).toEqual(expect.arrayContaining(["status", "playable", "processing"]));

    const id2 = await makeVideo(owner, { title: "Broken", ready: false });
    await repo.update(id2, { status: "processing", source_key: `videos/${id2}/original` });
    await h.ctx.storage.put(`videos/${id2}/original`, "x");
    await h.ctx.storage.put(`videos/${id2}/hls/240p/seg0.ts`, "partial");
    await mod.results.apply({ kind: "failed", name: "video.transcode", jobId: `transcode-${id2}`, failure: { code: "ffmpeg exploded", message: "boom" }, final: false });
    expect((await repo.find(id2))?.status).toBe("processing");
    await mod.results.apply({ kind: "failed", name: "video.transcode", jobId: `transcode-${id2}`, failure: { code: "timeout", message: "took too long" }, final: true });
    expect(await repo.find(id2)).toMatchObject({ status: "failed", failure_code: "timeout", playable: 0 });
    expect(await h.ctx.storage.list(`videos/${id2}/`)).toEqual([`videos/${id2}/original`]);
  });
});
