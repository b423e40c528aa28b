import { describe, expect, it } from "vitest";
import { buildMp4Args, buildRungArgs, buildTranscodeArgs } from "./ffmpeg-args.js";
import { buildLadder } from "./ladder.js";
import type { TranscodeOptions } from "../../contracts/transcode.messages.js";
import { audioStream, probeOf, videoStream } from "./transcoder.fixtures.js";

const OPTS: TranscodeOptions = {
  ladder: [240, 480, 720, 1080],
  maxFps: 60,
  segmentS: 4,
  segmentType: "mpegts",
  mp4: true,
  preset: "veryfast",
  mode: "single",
  timeoutS: 3600,
  defaultLanguage: null,
};
const PATHS = { input: "/w/job/source.mp4", outDir: "/w/job/out" };

/**
 * The source input of a 3 s MP4 (probeOf's defaults), written out independently of the builder:
 * local files only, the `mov` demuxer only, frames no larger than the probed size rounded up to
 * 64 on each side plus 10 % (or the mpegvideo scratch buffer, below 280 lines), reading stopped
 * at 3 × 1.02 + 1 s.
 */
const source = (maxPixels: number) => [
  "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov", "-max_pixels", String(maxPixels), "-t", "4.060", "-i", "/w/job/source.mp4",
];

/** The HLS muxer tail of one output, written out independently of the builder. */
const hlsTs = (dir: string) => [
  "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
  "-hls_flags", "independent_segments", "-hls_segment_filename", `/w/job/out/${dir}/seg_%05d.ts`, `/w/job/out/${dir}/index.m3u8`,
];
const x264 = (profile: string, level: string, b: string, max: string, buf: string, gop: string) => [
  "-c:v", "libx264", "-preset", "veryfast", "-profile:v", profile, "-level:v", level, "-b:v", b, "-maxrate", max, "-bufsize", buf,
  "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*4)",
];
const aac = (stream: number, dir: string) => [
  "-map", `0:${stream}`, "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", "-af", "aresample=async=1", ...hlsTs(`hls/audio/${dir}`),
];

