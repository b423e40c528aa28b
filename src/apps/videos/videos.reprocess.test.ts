/**
 * "Nothing lost": what a person uploaded to a video (subtitle tracks, a custom poster) survives
 * `POST /api/videos/{id}/reprocess/` through the real conversion (embedded worker, real ffmpeg on
 * a generated clip with an English subtitle stream): listed, served, and in the new master
 * playlist. Also for videos stored before `uploads/` existed (their uploaded track only in the
 * HLS tree, their poster under `thumbs/`), which the reprocess migrates.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeJobHandlers } from "../../composition.js";
import { videoKeys } from "../../contracts/media-layout.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { multipartBody, parseMaster } from "./media-extras.fixtures.js";
import { assertPlayable, makeSource, submitVideo, waitForStatus, type Source } from "./pipeline.fixtures.js";
import type { StoredMedia } from "./subtitles.service.js";
import type { VideosModule } from "./videos.module.js";

interface Track {
  lang: string;
  name: string;
  url: string;
  source: "source" | "upload";
}

describe("reprocessing keeps what people uploaded", () => {
  let h: Harness;
  let mod: VideosModule;
  let owner: TestUser;
  let admin: TestUser;
  let source: Source;
  let posterJpeg: Buffer;

  const get = (url: string) => h.app.inject({ url });
  const put = (url: string, body: Buffer | string, filename: string) => {
    const m = multipartBody(body, { filename });
    return h.app.inject({ method: "PUT", url, payload: m.payload, headers: { ...m.headers, ...authHeader(owner.access) } });
  };
  const tracks = async (id: string) => ((await get(`/api/videos/${id}/subtitles/`)).json() as Track[]).sort((a, b) => a.lang.localeCompare(b.lang));
  const master = async (id: string) => parseMaster((await get(`/api/videos/${id}/hls/master.m3u8`)).body);
  const media = async (id: string) => JSON.parse((await mod.repo.find(id))!.media!) as StoredMedia;

  async function reprocess(id: string): Promise<void> {
    const r = await h.app.inject({ method: "POST", url: `/api/videos/${id}/reprocess/`, headers: authHeader(admin.access) });
    expect(r.statusCode).toBe(202);
    // On BullMQ a worker may take the job before the answer is built: either state is the reprocess.
    expect(r.json()).toMatchObject({ playable: false });
    expect(["queued", "processing"]).toContain((r.json() as { status: string }).status);
    await waitForStatus(mod, id, "ready", 60_000);
  }

  const FR = "1\n00:00:00,200 --> 00:00:01,000\nBonjour\n\n2\n00:00:01,200 --> 00:00:01,800\nAu revoir\n";
  const EN = "WEBVTT\n\n00:00.300 --> 00:01.100\nCorrected hello\n";

  beforeAll(async () => {
    h = await createHarness({ X264_PRESET: "ultrafast", LADDER: "144", MP4_RENDITIONS: "false", HLS_SEGMENT_SECONDS: "1" });
    mod = h.domains.videos;
    owner = await createUser(h, { role: "uploader" });
    admin = await createUser(h, { role: "admin" });
    source = await makeSource(h, "subbed", { width: 320, height: 240, durationS: 2, fps: 25, subtitles: [{ language: "eng", cues: [[0.2, 1, "Hello"]] }] });
    posterJpeg = await sharp({ create: { width: 320, height: 180, channels: 3, background: { r: 200, g: 30, b: 90 } } }).jpeg().toBuffer();
    await h.ctx.queue.work(composeJobHandlers({ config: h.config, storage: h.ctx.storage, media: h.ctx.media }), { concurrency: 1 });
  }, 60_000);
  afterAll(async () => h?.close());

  it("uploaded subtitles (one replacing the source track) and the custom poster survive a reprocess: listed, served, in the master", async () => {
    const id = await submitVideo(h, mod, owner.user.id, source, "Subbed");
    await waitForStatus(mod, id, "ready", 60_000);
    expect((await put(`/api/videos/${id}/subtitles/fr/`, FR, "fr.srt")).statusCode).toBe(201);
    expect((await put(`/api/videos/${id}/subtitles/en/`, EN, "en.vtt")).statusCode).toBe(201);
    expect((await put(`/api/videos/${id}/poster/`, posterJpeg, "poster.jpg")).statusCode).toBe(200);
    const poster = (await get(`/api/videos/${id}/thumbs/custom-poster.jpg`)).rawPayload;
    const before = await tracks(id);
    expect(before.map((t) => [t.lang, t.source])).toEqual([
      ["en", "upload"],
      ["fr", "upload"],
    ]);
    // the person's files, apart from the conversion's
    expect((await h.ctx.storage.list(videoKeys.uploads(id))).sort()).toEqual([videoKeys.uploadedPoster(id), videoKeys.uploadedSubtitle(id, "en"), videoKeys.uploadedSubtitle(id, "fr")]);

    await reprocess(id);

    // listed, by the same URLs
    expect(await tracks(id)).toEqual(before);
    // in the new master (the source's own English track is replaced, as before the reprocess)
    const m = await master(id);
    expect(m.subtitles.map((s) => [s.LANGUAGE, s.NAME, s.URI]).sort()).toEqual([
      ["en", "English", "subs/en/index.m3u8"],
      ["fr", "français", "subs/fr/index.m3u8"],
    ]);
    await assertPlayable(h, videoKeys.master(id), 2);
    // served, with the new conversion's X-TIMESTAMP-MAP
    const pts = (await media(id)).mpegtsStartPts;
    expect(pts).toEqual(expect.any(Number));
    const fr = await get(before.find((t) => t.lang === "fr")!.url);
    expect(fr.statusCode).toBe(200);
    expect(fr.body).toBe(`WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${pts},LOCAL:00:00:00.000\n\n00:00:00.200 --> 00:00:01.000\nBonjour\n\n00:00:01.200 --> 00:00:01.800\nAu revoir\n`);
    expect((await get(`/api/videos/${id}/hls/subs/fr/index.m3u8`)).statusCode).toBe(200);
    expect((await get(before.find((t) => t.lang === "en")!.url)).body).toContain("Corrected hello");
    // the source track it replaces is still there underneath: deleting the upload brings it back
    expect((await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/subtitles/en/`, headers: authHeader(owner.access) })).statusCode).toBe(204);
    expect(await h.ctx.storage.exists(videoKeys.uploadedSubtitle(id, "en"))).toBe(false);
    const after = await tracks(id);
    expect(after.map((t) => [t.lang, t.source])).toEqual([
      ["en", "source"],
      ["fr", "upload"],
    ]);
    expect((await get(after[0]!.url)).body).toContain("Hello");

    // the custom poster: still the detail's poster, same bytes
    const d = (await get(`/api/videos/${id}/`)).json();
    expect(d.poster).toBe(`/api/videos/${id}/thumbs/custom-poster.jpg`);
    const served = await get(d.poster);
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(poster)).toBe(true);
  }, 120_000);

  it("videos stored before uploads/ existed: the reprocess moves their uploads there first, and keeps them", async () => {
    const id = await submitVideo(h, mod, owner.user.id, source, "Legacy");
    await waitForStatus(mod, id, "ready", 60_000);
    expect((await put(`/api/videos/${id}/subtitles/de/`, "WEBVTT\n\n00:00.500 --> 00:01.500\nHallo\n", "de.vtt")).statusCode).toBe(201);
    // As the code before uploads/ left it: the track only in the HLS tree (and the media JSON),
    // the poster at thumbs/custom-poster.jpg.
    await h.ctx.storage.delete(videoKeys.uploadedSubtitle(id, "de"));
    const legacyPoster = `${videoKeys.prefix(id)}thumbs/custom-poster.jpg`;
    await h.ctx.storage.put(legacyPoster, posterJpeg, { contentType: "image/jpeg" });
    await mod.repo.update(id, { custom_poster_key: legacyPoster });
    expect(await h.ctx.storage.list(videoKeys.uploads(id))).toEqual([]);
    // such rows keep working as they are
    expect((await get(`/api/videos/${id}/`)).json().poster).toBe(`/api/videos/${id}/thumbs/custom-poster.jpg`);
    expect((await get(`/api/videos/${id}/thumbs/custom-poster.jpg`)).rawPayload.equals(posterJpeg)).toBe(true);

    await reprocess(id);

    expect((await tracks(id)).map((t) => [t.lang, t.source, t.url])).toEqual([
      ["de", "upload", `/api/videos/${id}/hls/subs/de/subs.vtt`],
      ["en", "source", `/api/videos/${id}/hls/subs/en/subs.vtt`],
    ]);
    expect((await master(id)).subtitles.map((s) => s.LANGUAGE).sort()).toEqual(["de", "en"]);
    const de = await get(`/api/videos/${id}/hls/subs/de/subs.vtt`);
    expect(de.body).toBe(`WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${(await media(id)).mpegtsStartPts},LOCAL:00:00:00.000\n\n00:00:00.500 --> 00:00:01.500\nHallo\n`);
    // migrated: both now under uploads/, the old poster file gone
    expect((await h.ctx.storage.list(videoKeys.uploads(id))).sort()).toEqual([videoKeys.uploadedPoster(id), videoKeys.uploadedSubtitle(id, "de")]);
    expect((await mod.repo.find(id))!.custom_poster_key).toBe(videoKeys.uploadedPoster(id));
    expect(await h.ctx.storage.exists(legacyPoster)).toBe(false);
    expect((await get(`/api/videos/${id}/thumbs/custom-poster.jpg`)).rawPayload.equals(posterJpeg)).toBe(true);
  }, 120_000);
});
