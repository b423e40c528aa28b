/**
 * Issue 13, through the real job handler with real ffmpeg (the system's and the bundled 2018
 * build): sources whose header says less than what follows it, and inputs that are not what their
 * name says. Each conversion is stopped by a bound taken from the probe (or refused by the input
 * fences), quickly, instead of running as the file dictates.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { TranscodeError, type TranscodeJob, type TranscodeOptions } from "../../contracts/transcode.messages.js";
import { demuxerOf } from "../../platform/media/input-guard.js";
import { hlsPlaylistTo, makeClip, makeGrowingTs, makeLyingMkv } from "../../platform/media/media.fixtures.js";
import { bundledMediaTools, systemMediaTools, withMemoryLimit, type MediaTools } from "../../platform/media/media-tools.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { probe } from "../../platform/media/probe.js";
import type { JobContext } from "../../platform/queue/queue.js";
import { DiskStorage } from "../../platform/storage/disk.storage.js";
import { parseMediaPlaylist } from "./playlists.js";
import { createTranscodeHandler } from "./transcode.job.js";

const OPTIONS: TranscodeOptions = {
  ladder: [240],
  maxFps: 30,
  segmentS: 1,
  segmentType: "mpegts",
  mp4: true,
  preset: "ultrafast",
  mode: "single",
  timeoutS: 120,
  defaultLanguage: null,
};
const MiB = 1024 ** 2;

const context = (jobId: string): JobContext => ({ jobId, attempt: 1, signal: new AbortController().signal, progress: async () => undefined });

/** Key: value lines of /proc/<pid>/status or /proc/<pid>/limits. */
async function procFile(pid: number, name: "status" | "limits"): Promise<string> {
  return readFile(`/proc/${pid}/${name}`, "utf8").catch(() => "");
}

/**
 * Samples, every 2 ms until `run` settles, this process's children (ffmpeg is spawned from the
 * main thread, so /proc/<pid>/task/<pid>/children lists it) whose command line names `dir` (the
 * job's ffmpeg children), keeping each one's peak RSS (VmHWM) and its RLIMIT_DATA.
 */
async function sampleChildren<T>(dir: string, run: () => Promise<T>): Promise<{ result: T | unknown; peaks: Map<number, number>; dataLimits: Map<number, string> }> {
  const peaks = new Map<number, number>();
  const dataLimits = new Map<number, string>();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const children = await readFile(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").catch(() => "");
      for (const pid of children.split(" ").filter(Boolean).map(Number)) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        // before prlimit has exec'd ffmpeg the limit may not be set yet
        if (!cmd.includes(dir) || !cmd.split("\0")[0]!.includes("ffmpeg")) continue;
        const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(await procFile(pid, "status"));
        if (hwm) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(hwm[1]) * 1024));
        const data = /^Max data size\s+(\S+)/m.exec(await procFile(pid, "limits"));
        if (data) dataLimits.set(pid, data[1]!);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const result = await run().catch((e: unknown) => e);
  done = true;
  await sampler;
  return { result, peaks, dataLimits };
}

