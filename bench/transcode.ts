/**
 * bench/transcode — wall time of vidflux's full conversion of a generated 60 s 1080p30 clip, as a
 * ratio to two baselines measured in the same run on the same machine (median of RUNS, default 3):
 *   (a) one plain ffmpeg command producing the same HLS ladder in one pass (split + one output
 *       per rung), and
 *   (b) one plain ffmpeg per rung, in sequence (each decodes the source again),
 * plus the time until the video is playable as a share of the full conversion.
 * Goals (issue 4): ≤ 1.10× (a), ≤ 0.75× (b), playable ≤ 30 %.
 *
 *   npm run bench -- transcode    BENCH_DURATION=60 RUNS=3 X264_PRESET=veryfast
 *                                 BENCH_SOURCE_PRESET=veryfast BENCH_SOURCE_BITRATE=16M
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { locateMedia, type MediaTools } from "../src/platform/media/media-tools.js";
import { probe } from "../src/platform/media/probe.js";
import { runFfmpeg } from "../src/platform/media/ffmpeg-runner.js";
import { DiskStorage } from "../src/platform/storage/disk.storage.js";
import { createTranscodeHandler } from "../src/services/transcoder/index.js";
import { buildLadder } from "../src/services/transcoder/index.js";
import type { TranscodeJob, TranscodeProgress } from "../src/contracts/transcode.messages.js";

const config = loadConfig();
const DURATION = Number(process.env.BENCH_DURATION ?? 60);
const RUNS = Number(process.env.RUNS ?? 3);
const PRESET = config.media.preset;
const LADDER = config.media.ladder;
// The source should decode like a real upload: a phone or camera writes High-profile H.264 with
// CABAC and B-frames at a high bitrate. An `ultrafast` source (Baseline-like, no CABAC) decodes
// almost for free and hides exactly the cost that decoding once saves.
const SOURCE_PRESET = process.env.BENCH_SOURCE_PRESET ?? "veryfast";
const SOURCE_BITRATE = process.env.BENCH_SOURCE_BITRATE ?? "16M";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * CPU seconds used so far by this process and by its reaped children (ffmpeg): `utime+stime` and
 * `cutime+cstime` of /proc/self/stat, in clock ticks (USER_HZ, 100 on Linux). Wall time on a
 * shared 2-core machine moves with whatever else runs; CPU seconds move far less, so the CPU
 * ratios say whether our code does more work, the wall ratios what a user waits.
 */
function cpuNow(): { self: number; children: number } {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  // after "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based)
  const f = (n: number) => Number(fields[n - 3]);
  return { self: (f(14) + f(15)) / 100, children: (f(16) + f(17)) / 100 };
}

async function cpuOf(fn: () => Promise<unknown>): Promise<{ wall: number; self: number; children: number }> {
  const c0 = cpuNow();
  const wall = await time(fn);
  const c1 = cpuNow();
  return { wall, self: c1.self - c0.self, children: c1.children - c0.children };
}