describe("buildTranscodeArgs (decode once)", () => {
  it("landscape 720p with audio", () => {
    const probe = probeOf(videoStream({ width: 1280, height: 720 }), [audioStream(1, { language: "eng" })]);
    expect(buildTranscodeArgs(probe, buildLadder(probe, OPTS), OPTS, PATHS)).toEqual([
      "-y", "-v", "error",
      "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov",
      // 1280 × 768 (720 rounded up to 64) × 1.1
      "-max_pixels", "1081344",
      "-t", "4.060",
      "-i", "/w/job/source.mp4",
      "-filter_complex",
      "[0:0]fps=30,split=3[s0][s1][s2];" +
        "[s0]scale=426:240,setsar=1,format=yuv420p[v0];" +
        "[s1]scale=854:480,setsar=1,format=yuv420p[v1];" +
        "[s2]scale=1280:720,setsar=1,format=yuv420p[v2]",
      "-map", "[v0]",
      "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-level:v", "2.1",
      "-b:v", "400k", "-maxrate", "600k", "-bufsize", "800k",
      "-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*4)",
      "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
      "-hls_flags", "independent_segments",
      "-hls_segment_filename", "/w/job/out/hls/240p/seg_%05d.ts", "/w/job/out/hls/240p/index.m3u8",
      "-map", "[v1]",
      "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level:v", "3.1",
      "-b:v", "1200k", "-maxrate", "1800k", "-bufsize", "2400k",
      "-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*4)",
      "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
      "-hls_flags", "independent_segments",
      "-hls_segment_filename", "/w/job/out/hls/480p/seg_%05d.ts", "/w/job/out/hls/480p/index.m3u8",
      "-map", "[v2]",
      "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level:v", "3.1",
      "-b:v", "2800k", "-maxrate", "4200k", "-bufsize", "5600k",
      "-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*4)",
      "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
      "-hls_flags", "independent_segments",
      "-hls_segment_filename", "/w/job/out/hls/720p/seg_%05d.ts", "/w/job/out/hls/720p/index.m3u8",
      "-map", "0:1", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", "-af", "aresample=async=1",
      "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
      "-hls_flags", "independent_segments",
      "-hls_segment_filename", "/w/job/out/hls/audio/en/seg_%05d.ts", "/w/job/out/hls/audio/en/index.m3u8",
    ]);
  });

  it("portrait (display-rotated) phone video at 29.97 fps, scaled to the upright size", () => {
    const probe = probeOf(videoStream({ width: 1920, height: 1080, rotation: 90, fps: 29.97, index: 1 }), [audioStream(0, { isDefault: true })]);
    const opts = { ...OPTS, ladder: [360, 720] };
    expect(buildTranscodeArgs(probe, buildLadder(probe, opts), opts, PATHS)).toEqual([
      "-y", "-v", "error", ...source(2297856),
      "-filter_complex",
      "[0:1]fps=30000/1001,split=2[s0][s1];[s0]scale=360:640,setsar=1,format=yuv420p[v0];[s1]scale=720:1280,setsar=1,format=yuv420p[v1]",
      "-map", "[v0]", ...x264("main", "3.0", "800k", "1200k", "1600k", "120"), ...hlsTs("hls/360p"),
      "-map", "[v1]", ...x264("high", "3.1", "2800k", "4200k", "5600k", "120"), ...hlsTs("hls/720p"),
      ...aac(0, "0"),
    ]);
  });

  it("a small clip without audio: one rung, no split, no audio output", () => {
    const probe = probeOf(videoStream({ width: 320, height: 240, fps: 25 }));
    expect(buildTranscodeArgs(probe, buildLadder(probe, OPTS), OPTS, PATHS)).toEqual([
      "-y", "-v", "error", ...source(137984),
      "-filter_complex", "[0:0]fps=25,scale=320:240,setsar=1,format=yuv420p[v0]",
      "-map", "[v0]", ...x264("main", "2.1", "400k", "600k", "800k", "100"), ...hlsTs("hls/240p"),
    ]);
  });

  it("a 600p source gets its own-height rung", () => {
    const probe = probeOf(videoStream({ width: 1066, height: 600 }), [audioStream(1)]);
    expect(buildTranscodeArgs(probe, buildLadder(probe, OPTS), OPTS, PATHS)).toEqual([
      "-y", "-v", "error", ...source(765952),
      "-filter_complex",
      "[0:0]fps=30,split=3[s0][s1][s2];[s0]scale=426:240,setsar=1,format=yuv420p[v0];" +
        "[s1]scale=852:480,setsar=1,format=yuv420p[v1];[s2]scale=1066:600,setsar=1,format=yuv420p[v2]",
      "-map", "[v0]", ...x264("main", "2.1", "400k", "600k", "800k", "120"), ...hlsTs("hls/240p"),
      "-map", "[v1]", ...x264("high", "3.1", "1200k", "1800k", "2400k", "120"), ...hlsTs("hls/480p"),
      "-map", "[v2]", ...x264("high", "3.1", "2000k", "3000k", "4000k", "120"), ...hlsTs("hls/600p"),
      ...aac(1, "0"),
    ]);
  });

  it("two audio streams (eng, fra): one AAC HLS output each", () => {
    const probe = probeOf(videoStream({ width: 640, height: 360 }), [audioStream(1, { language: "eng" }), audioStream(2, { language: "fra", isDefault: false })]);
    expect(buildTranscodeArgs(probe, buildLadder(probe, OPTS), OPTS, PATHS)).toEqual([
      "-y", "-v", "error", ...source(270336),
      "-filter_complex",
      "[0:0]fps=30,split=2[s0][s1];[s0]scale=426:240,setsar=1,format=yuv420p[v0];[s1]scale=640:360,setsar=1,format=yuv420p[v1]",
      "-map", "[v0]", ...x264("main", "2.1", "400k", "600k", "800k", "120"), ...hlsTs("hls/240p"),
      "-map", "[v1]", ...x264("main", "3.0", "800k", "1200k", "1600k", "120"), ...hlsTs("hls/360p"),
      ...aac(1, "en"),
      ...aac(2, "fr"),
    ]);
  });

  it("10-bit 1080p60 source: 8-bit yuv420p out, bitrates for > 30 fps, fMP4 segments", () => {
    const probe = probeOf(videoStream({ width: 1920, height: 1080, fps: 60, pixFmt: "yuv420p10le", bitDepth: 10, codec: "hevc" }), [audioStream(1)]);
    const opts: TranscodeOptions = { ...OPTS, ladder: [720, 1080], segmentType: "fmp4", segmentS: 2, preset: "fast" };
    const hlsF = (dir: string) => [
      "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "event", "-hls_list_size", "0", "-hls_segment_type", "fmp4",
      "-hls_fmp4_init_filename", "init.mp4", "-hls_flags", "independent_segments",
      "-hls_segment_filename", `/w/job/out/${dir}/seg_%05d.m4s`, `/w/job/out/${dir}/index.m3u8`,
    ];
    const enc = (level: string, b: string, max: string, buf: string) => [
      "-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-level:v", level, "-b:v", b, "-maxrate", max, "-bufsize", buf,
      "-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*2)",
    ];
    expect(buildTranscodeArgs(probe, buildLadder(probe, opts), opts, PATHS)).toEqual([
      "-y", "-v", "error", ...source(2297856),
      "-filter_complex",
      "[0:0]fps=60,split=2[s0][s1];[s0]scale=1280:720,setsar=1,format=yuv420p[v0];[s1]scale=1920:1080,setsar=1,format=yuv420p[v1]",
      "-map", "[v0]", ...enc("3.2", "4200k", "6300k", "8400k"), ...hlsF("hls/720p"),
      "-map", "[v1]", ...enc("4.2", "7500k", "11250k", "15000k"), ...hlsF("hls/1080p"),
      "-map", "0:1", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", "-af", "aresample=async=1", ...hlsF("hls/audio/0"),
    ]);
  });
});