describe("conversion bounds hold for the whole file (real ffmpeg)", () => {
  let system: MediaTools;
  let bundled: MediaTools;
  let dir: string;
  let workDir: string;
  let storage: DiskStorage;
  const probes = new Map<string, ProbeResult>();

  beforeAll(async () => {
    const t = await systemMediaTools();
    if (!t) throw new Error("no ffmpeg on PATH");
    system = t;
    bundled = await bundledMediaTools();
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-limits-job-"));
    workDir = path.join(dir, "work");
    storage = new DiskStorage(path.join(dir, "media"));
    const put = async (name: string, file: string, container: string) => {
      // probed as upload validation probes it: with the sniffed container's demuxer
      probes.set(name, await probe(system, file, { timeoutS: 30, format: demuxerOf(container) }));
      await storage.putFile(`uploads/${name}/source`, file);
    };
    await Promise.all([
      // 2 s at 320×240, then three 8000×8000 frames (under MAX_RESOLUTION's 8192, had the probe seen them)
      makeGrowingTs(system, path.join(dir, "growing.ts")).then((f) => put("growing", f, "mpegts")),
      // the header says 5 s, the file holds 60 s
      makeLyingMkv(system, path.join(dir, "lying.mkv"), { realS: 60, claimedS: 5 }).then((f) => put("lying", f, "mkv")),
      makeClip(system, path.join(dir, "small.mp4"), { width: 320, height: 240, durationS: 2, fps: 25, audio: [] }).then((f) => put("small", f, "mp4")),
    ]);
    // A text HLS playlist stored as an upload's original, pointing at a real local TS file; its
    // job carries an honest MP4's probe (what the upload pretended to be).
    const target = await makeClip(system, path.join(dir, "target.ts"), { width: 320, height: 240, durationS: 2, audio: [] });
    await writeFile(path.join(dir, "playlist.txt"), hlsPlaylistTo(target));
    await storage.putFile("uploads/playlist/source", path.join(dir, "playlist.txt"));
    probes.set("playlist", probes.get("small")!);
  }, 120_000);
  afterAll(async () => {
    await storage?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const jobFor = (clip: string, videoId: string): TranscodeJob => ({
    videoId,
    sourceKey: `uploads/${clip}/source`,
    outputPrefix: `videos/${videoId}/`,
    probe: probes.get(clip)!,
    options: OPTIONS,
  });

  it("the probe saw what the headers say: 320×240, and 5 s", () => {
    expect(probes.get("growing")).toMatchObject({ container: "mpegts", video: { width: 320, height: 240 } });
    expect(probes.get("lying")).toMatchObject({ container: "mkv", durationS: 5 });
  });

  for (const which of ["system", "bundled"] as const) {
    const tools = () => (which === "system" ? system : bundled);

    it(`${which}: frames that grow to 8000×8000 stop the conversion with limit_exceeded, at once, in little memory`, async () => {
      const videoId = `growing-${which}`;
      const t0 = Date.now();
      const { result, peaks } = await sampleChildren(path.join(workDir, videoId), () =>
        createTranscodeHandler({ storage, tools: tools(), workDir })(jobFor("growing", videoId), context(`job-${videoId}`)),
      );
      expect(result).toBeInstanceOf(TranscodeError);
      expect(result).toMatchObject({
        code: "limit_exceeded",
        retryable: false,
        message: "transcoding stopped: a 8000x8000 frame exceeds the decoder's limit of 137984 pixels (the picture grew past its probed size)",
      });
      expect(Date.now() - t0).toBeLessThan(15_000);
      // Decoding the three large frames takes ~0.5 GB; refused, they cost nothing.
      expect(peaks.size).toBeGreaterThan(0);
      expect(Math.max(...peaks.values())).toBeLessThan(200 * MiB);
    }, 60_000);

    it(`${which}: a Matroska file claiming 5 s over 60 s is converted to its claimed length, not its real one`, async () => {
      const videoId = `lying-${which}`;
      const result = await createTranscodeHandler({ storage, tools: tools(), workDir })(jobFor("lying", videoId), context(`job-${videoId}`));
      // capped at 5 × 1.02 + 1 s of input
      expect(result.durationS).toBeGreaterThan(4.9);
      expect(result.durationS).toBeLessThanOrEqual(6.2);
      const pl = parseMediaPlaylist(await readFile(storage.localPath(result.renditions[0]!.playlistKey)!, "utf8"));
      expect(pl.segments.reduce((a, s) => a + s.duration, 0)).toBeLessThanOrEqual(6.2);
      expect(result.audioTracks).toHaveLength(1);
      const audio = parseMediaPlaylist(await readFile(storage.localPath(result.audioTracks[0]!.playlistKey)!, "utf8"));
      expect(audio.segments.reduce((a, s) => a + s.duration, 0)).toBeLessThanOrEqual(6.3);
    }, 60_000);

    it(`${which}: a text HLS playlist passed off as an MP4 is not followed`, async () => {
      const videoId = `playlist-${which}`;
      const err = await createTranscodeHandler({ storage, tools: tools(), workDir })(jobFor("playlist", videoId), context(`job-${videoId}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TranscodeError);
      // ffmpeg refuses the input (the `mov` demuxer finds no moov atom): deterministic, no retry
      expect(err).toMatchObject({ code: "transcode_failed", retryable: false, message: expect.stringMatching(/moov atom not found|Invalid data found/) });
      expect(await storage.list(`videos/${videoId}/`)).toEqual([]);
    }, 60_000);
  }

  it.skipIf(process.platform !== "linux")("every ffmpeg child of a job runs under the memory limit's ceiling, and a legitimate job passes under the default", async () => {
    const videoId = "small-limited";
    const limit = loadConfig({}).media.memoryLimitBytes;
    const tools = await withMemoryLimit(system, limit);
    const { result, dataLimits } = await sampleChildren(path.join(workDir, videoId), () =>
      createTranscodeHandler({ storage, tools, workDir })(jobFor("small", videoId), context(`job-${videoId}`)),
    );
    expect(result).toMatchObject({ durationS: expect.any(Number), renditions: [expect.objectContaining({ quality: "240p" })] });
    // the encode, the MP4 remux, thumbnails, storyboard…: all of them, at 1.5 × (the limit + 64 B
    // per pixel of a 320×240 source's max_pixels, 137,984)
    expect(dataLimits.size).toBeGreaterThanOrEqual(2);
    expect(new Set(dataLimits.values())).toEqual(new Set([String(Math.ceil((limit + 64 * 137_984) * 1.5))]));
  }, 60_000);
});