async function main(): Promise<void> {
  const tools: MediaTools = await locateMedia(config);
  const dir = mkdtempSync(path.join(tmpdir(), "vidflux-bench-transcode-"));
  try {
    const src = path.join(dir, "source.mp4");
    console.log(`generating a ${DURATION} s 1920x1080 30 fps High-profile ${SOURCE_BITRATE} clip (x264 ${SOURCE_PRESET}) with ffmpeg ${tools.version} (${tools.source})…`);
    await runFfmpeg(tools, [
      "-y", "-v", "error",
      "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${DURATION}`,
      "-f", "lavfi", "-i", `sine=frequency=440:duration=${DURATION}:sample_rate=48000`,
      "-c:v", "libx264", "-preset", SOURCE_PRESET, "-profile:v", "high", "-b:v", SOURCE_BITRATE, "-maxrate", SOURCE_BITRATE, "-bufsize", "32M",
      "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
      src,
    ], { timeoutS: 1200 });
    const info = await probe(tools, src, { timeoutS: 60 });
    const rungs = buildLadder(info, { ladder: LADDER, maxFps: config.media.maxFps, segmentS: config.media.hlsSegmentS });
    console.log(`ladder: ${rungs.map((r) => `${r.quality}@${Math.round(r.videoBitrate / 1000)}k`).join(" ")}  preset ${PRESET}  runs ${RUNS}`);

    const storage = new DiskStorage(path.join(dir, "media"));
    await storage.putFile("videos/bench/original", src);
    const handler = createTranscodeHandler({ storage, tools, workDir: path.join(dir, "work") });

    const ours: number[] = [];
    const playableShare: number[] = [];
    const onePass: number[] = [];
    const perRung: number[] = [];
    const oursCpu: { self: number; children: number }[] = [];
    const onePassCpu: number[] = [];
    const perRungCpu: number[] = [];

    // The baselines use the same rates and GOPs as vidflux's rungs, so only the process layout differs.
    const videoOpts = (r: (typeof rungs)[number]) => [
      "-c:v", "libx264", "-preset", PRESET, "-b:v", String(r.videoBitrate), "-maxrate", String(r.maxrate), "-bufsize", String(r.bufsize),
      "-g", String(r.gop), "-keyint_min", String(r.gop), "-sc_threshold", "0",
    ];
    const hls = (out: string) => ["-f", "hls", "-hls_time", String(config.media.hlsSegmentS), "-hls_playlist_type", "vod", "-hls_segment_filename", `${out}/seg%05d.ts`, `${out}/index.m3u8`];

    for (let run = 1; run <= RUNS; run++) {
      // (1) vidflux: the whole job (HLS ladder, audio rendition, MP4s, poster/thumbnails, storage)
      let playableAt: number | null = null;
      const t0 = performance.now();
      const c0 = cpuNow();
      const job: TranscodeJob = {
        videoId: "bench",
        sourceKey: "videos/bench/original",
        outputPrefix: "videos/bench/",
        probe: info,
        options: {
          ladder: LADDER, maxFps: config.media.maxFps, segmentS: config.media.hlsSegmentS, segmentType: "mpegts",
          mp4: config.media.mp4Renditions, preset: PRESET, mode: config.media.transcodeMode, timeoutS: 3600, defaultLanguage: null,
        },
      };
      await handler(job, {
        jobId: `bench-${run}`,
        attempt: 1,
        signal: new AbortController().signal,
        progress: async (p) => {
          if ((p as unknown as TranscodeProgress).playable && playableAt === null) playableAt = performance.now();
        },
      });
      const full = (performance.now() - t0) / 1000;
      const c1 = cpuNow();
      ours.push(full);
      oursCpu.push({ self: c1.self - c0.self, children: c1.children - c0.children });
      playableShare.push(playableAt === null ? 1 : (playableAt - t0) / 1000 / full);

      // (a) one plain ffmpeg, one pass, same ladder (HLS only, audio once)
      const a = path.join(dir, `a${run}`);
      const graph = `[0:v]fps=${rungs[0]!.fpsArg},split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join("")};` + rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height},format=yuv420p[v${i}]`).join(";");
      const argsA = ["-y", "-v", "error", "-i", src, "-filter_complex", graph];
      for (const [i, r] of rungs.entries()) {
        await mkdir(`${a}/${r.quality}`, { recursive: true });
        argsA.push("-map", `[v${i}]`, ...videoOpts(r), ...hls(`${a}/${r.quality}`));
      }
      await mkdir(`${a}/audio`, { recursive: true });
      argsA.push("-map", "0:a", "-c:a", "aac", "-b:a", "128k", "-ac", "2", ...hls(`${a}/audio`));
      const pa = await cpuOf(() => runFfmpeg(tools, argsA, { timeoutS: 3600 }));
      onePass.push(pa.wall);
      onePassCpu.push(pa.children);

      // (b) one plain ffmpeg per rung, in sequence (audio with the first)
      const b = path.join(dir, `b${run}`);
      const pb = await cpuOf(async () => {
        for (const [i, r] of rungs.entries()) {
          await mkdir(`${b}/${r.quality}`, { recursive: true });
          const args = ["-y", "-v", "error", "-i", src, "-map", "0:v", "-vf", `fps=${r.fpsArg},scale=${r.width}:${r.height},format=yuv420p`, ...videoOpts(r)];
          if (i === 0) args.push("-map", "0:a", "-c:a", "aac", "-b:a", "128k", "-ac", "2");
          await runFfmpeg(tools, [...args, ...hls(`${b}/${r.quality}`)], { timeoutS: 3600 });
        }
      });
      perRung.push(pb.wall);
      perRungCpu.push(pb.children);
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
      console.log(`run ${run}: vidflux ${full.toFixed(1)} s (playable after ${(playableShare.at(-1)! * 100).toFixed(0)} %), one-pass ffmpeg ${onePass.at(-1)!.toFixed(1)} s, per-rung ffmpeg ${perRung.at(-1)!.toFixed(1)} s`);
    }

    const m = median(ours);
    const ra = m / median(onePass);
    const rb = m / median(perRung);
    const pshare = median(playableShare);
    console.log("\nbench/transcode (median of %d)", RUNS);
    console.log(`  vidflux full conversion      ${m.toFixed(1)} s`);
    console.log(`  (a) plain one-pass ffmpeg     ${median(onePass).toFixed(1)} s   ratio ${ra.toFixed(2)}x   goal <= 1.10x  ${ra <= 1.1 ? "MET" : "MISSED"}`);
    console.log(`  (b) plain ffmpeg per rung     ${median(perRung).toFixed(1)} s   ratio ${rb.toFixed(2)}x   goal <= 0.75x  ${rb <= 0.75 ? "MET" : "MISSED"}`);
    console.log(`  playable after               ${(pshare * 100).toFixed(1)} % of the full time          goal <= 30 %   ${pshare <= 0.3 ? "MET" : "MISSED"}`);
    const node = median(oursCpu.map((c) => c.self));
    const ff = median(oursCpu.map((c) => c.children));
    console.log(`  CPU seconds (median): vidflux ${(node + ff).toFixed(1)} (node ${node.toFixed(1)} + ffmpeg ${ff.toFixed(1)}), one-pass ${median(onePassCpu).toFixed(1)}, per-rung ${median(perRungCpu).toFixed(1)}`);
    console.log(`  CPU ratios: vidflux / one-pass ${((node + ff) / median(onePassCpu)).toFixed(2)}x, vidflux / per-rung ${((node + ff) / median(perRungCpu)).toFixed(2)}x (informational: steadier than wall time on a busy machine)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
