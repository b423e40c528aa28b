/**
 * Issue 5's "done when", end to end with real ffmpeg: a generated clip with two audio languages
 * (eng, fra), an English mov_text subtitle stream and two chapters goes through the real
 * conversion handler and the videos module's result applier; then the master playlist, the
 * renditions (ffprobe), the chapters, subtitle upload/replace/delete, thumbnails, the storyboard
 * and every info field are checked through the HTTP API.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFfmpeg } from "../../platform/media/ffmpeg-runner.js";
import { srt } from "../../platform/media/media.fixtures.js";
import { probe } from "../../platform/media/probe.js";
import type { JobContext } from "../../platform/queue/queue.js";
import { humanSize } from "../../services/videoinfo/index.js";
import { createTranscodeHandler } from "../../services/transcoder/index.js";
import type { TranscodeJob, TranscodeResult } from "../../contracts/transcode.messages.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { multipartBody, parseMaster } from "./media-extras.fixtures.js";
import { videoKeys } from "../../contracts/media-layout.js";
import type { VideosModule } from "./videos.module.js";

const exec = promisify(execFile);

interface FfprobeStream {
  index: number;
  codec_name?: string;
  codec_type?: string;
  channels?: number;
  width?: number;
  height?: number;
  tags?: Record<string, string>;
}

describe("audio languages, subtitles, chapters, thumbnails, storyboard and info of a converted clip (real ffmpeg)", () => {
  let h: Harness;
  let mod: VideosModule;
  let dir: string;
  let owner: TestUser;
  let other: TestUser;
  let moderator: TestUser;
  let id: string;
  let result: TranscodeResult;
  let sourceSize: number;
  let sourceBitrate: number | null;

  const ffprobe = async (file: string) => {
    const { stdout } = await exec(h.ctx.media.ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
    return JSON.parse(stdout) as { streams: FfprobeStream[]; format: { duration?: string } };
  };
  const local = (key: string) => h.ctx.storage.localPath(key)!;
  const master = async () => parseMaster(await readFile(local(result.masterKey), "utf8"));
  const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ url, headers });
  const putSubs = (lang: string, body: string | Buffer, who: TestUser = owner, filename = "subs.txt") => {
    const m = multipartBody(body, { filename });
    return h.app.inject({ method: "PUT", url: `/api/videos/${id}/subtitles/${lang}/`, payload: m.payload, headers: { ...m.headers, ...authHeader(who.access) } });
  };
  const delSubs = (lang: string, who: TestUser = owner) => h.app.inject({ method: "DELETE", url: `/api/videos/${id}/subtitles/${lang}/`, headers: authHeader(who.access) });

  beforeAll(async () => {
    h = await createHarness();
    mod = h.domains.videos;
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-media-extras-"));
    owner = await createUser(h, { role: "uploader" });
    other = await createUser(h, { role: "user" });
    moderator = await createUser(h, { role: "moderator" });

    // The clip: 426x240 testsrc2, 3 s at 25 fps; two sine tones tagged eng and fra; an English
    // subtitle stream (SRT muxed as mov_text); two chapters from an ffmetadata input.
    const subsFile = path.join(dir, "en.srt");
    await writeFile(subsFile, srt([[0.5, 1.5, "Hello"], [2, 2.8, "Goodbye"]]));
    const meta = path.join(dir, "chapters.txt");
    await writeFile(meta, ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Intro\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Main part\n");
    const clip = path.join(dir, "clip.mp4");
    await runFfmpeg(
      h.ctx.media,
      [
        "-y", "-v", "error",
        "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3:sample_rate=44100",
        "-f", "lavfi", "-i", "sine=frequency=880:duration=3:sample_rate=44100",
        "-i", subsFile,
        "-f", "ffmetadata", "-i", meta,
        "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-map_chapters", "4",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-c:s", "mov_text",
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:s:0", "language=eng",
        clip,
      ],
      { timeoutS: 60 },
    );

    // The upload pipeline's part: a video row, the original in storage, the probe accepted (which
    // stores the chapters and queues the job).
    const v = await mod.videos.create({ ownerId: owner.user.id, title: "Bilingual", description: "", visibility: "public", language: null, originalFilename: "clip.mp4", sizeBytes: 0 });
    id = v.id;
    sourceSize = (await stat(clip)).size;
    await h.ctx.storage.putFile(videoKeys.original(id), clip);
    const p = await probe(h.ctx.media, clip, { timeoutS: 20 });
    sourceBitrate = p.bitRate;
    await mod.videos.accept(id, p, videoKeys.original(id), sourceSize);

    // The worker's part, as the queue would run it, then the backend applying its result.
    const job: TranscodeJob = {
      videoId: id,
      sourceKey: videoKeys.original(id),
      outputPrefix: videoKeys.prefix(id),
      probe: p,
      options: { ladder: [240], maxFps: 30, segmentS: 1, segmentType: "mpegts", mp4: false, preset: "ultrafast", mode: "single", timeoutS: 120, defaultLanguage: null },
    };
    const ctx: JobContext = { jobId: `transcode-${id}`, attempt: 1, signal: new AbortController().signal, progress: async () => undefined };
    result = await createTranscodeHandler({ storage: h.ctx.storage, tools: h.ctx.media, workDir: path.join(dir, "work") })(job, ctx);
    await mod.results.apply({ kind: "completed", name: "video.transcode", jobId: `transcode-${id}`, result });
  });

  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores the source's chapters at probe time and serves them with the video", async () => {
    const row = await mod.repo.find(id);
    expect(JSON.parse(row!.chapters!)).toEqual([
      { title: "Intro", start: 0 },
      { title: "Main part", start: 1.5 },
    ]);
    const d = (await get(`/api/videos/${id}/`)).json();
    expect(d.status).toBe("ready");
    expect(d.chapters).toEqual([
      { index: 0, title: "Intro", start: 0, end: 1.5 },
      { index: 1, title: "Main part", start: 1.5, end: expect.closeTo(3, 1) },
    ]);
  });

  it("two audio renditions en/fr and one subtitles rendition en in the master playlist; ffprobe reads them", async () => {
    const m = await master();
    expect(m.audio.map((a) => [a.LANGUAGE, a.NAME, a.DEFAULT, a.AUTOSELECT, a["GROUP-ID"], a.URI])).toEqual([
      ["en", "English", "YES", "YES", "aud", "audio/en/index.m3u8"],
      ["fr", "français", "NO", "YES", "aud", "audio/fr/index.m3u8"],
    ]);
    expect(m.subtitles.map((s) => [s.LANGUAGE, s.NAME, s["GROUP-ID"], s.URI])).toEqual([["en", "English", "subs", "subs/en/index.m3u8"]]);
    expect(m.variants).toHaveLength(1);
    expect(m.variants[0]!.attrs).toMatchObject({ RESOLUTION: "426x240", AUDIO: "aud", SUBTITLES: "subs" });

    // Each audio rendition is AAC stereo; the subtitle rendition is WebVTT with our cue.
    for (const t of result.audioTracks) {
      const a = await ffprobe(local(t.playlistKey));
      expect(a.streams).toHaveLength(1);
      expect(a.streams[0]).toMatchObject({ codec_type: "audio", codec_name: "aac", channels: 2 });
    }
    const vtt = await readFile(local(result.subtitleTracks[0]!.vttKey), "utf8");
    expect(vtt).toMatch(/^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00.000\n/);
    expect(vtt).toContain("00:00.500 --> 00:01.500\nHello");

    expect((await ffprobe(local(result.subtitleTracks[0]!.vttKey))).streams[0]).toMatchObject({ codec_type: "subtitle", codec_name: "webvtt" });

    // ffmpeg's own HLS demuxer, fed the master, finds the video and both audio languages (its
    // 5.1 demuxer skips SUBTITLES renditions, so those are checked by parsing above).
    const whole = await ffprobe(local(result.masterKey));
    const types = whole.streams.map((s) => [s.codec_type, s.codec_name, s.tags?.language ?? null]);
    expect(types).toContainEqual(["video", "h264", null]);
    expect(types.filter((t) => t[0] === "audio")).toEqual([
      ["audio", "aac", "en"],
      ["audio", "aac", "fr"],
    ]);
  });

  it("thumbnails, storyboard sheet and its WebVTT index exist, are served, and are valid images", async () => {
    const d = (await get(`/api/videos/${id}/`)).json();
    expect(d.thumbnails).toEqual({
      poster: `/api/videos/${id}/thumbs/poster.jpg`,
      candidates: [0, 1, 2, 3, 4].map((i) => `/api/videos/${id}/thumbs/c${i}.jpg`),
      storyboard: `/api/videos/${id}/thumbs/storyboard.jpg`,
      storyboard_vtt: `/api/videos/${id}/thumbs/storyboard.vtt`,
    });
    for (const url of [d.thumbnails.poster, ...d.thumbnails.candidates]) {
      const r = await get(url);
      expect(r.statusCode).toBe(200);
      expect(r.headers["content-type"]).toBe("image/jpeg");
      expect(r.headers["cache-control"]).toBe("public, max-age=3600");
      expect(await sharp(r.rawPayload).metadata()).toMatchObject({ format: "jpeg", width: 426, height: 240 });
    }
    // 3 s → one 160x90 tile per second, three tiles in a row
    const sheet = await get(d.thumbnails.storyboard);
    expect(sheet.statusCode).toBe(200);
    expect(await sharp(sheet.rawPayload).metadata()).toMatchObject({ format: "jpeg", width: 480, height: 90 });
    const index = await get(d.thumbnails.storyboard_vtt);
    expect(index.headers["content-type"]).toBe("text/vtt; charset=utf-8");
    expect(index.body).toBe(
      "WEBVTT\n\n" +
        "00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n\n" +
        "00:00:01.000 --> 00:00:02.000\nstoryboard.jpg#xywh=160,0,160,90\n\n" +
        `00:00:02.000 --> ${index.body.match(/00:00:02\.000 --> (\S+)/)![1]}\nstoryboard.jpg#xywh=320,0,160,90\n`,
    );
    // every tile shows picture (testsrc2 is never black): no empty cell at the end
    const { data, info } = await sharp(sheet.rawPayload).extract({ left: 320, top: 0, width: 160, height: 90 }).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(data.reduce((a, b) => a + b, 0) / (info.width * info.height)).toBeGreaterThan(40);
  });

  it("every info field of the clip", async () => {
    const info = (await get(`/api/videos/${id}/info/`)).json();
    const rendition = result.renditions[0]!;
    expect(info).toEqual({
      size_bytes: sourceSize,
      size: humanSize(sourceSize),
      duration_seconds: result.durationS,
      duration: "00:00:03",
      languages: ["en", "fr"],
      subtitle_languages: ["en"],
      has_subtitles: true,
      container: "mp4",
      video_codec: "h264",
      width: 426,
      height: 240,
      fps: 25,
      bitrate: sourceBitrate,
      renditions: [{ quality: "240p", width: 426, height: 240, bitrate: rendition.bitrate, size_bytes: rendition.sizeBytes, size: humanSize(rendition.sizeBytes) }],
    });
    expect(result.durationS).toBeCloseTo(3, 0);
    expect(sourceBitrate).toBeGreaterThan(0);
    expect(rendition.bitrate).toBeGreaterThan(0);
    expect(rendition.sizeBytes).toBeGreaterThan(0);
    expect((await get(`/api/videos/${id}/`)).json().info).toEqual(info);
  });

  it("uploading a French .srt adds a second subtitles rendition; deleting it removes it", async () => {
    const frSrt = "1\r\n00:00:00,500 --> 00:00:01,500\r\nBonjour\r\n\r\n2\r\n00:00:02,000 --> 00:00:02,800\r\nAu revoir\r\n";
    // others may not; staff and the owner may (the language may be given as ISO 639-2)
    expect((await putSubs("fr", frSrt, other)).statusCode).toBe(403);
    const up = await putSubs("fra", frSrt, owner, "french.txt");
    expect(up.statusCode).toBe(201);
    expect(up.json()).toEqual({ lang: "fr", name: "français", url: `/api/videos/${id}/hls/subs/fr/subs.vtt`, source: "upload" });

    const m = await master();
    expect(m.subtitles.map((s) => [s.LANGUAGE, s.NAME, s.URI])).toEqual([
      ["en", "English", "subs/en/index.m3u8"],
      ["fr", "français", "subs/fr/index.m3u8"],
    ]);
    expect(m.audio).toHaveLength(2);
    // still a master ffmpeg plays: video and both audio languages
    const whole = await ffprobe(local(result.masterKey));
    expect(whole.streams.filter((s) => s.codec_type === "audio").map((s) => s.tags?.language)).toEqual(["en", "fr"]);
    expect((await ffprobe(local(`${videoKeys.prefix(id)}hls/subs/fr/subs.vtt`))).streams[0]).toMatchObject({ codec_name: "webvtt" });

    // served through the HLS route, with the X-TIMESTAMP-MAP of the MPEG-TS media
    const vtt = await get(`/api/videos/${id}/hls/subs/fr/subs.vtt`);
    expect(vtt.statusCode).toBe(200);
    expect(vtt.body).toBe(`WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${result.mpegtsStartPts},LOCAL:00:00:00.000\n\n00:00:00.500 --> 00:00:01.500\nBonjour\n\n00:00:02.000 --> 00:00:02.800\nAu revoir\n`);
    const pl = await get(`/api/videos/${id}/hls/subs/fr/index.m3u8`);
    expect(pl.body).toBe(`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${Math.ceil(result.durationS)}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:${result.durationS.toFixed(3)},\nsubs.vtt\n#EXT-X-ENDLIST\n`);

    const list = (await get(`/api/videos/${id}/subtitles/`)).json();
    expect(list).toEqual([
      { lang: "en", name: "English", url: `/api/videos/${id}/hls/subs/en/subs.vtt`, source: "source" },
      { lang: "fr", name: "français", url: `/api/videos/${id}/hls/subs/fr/subs.vtt`, source: "upload" },
    ]);
    const info = (await get(`/api/videos/${id}/info/`)).json();
    expect(info.subtitle_languages).toEqual(["en", "fr"]);

    // replacing it answers 200; a moderator may delete it
    expect((await putSubs("fr-FR", frSrt.replace("Bonjour", "Salut"))).statusCode).toBe(200);
    expect((await get(`/api/videos/${id}/hls/subs/fr/subs.vtt`)).body).toContain("Salut");
    expect((await delSubs("fr", moderator)).statusCode).toBe(204);
    const after = await master();
    expect(after.subtitles.map((s) => s.LANGUAGE)).toEqual(["en"]);
    expect(await h.ctx.storage.exists(`${videoKeys.prefix(id)}hls/subs/fr/subs.vtt`)).toBe(false);
    expect((await get(`/api/videos/${id}/subtitles/`)).json().map((s: { lang: string }) => s.lang)).toEqual(["en"]);
    expect((await delSubs("fr")).statusCode).toBe(404);
  });

  it("an uploaded English track replaces the source one; deleting it brings the source back", async () => {
    const vtt = "WEBVTT\n\n00:00.200 --> 00:01.000\nCorrected hello\n";
    expect((await putSubs("en", vtt)).statusCode).toBe(201);
    const m = await master();
    expect(m.subtitles.map((s) => [s.LANGUAGE, s.URI])).toEqual([["en", "subs/en/index.m3u8"]]);
    expect((await get(`/api/videos/${id}/hls/subs/en/subs.vtt`)).body).toContain("Corrected hello");
    expect((await get(`/api/videos/${id}/subtitles/`)).json()).toEqual([{ lang: "en", name: "English", url: `/api/videos/${id}/hls/subs/en/subs.vtt`, source: "upload" }]);

    expect((await delSubs("en")).statusCode).toBe(204);
    const back = await master();
    expect(back.subtitles.map((s) => [s.LANGUAGE, s.URI])).toEqual([["en", "subs/en-source/index.m3u8"]]);
    const list = (await get(`/api/videos/${id}/subtitles/`)).json();
    expect(list).toEqual([{ lang: "en", name: "English", url: `/api/videos/${id}/hls/subs/en-source/subs.vtt`, source: "source" }]);
    const source = await get(list[0].url);
    expect(source.statusCode).toBe(200);
    expect(source.body).toContain("Hello");
    expect(source.body).not.toContain("Corrected");
  });
});