describe("buildRungArgs (per-rung mode)", () => {
  it("one rung, with or without the audio outputs", () => {
    const probe = probeOf(videoStream({ width: 1280, height: 720 }), [audioStream(1, { language: "eng" })]);
    const [r240, , r720] = buildLadder(probe, OPTS);
    expect(buildRungArgs(probe, r720!, OPTS, PATHS, { withAudio: false })).toEqual([
      "-y", "-v", "error", ...source(1081344),
      "-filter_complex", "[0:0]fps=30,scale=1280:720,setsar=1,format=yuv420p[v0]",
      "-map", "[v0]", ...x264("high", "3.1", "2800k", "4200k", "5600k", "120"), ...hlsTs("hls/720p"),
    ]);
    expect(buildRungArgs(probe, r240!, OPTS, PATHS, { withAudio: true })).toEqual([
      "-y", "-v", "error", ...source(1081344),
      "-filter_complex", "[0:0]fps=30,scale=426:240,setsar=1,format=yuv420p[v0]",
      "-map", "[v0]", ...x264("main", "2.1", "400k", "600k", "800k", "120"), ...hlsTs("hls/240p"),
      ...aac(1, "en"),
    ]);
  });
});

describe("buildMp4Args", () => {
  /** our own playlists: the HLS demuxer and its two segment formats, local files only */
  const ownHls = (file: string) => ["-protocol_whitelist", "file", "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", file];

  it("stream-copies video + default audio with faststart, reading our playlists as HLS only", () => {
    expect(buildMp4Args("/o/hls/720p/index.m3u8", "/o/hls/audio/en/index.m3u8", "/o/mp4/720p.mp4", "mpegts")).toEqual([
      "-y", "-v", "error",
      "-protocol_whitelist", "file", "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", "/o/hls/720p/index.m3u8",
      "-protocol_whitelist", "file", "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", "/o/hls/audio/en/index.m3u8",
      "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-bsf:a", "aac_adtstoasc",
      "-movflags", "+faststart", "-f", "mp4", "/o/mp4/720p.mp4",
    ]);
    expect(buildMp4Args("/o/v.m3u8", "/o/a.m3u8", "/o/x.mp4", "fmp4")).toEqual([
      "-y", "-v", "error", ...ownHls("/o/v.m3u8"), ...ownHls("/o/a.m3u8"), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
      "-movflags", "+faststart", "-f", "mp4", "/o/x.mp4",
    ]);
    expect(buildMp4Args("/o/v.m3u8", null, "/o/x.mp4", "mpegts")).toEqual([
      "-y", "-v", "error", ...ownHls("/o/v.m3u8"), "-map", "0:v:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "/o/x.mp4",
    ]);
  });
});
