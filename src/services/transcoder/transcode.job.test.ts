import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeClip, type ClipSpec } from "../../platform/media/media.fixtures.js";
import { bundledMediaTools, systemMediaTools, type MediaTools } from "../../platform/media/media-tools.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { probe } from "../../platform/media/probe.js";
import type { JobContext, JobProgress } from "../../platform/queue/queue.js";
import { DiskStorage } from "../../platform/storage/disk.storage.js";
import type { Storage } from "../../platform/storage/storage.js";
import { parseMediaPlaylist } from "./playlists.js";
import { TranscodeError } from "../../contracts/transcode.messages.js";
import { createTranscodeHandler } from "./transcode.job.js";
import type { TranscodeJob, TranscodeOptions, TranscodeProgress, TranscodeResult } from "../../contracts/transcode.messages.js";

const exec = promisify(execFile);

interface Stream {
  codec_name?: string;
  codec_type?: string;
  width?: number;
  height?: number;
  channels?: number;
  sample_rate?: string;
  side_data_list?: unknown[];
}

async function ffprobe(file: string): Promise<{ streams: Stream[]; format: { duration?: string } }> {
  const { stdout } = await exec("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
  return JSON.parse(stdout) as { streams: Stream[]; format: { duration?: string } };
}

/** Processes whose command line mentions `needle` (an ffmpeg still writing into a job dir). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(needle)) pids.push(Number(name));
  }
  return pids;
}

const OPTIONS: TranscodeOptions = {
  ladder: [240, 480, 720],
  maxFps: 30,
  segmentS: 1,
  segmentType: "mpegts",
  mp4: true,
  preset: "ultrafast",
  mode: "single",
  timeoutS: 120,
  defaultLanguage: null,
};

describe("transcode handler (real ffmpeg)", () => {
  let tools: MediaTools;
  let dir: string;
  let workDir: string;
  let storage: DiskStorage;
  const probes = new Map<string, ProbeResult>();
  const CLIPS: Record<string, ClipSpec> = {
    hd: { width: 1280, height: 720, durationS: 3, fps: 30, audio: [{ language: "eng" }] },
    small: { width: 320, height: 240, durationS: 2, fps: 25, audio: [] },
    portrait: { width: 640, height: 360, durationS: 2, fps: 25, audio: [{}], rotate: 90 },
    sd: { width: 640, height: 360, durationS: 2, fps: 25, audio: [{}] },
    p600: { width: 1066, height: 600, durationS: 2, fps: 25, audio: [{}] },
    bilingual: { width: 426, height: 240, durationS: 2, fps: 25, audio: [{ language: "eng" }, { language: "fra", frequency: 880 }] },
    subbed: {
      width: 320,
      height: 240,
      durationS: 3,
      fps: 25,
      audio: [{ language: "eng" }],
      blackUntilS: 1.2,
      subtitles: [
        { language: "fra", cues: [[0.5, 1.5, "Bonjour"], [2, 2.8, "Au revoir"]] },
        { cues: [[1, 2, "Hello"]] },
      ],
    },
  };

  beforeAll(async () => {
    const t = await systemMediaTools();
    if (!t) throw new Error("no ffmpeg on PATH");
    tools = t;
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-transcode-"));
    workDir = path.join(dir, "work");
    storage = new DiskStorage(path.join(dir, "media"));
    await mkdir(path.join(dir, "clips"));
    await Promise.all(
      Object.entries(CLIPS).map(async ([name, spec]) => {
        const file = await makeClip(tools, path.join(dir, "clips", `${name}.mp4`), spec);
        probes.set(name, await probe(tools, file, { timeoutS: 20 }));
        await storage.putFile(`uploads/${name}/source.mp4`, file);
      }),
    );
  });
  afterAll(async () => {
    await storage?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function jobFor(clip: string, options: Partial<TranscodeOptions> = {}, videoId = `vid-${clip}`): TranscodeJob {
    return { videoId, sourceKey: `uploads/${clip}/source.mp4`, outputPrefix: `videos/${videoId}/`, probe: probes.get(clip)!, options: { ...OPTIONS, ...options } };
  }

  function context(jobId: string, onProgress?: (p: TranscodeProgress) => void, signal = new AbortController().signal): { ctx: JobContext; events: TranscodeProgress[] } {
    const events: TranscodeProgress[] = [];
    const ctx: JobContext = {
      jobId,
      attempt: 1,
      signal,
      progress: async (p: JobProgress) => {
        const tp = p as unknown as TranscodeProgress;
        events.push(tp);
        onProgress?.(tp);
      },
    };
    return { ctx, events };
  }

  const local = (key: string) => storage.localPath(key);

  async function playlist(key: string) {
    return parseMediaPlaylist(await readFile(local(key), "utf8"));
  }

  /** ffprobe of a rendition's first segment (an fMP4 fragment is only readable after its init section). */
  async function probeFirstSegment(playlistKey: string) {
    const pl = await playlist(playlistKey);
    const segDir = path.dirname(local(playlistKey));
    const seg = path.join(segDir, pl.segments[0]!.uri);
    if (!pl.mapUri) return ffprobe(seg);
    const joined = path.join(dir, `joined-${Math.random().toString(36).slice(2)}.mp4`);
    await writeFile(joined, Buffer.concat([await readFile(path.join(segDir, pl.mapUri)), await readFile(seg)]));
    try {
      return await ffprobe(joined);
    } finally {
      await rm(joined, { force: true });
    }
  }

  /** Checks every rendition and MP4 of a result with ffprobe; returns the master text. */
  async function verify(result: TranscodeResult, expected: { qualities: Array<[string, number, number]>; durationS: number; audio: string[]; segmentS: number }) {
    expect(result.renditions.map((r) => [r.quality, r.width, r.height])).toEqual(expected.qualities);
    expect(result.audioTracks.map((a) => a.language)).toEqual(expected.audio);
    expect(result.durationS).toBeGreaterThan(expected.durationS - 0.2);
    expect(result.durationS).toBeLessThan(expected.durationS + 0.2);
    for (const r of result.renditions) {
      const pl = await playlist(r.playlistKey);
      expect(pl.playlistType).toBe("VOD");
      expect(pl.ended).toBe(true);
      expect(pl.segments.length).toBeGreaterThan(0);
      for (const s of pl.segments) expect(s.duration).toBeLessThanOrEqual(pl.targetDuration + 0.5);
      const total = pl.segments.reduce((a, s) => a + s.duration, 0);
      expect(Math.abs(total - expected.durationS)).toBeLessThan(0.2);
      const seg = await probeFirstSegment(r.playlistKey);
      const v = seg.streams.find((s) => s.codec_type === "video")!;
      expect(v).toMatchObject({ codec_name: "h264", width: r.width, height: r.height });
      expect(seg.streams.filter((s) => s.codec_type === "audio")).toEqual([]);
      expect(r.codecs).toMatch(expected.audio.length > 0 ? /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/ : /^avc1\.[0-9a-f]{6}$/);
      expect(r.bandwidth).toBeGreaterThanOrEqual(r.averageBandwidth);
      expect(r.averageBandwidth).toBeGreaterThan(0);
      if (r.mp4Key) {
        const mp4 = await readFile(local(r.mp4Key));
        expect(r.sizeBytes).toBe(mp4.length);
        // faststart: moov before mdat
        expect(mp4.indexOf("moov")).toBeGreaterThan(0);
        expect(mp4.indexOf("moov")).toBeLessThan(mp4.indexOf("mdat"));
        const info = await ffprobe(local(r.mp4Key));
        expect(info.streams.find((s) => s.codec_type === "video")).toMatchObject({ codec_name: "h264", width: r.width, height: r.height });
        expect(info.streams.filter((s) => s.codec_type === "audio").map((s) => s.codec_name)).toEqual(expected.audio.length > 0 ? ["aac"] : []);
        expect(Math.abs(Number(info.format.duration) - expected.durationS)).toBeLessThan(0.2);
      }
    }
    // Keyframes aligned across rungs: every rung is cut at the same times.
    const cuts = await Promise.all(result.renditions.map(async (r) => (await playlist(r.playlistKey)).segments.map((x) => x.duration)));
    for (const c of cuts) expect(c).toEqual(cuts[0]);
    for (const a of result.audioTracks) {
      const pl = await playlist(a.playlistKey);
      expect(pl.ended).toBe(true);
      const seg = await probeFirstSegment(a.playlistKey);
      expect(seg.streams).toEqual([expect.objectContaining({ codec_type: "audio", codec_name: "aac", channels: 2, sample_rate: "48000" })]);
    }
    const master = await readFile(local(result.masterKey), "utf8");
    expect(master.startsWith("#EXTM3U\n#EXT-X-VERSION:")).toBe(true);
    for (const r of result.renditions) {
      const attrs = `BANDWIDTH=${r.bandwidth},AVERAGE-BANDWIDTH=${r.averageBandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${r.codecs}",FRAME-RATE=`;
      expect(master).toContain(attrs);
      expect(master).toContain(`\n${r.quality}/index.m3u8\n`);
    }
    return master;
  }

  it("converts a 720p clip with audio: three rungs, early master, MP4s, clean temp dir", async () => {
    const { ctx, events } = context("job-hd");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("hd"), ctx);
    const master = await verify(result, {
      qualities: [["240p", 426, 240], ["480p", 854, 480], ["720p", 1280, 720]],
      durationS: 3,
      audio: ["en"],
      segmentS: 1,
    });
    expect(result.masterKey).toBe("videos/vid-hd/hls/master.m3u8");
    expect(result.renditions[2]).toMatchObject({ playlistKey: "videos/vid-hd/hls/720p/index.m3u8", mp4Key: "videos/vid-hd/mp4/720p.mp4", fps: 30 });
    expect(result.audioTracks).toEqual([
      { language: "en", name: "English", isDefault: true, playlistKey: "videos/vid-hd/hls/audio/en/index.m3u8", codecs: "mp4a.40.2", bitrate: expect.any(Number) },
    ]);
    expect(master).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en/index.m3u8"');
    expect(master).toContain('FRAME-RATE=30.000,AUDIO="aud"');
    expect(result.subtitleTracks).toEqual([]);
    expect(result.thumbnails).toEqual({
      posterKey: "videos/vid-hd/thumbs/poster.jpg",
      candidateKeys: [0, 1, 2, 3, 4].map((i) => `videos/vid-hd/thumbs/c${i}.jpg`),
      storyboardKey: "videos/vid-hd/thumbs/storyboard.jpg",
      storyboardVttKey: "videos/vid-hd/thumbs/storyboard.vtt",
    });
    // testsrc2 is never black: the poster is the 10% candidate
    expect(await readFile(local("videos/vid-hd/thumbs/poster.jpg"))).toEqual(await readFile(local("videos/vid-hd/thumbs/c0.jpg")));
    expect((await ffprobe(local("videos/vid-hd/thumbs/poster.jpg"))).streams[0]).toMatchObject({ codec_name: "mjpeg", width: 1280, height: 720 });

    // progress: downloading → transcoding (playable with the master key) → uploading/packaging → 100
    expect(events[0]).toMatchObject({ step: "downloading", percent: 0, playable: false });
    const playableAt = events.findIndex((e) => e.playable);
    expect(playableAt).toBeGreaterThan(0);
    expect(events[playableAt]).toMatchObject({ step: "transcoding", playable: true, masterKey: "videos/vid-hd/hls/master.m3u8" });
    expect(events.slice(playableAt).every((e) => e.playable)).toBe(true);
    expect(events.some((e) => e.step === "packaging")).toBe(true);
    expect(events.at(-1)).toMatchObject({ percent: 100 });
    for (let i = 1; i < events.length; i++) expect(events[i]!.percent).toBeGreaterThanOrEqual(events[i - 1]!.percent);

    expect(await readdir(workDir)).toEqual([]);
    const keys = await storage.list("videos/vid-hd/");
    expect(keys).toContain("videos/vid-hd/mp4/240p.mp4");
    expect(keys.filter((k) => k.endsWith(".m3u8"))).toEqual([
      "videos/vid-hd/hls/240p/index.m3u8",
      "videos/vid-hd/hls/480p/index.m3u8",
      "videos/vid-hd/hls/720p/index.m3u8",
      "videos/vid-hd/hls/audio/en/index.m3u8",
      "videos/vid-hd/hls/master.m3u8",
    ]);
  });

  it("a 320x240 clip without audio: one rung, no audio group, no audio in the MP4", async () => {
    const { ctx } = context("job-small");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("small"), ctx);
    const master = await verify(result, { qualities: [["240p", 320, 240]], durationS: 2, audio: [], segmentS: 1 });
    expect(master).not.toContain("EXT-X-MEDIA");
    expect(master).not.toContain("AUDIO=");
    expect(master).toContain("FRAME-RATE=25.000\n");
  });

  it("a display-rotated clip comes out upright (portrait rungs)", async () => {
    expect(probes.get("portrait")!.video).toMatchObject({ displayWidth: 360, displayHeight: 640 });
    const { ctx } = context("job-portrait");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("portrait"), ctx);
    await verify(result, { qualities: [["240p", 240, 426], ["360p", 360, 640]], durationS: 2, audio: ["und"], segmentS: 1 });
    expect(result.audioTracks[0]).toMatchObject({ language: "und", name: "Audio 1", playlistKey: "videos/vid-portrait/hls/audio/0/index.m3u8" });
  });

  it("a 600p clip gets 240p, 480p and 600p; defaultLanguage names untagged audio", async () => {
    const { ctx } = context("job-600");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("p600", { defaultLanguage: "es" }), ctx);
    await verify(result, { qualities: [["240p", 426, 240], ["480p", 852, 480], ["600p", 1066, 600]], durationS: 2, audio: ["es"], segmentS: 1 });
    expect(result.audioTracks[0]).toMatchObject({ name: "español", playlistKey: "videos/vid-p600/hls/audio/es/index.m3u8" });
  });

  it("two audio streams (eng, fra) become two audio renditions", async () => {
    const { ctx } = context("job-bi");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("bilingual", { mp4: false }), ctx);
    const master = await verify(result, { qualities: [["240p", 426, 240]], durationS: 2, audio: ["en", "fr"], segmentS: 1 });
    expect(result.audioTracks.map((a) => [a.name, a.isDefault])).toEqual([["English", true], ["français", false]]);
    expect(master).toContain('LANGUAGE="fr",NAME="français",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/fr/index.m3u8"');
    // without MP4s the size is the HLS bytes
    expect(result.renditions[0]!.mp4Key).toBeNull();
    expect(result.renditions[0]!.sizeBytes).toBeGreaterThan(0);
  });

  it("fMP4 segments (video and audio) in per-rung mode", async () => {
    const { ctx } = context("job-fmp4");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("sd", { segmentType: "fmp4", mode: "per-rung" }, "vid-fmp4"), ctx);
    const master = await verify(result, { qualities: [["240p", 426, 240], ["360p", 640, 360]], durationS: 2, audio: ["und"], segmentS: 1 });
    expect(master).toContain("#EXT-X-VERSION:7\n");
    const pl = await readFile(local("videos/vid-fmp4/hls/360p/index.m3u8"), "utf8");
    expect(pl).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(await storage.exists("videos/vid-fmp4/hls/360p/init.mp4")).toBe(true);
  });

  it("is idempotent, removes stale outputs and dead attempts' temp dirs", async () => {
    // A dead attempt of the same video (its worker was SIGKILLed: pid gone) and another video's dir.
    await mkdir(path.join(workDir, "vid-again-oldjob"), { recursive: true });
    await writeFile(path.join(workDir, "vid-again-oldjob", ".owner.json"), JSON.stringify({ videoId: "vid-again", pid: 2 ** 22 + 7, host: "elsewhere" }));
    await mkdir(path.join(workDir, "other-video-job"), { recursive: true });
    await storage.put("videos/vid-again/hls/1080p/index.m3u8", "#EXTM3U\n");
    const handler = createTranscodeHandler({ storage, tools, workDir });
    const first = await handler(jobFor("small", {}, "vid-again"), context("job-again").ctx);
    const keys1 = await storage.list("videos/vid-again/");
    expect(keys1).not.toContain("videos/vid-again/hls/1080p/index.m3u8");
    expect(await readdir(workDir)).toEqual(["other-video-job"]);
    const second = await handler(jobFor("small", {}, "vid-again"), context("job-again").ctx);
    expect(await storage.list("videos/vid-again/")).toEqual(keys1);
    expect(second.renditions.map((r) => r.quality)).toEqual(first.renditions.map((r) => r.quality));
    await rm(path.join(workDir, "other-video-job"), { recursive: true });
  });

  it("publishes early while ffmpeg runs; cancel kills ffmpeg, removes the temp dir, fails `cancelled`", async () => {
    const ac = new AbortController();
    const jobDir = path.join(workDir, "vid-cancel-job-cancel");
    let early: { ffmpegPids: number[]; master: string; playlist: string; firstSegment: boolean } | null = null;
    const { ctx } = context(
      "job-cancel",
      (p) => {
        if (!p.playable || ac.signal.aborted) return;
        void (async () => {
          const ffmpegPids = await processesMentioning(jobDir);
          const master = await readFile(local("videos/vid-cancel/hls/master.m3u8"), "utf8");
          const playlist = await readFile(local("videos/vid-cancel/hls/720p/index.m3u8"), "utf8");
          const first = parseMediaPlaylist(playlist).segments[0]!.uri;
          early = { ffmpegPids, master, playlist, firstSegment: await storage.exists(`videos/vid-cancel/hls/720p/${first}`) };
          ac.abort();
        })();
      },
      ac.signal,
    );
    // `slow` keeps ffmpeg busy long enough to be caught mid-run.
    const handler = createTranscodeHandler({ storage, tools, workDir, publishIntervalMs: 100 });
    const err = await handler(jobFor("hd", { preset: "slow" }, "vid-cancel"), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect(err).toMatchObject({ code: "cancelled" });
    expect(early).not.toBeNull();
    expect(early!.ffmpegPids.length).toBeGreaterThan(0);
    expect(early!.master).toContain("#EXT-X-STREAM-INF:");
    expect(early!.playlist).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(early!.playlist).not.toContain("#EXT-X-ENDLIST");
    expect(early!.firstSegment).toBe(true);
    expect(await processesMentioning(jobDir)).toEqual([]);
    expect(await readdir(workDir)).toEqual([]);
  });

  it("storage failures are `storage_error`", async () => {
    const missing = { ...jobFor("small", {}, "vid-missing"), sourceKey: "uploads/nope/source.mp4" };
    await expect(createTranscodeHandler({ storage, tools, workDir })(missing, context("job-missing").ctx)).rejects.toMatchObject({ code: "storage_error", retryable: false });
    const failing: Storage = Object.assign(Object.create(storage) as DiskStorage, {
      put: async (key: string) => {
        if (key.endsWith(".ts")) throw new Error("disk full");
      },
    });
    await expect(createTranscodeHandler({ storage: failing, tools, workDir })(jobFor("small", {}, "vid-full"), context("job-full").ctx)).rejects.toMatchObject({
      code: "storage_error",
      message: expect.stringMatching(/disk full/),
      retryable: true,
    });
    // a source without a video stream is hopeless: no retry
    const noVideo = { ...jobFor("small", {}, "vid-novideo"), probe: { ...probes.get("small")!, video: null } };
    await expect(createTranscodeHandler({ storage, tools, workDir })(noVideo, context("job-novideo").ctx)).rejects.toMatchObject({
      code: "transcode_failed",
      retryable: false,
    });
    expect(await readdir(workDir)).toEqual([]);
  });

  it("skips near-black frames for the poster and converts text subtitles to WebVTT renditions", async () => {
    const { ctx } = context("job-subbed");
    const result = await createTranscodeHandler({ storage, tools, workDir })(jobFor("subbed", { mp4: false }), ctx);
    const master = await verify(result, { qualities: [["240p", 320, 240]], durationS: 3, audio: ["en"], segmentS: 1 });
    // candidates at 0.3, 0.45, 0.75, 1.5, 2.25 s; black until 1.2 s → the poster is the 1.5 s one
    expect(result.thumbnails.candidateKeys).toHaveLength(5);
    expect(await readFile(local(result.thumbnails.posterKey!))).toEqual(await readFile(local("videos/vid-subbed/thumbs/c3.jpg")));

    expect(result.subtitleTracks).toEqual([
      { language: "fr", name: "français", vttKey: "videos/vid-subbed/hls/subs/fr/subs.vtt", playlistKey: "videos/vid-subbed/hls/subs/fr/index.m3u8" },
      { language: "und", name: "Subtitles 2", vttKey: "videos/vid-subbed/hls/subs/1/subs.vtt", playlistKey: "videos/vid-subbed/hls/subs/1/index.m3u8" },
    ]);
    const vtt = await readFile(local(result.subtitleTracks[0]!.vttKey), "utf8");
    // ffmpeg's TS segments start at PTS 1.4 s = 126000 (90 kHz)
    expect(vtt).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.500 --> 00:01.500\nBonjour\n\n00:02.000 --> 00:02.800\nAu revoir\n");
    const subPl = await playlist(result.subtitleTracks[0]!.playlistKey);
    expect(subPl).toMatchObject({ playlistType: "VOD", ended: true, segments: [{ uri: "subs.vtt", duration: 3 }] });
    expect(master).toContain('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="français",DEFAULT=NO,AUTOSELECT=YES,URI="subs/fr/index.m3u8"');
    expect(master).toContain('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="und",NAME="Subtitles 2",DEFAULT=NO,AUTOSELECT=YES,URI="subs/1/index.m3u8"');
    expect(master).toContain('AUDIO="aud",SUBTITLES="subs"\n240p/index.m3u8');
  });

  it("converts with the bundled ffmpeg 4.1", async () => {
    const bundled = await bundledMediaTools();
    expect(bundled).toMatchObject({ major: 4, minor: 1 });
    const { ctx } = context("job-41");
    const result = await createTranscodeHandler({ storage, tools: bundled, workDir })(jobFor("bilingual", {}, "vid-41"), ctx);
    await verify(result, { qualities: [["240p", 426, 240]], durationS: 2, audio: ["en", "fr"], segmentS: 1 });
  });
});
