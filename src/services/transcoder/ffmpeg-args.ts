/**
 * Pure argv builders for the conversion. Every argument is one array element (no shell), so file
 * names need no quoting. The same arrays run on ffmpeg 4.1 (the npm-bundled build) and newer:
 * only options that exist since 4.1 are used.
 *
 * Output layout under `paths.outDir` (mirrored 1:1 under the job's storage prefix): see
 * `src/contracts/media-layout.ts` (`hls/<quality>/…` per rung, `hls/audio/<dir>/…` per audio stream).
 *
 * Every input goes through `platform/media/input-guard.ts`: the source is read with the demuxer
 * its probe found, local files only, its frames no larger than probed (`-max_pixels`) and no
 * further than the probed duration (`-t`); our own playlists with the HLS demuxer only.
 */
import path from "node:path";
import { ownHlsInputArgs, sourceInputArgs, sourceInputOf } from "../../platform/media/input-guard.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { audioDir, INIT_NAME, PLAYLIST_NAME, rungDir, segmentPattern } from "../../contracts/media-layout.js";
import type { SegmentType, TranscodeOptions } from "../../contracts/transcode.messages.js";
import { planAudio, type AudioPlan, type Rung } from "./ladder.js";
import { assertNever } from "../../lib/assert-never.js";

export interface TranscodePaths {
  /** the local source file */
  input: string;
  /** the job's output directory */
  outDir: string;
}

export const AUDIO_BITRATE = 128_000;
export const AUDIO_SAMPLE_RATE = 48_000;
/** every audio rendition is stereo (see audioOutputs); the master's CHANNELS attribute says so */
export const AUDIO_CHANNELS = 2;
/** AAC-LC (RFC 6381: mp4a, object type 0x40 = MPEG-4 audio, audio object type 2 = LC) */
export const AAC_CODEC = "mp4a.40.2";

const kbit = (bps: number) => `${Math.round(bps / 1000)}k`;

/** `-y -v error`: overwrite (a retried job rewrites its own temp files) and keep stderr for errors only. */
const GLOBAL = ["-y", "-v", "error"] as const;

/**
 * HLS muxer options for one output. `-hls_playlist_type event` makes ffmpeg rewrite the playlist
 * after every segment without ever dropping one (RFC 8216 §4.3.3.5: EVENT playlists only grow),
 * which is what lets players start while the encode runs; the handler later rewrites it to VOD.
 * `-hls_list_size 0` keeps every segment. `independent_segments` writes
 * EXT-X-INDEPENDENT-SEGMENTS: each segment starts with a keyframe (we force them, see below).
 */
function hlsOutput(dir: string, opts: Pick<TranscodeOptions, "segmentS" | "segmentType">): string[] {
  const out = [
    "-f", "hls",
    "-hls_time", String(opts.segmentS),
    "-hls_playlist_type", "event",
    "-hls_list_size", "0",
    "-hls_segment_type", opts.segmentType,
  ];
  if (opts.segmentType === "fmp4") {
    // A bare name: ffmpeg writes the init section next to the playlist and references it as
    // EXT-X-MAP:URI="init.mp4" (a path here would be copied into the playlist verbatim).
    out.push("-hls_fmp4_init_filename", INIT_NAME);
  }
  out.push(
    "-hls_flags", "independent_segments",
    "-hls_segment_filename", path.join(dir, segmentPattern(opts.segmentType)),
    path.join(dir, PLAYLIST_NAME),
  );
  return out;
}

/**
 * libx264 settings of one rung. Keyframes are aligned across rungs so a player can switch
 * quality at any segment boundary: the GOP is exactly one segment (`-g` = `-keyint_min` =
 * fps * segment seconds), scene-cut keyframes are off (`-sc_threshold 0`, else x264 inserts extra
 * IDR frames at different places per rung), and `-force_key_frames expr:gte(t,n_forced*SEG)`
 * puts an IDR at every segment start by timestamp, which also holds for fractional frame rates
 * where fps*SEG is not an integer. The HLS muxer cuts segments only on keyframes, so segment
 * boundaries then coincide on every rung and in time with `-hls_time`.
 */
function videoEncoder(rung: Rung, opts: Pick<TranscodeOptions, "preset" | "segmentS">): string[] {
  return [
    "-c:v", "libx264",
    "-preset", opts.preset,
    "-profile:v", rung.profile,
    "-level:v", rung.level,
    "-b:v", kbit(rung.videoBitrate),
    "-maxrate", kbit(rung.maxrate),
    "-bufsize", kbit(rung.bufsize),
    "-g", String(rung.gop),
    "-keyint_min", String(rung.gop),
    "-sc_threshold", "0",
    "-force_key_frames", `expr:gte(t,n_forced*${opts.segmentS})`,
  ];
}

/**
 * Per-rung picture chain. Rotation is not in here on purpose: ffmpeg (>= 2.7, so 4.1 too)
 * autorotates decoded frames by the display matrix before any filter, so frames already arrive
 * upright and `scale` targets the displayed size. `setsar=1` makes pixels square (anamorphic
 * sources were squared when the size was computed), `format=yuv420p` gives 8-bit 4:2:0 from any
 * pixel format or bit depth (10-bit HDR phone video, 4:2:2 camera files): the only format every
 * H.264 decoder in the wild plays, and the conversion happens in the same swscale pass as scaling.
 */
function rungChain(rung: Rung): string {
  return `scale=${rung.width}:${rung.height},setsar=1,format=yuv420p`;
}

/**
 * One AAC output per audio stream: stereo (`-ac 2` downmixes 5.1 and upmixes mono; HLS audio
 * groups should not mix channel counts), 48 kHz, 128k. `aresample=async=1` stretches/squeezes
 * samples to follow timestamps, fixing A/V drift and gaps in sources with broken audio clocks.
 * Audio that runs longer than the video is kept: the playlists simply end a bit later.
 */
function audioOutputs(plans: readonly AudioPlan[], opts: Pick<TranscodeOptions, "segmentS" | "segmentType">, outDir: string): string[] {
  const out: string[] = [];
  for (const a of plans) {
    out.push(
      "-map", `0:${a.streamIndex}`,
      "-c:a", "aac",
      "-b:a", kbit(AUDIO_BITRATE),
      "-ac", String(AUDIO_CHANNELS),
      "-ar", String(AUDIO_SAMPLE_RATE),
      "-af", "aresample=async=1",
      ...hlsOutput(path.join(outDir, audioDir(a.dir)), opts),
    );
  }
  return out;
}

function videoIndex(probe: ProbeResult): number {
  if (!probe.video) throw new Error("the source has no video stream");
  return probe.video.index;
}

/**
 * DECODE ONCE: a single ffmpeg reads and decodes the source once, resamples the frame rate once,
 * `split`s the frames to one scale chain per rung and writes one HLS output per rung plus one
 * audio-only HLS output per audio stream. Compared with one process per rung this decodes
 * (often the most expensive part for 4K HEVC) only once.
 */
export function buildTranscodeArgs(probe: ProbeResult, rungs: readonly Rung[], opts: TranscodeOptions, paths: TranscodePaths): string[] {
  if (rungs.length === 0) throw new Error("buildTranscodeArgs: no rungs");
  const v = videoIndex(probe);
  // All rungs share one constant frame rate, so `fps` runs once before the split.
  const head = `[0:${v}]fps=${rungs[0]!.fpsArg}`;
  const graph =
    rungs.length === 1
      ? `${head},${rungChain(rungs[0]!)}[v0]`
      : `${head},split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join("")};` + rungs.map((r, i) => `[s${i}]${rungChain(r)}[v${i}]`).join(";");
  const args: string[] = [...GLOBAL, ...sourceInputArgs(paths.input, sourceInputOf(probe)), "-filter_complex", graph];
  rungs.forEach((r, i) => {
    args.push("-map", `[v${i}]`, ...videoEncoder(r, opts), ...hlsOutput(path.join(paths.outDir, rungDir(r.quality)), opts));
  });
  args.push(...audioOutputs(planAudio(probe, opts.defaultLanguage), opts, paths.outDir));
  return args;
}

/**
 * TRANSCODE_MODE=per-rung: one process per rung (each decodes the source again; bounded memory
 * for very large sources). `withAudio` adds the audio outputs to this process (the handler asks
 * for them with the first rung only).
 */
export function buildRungArgs(probe: ProbeResult, rung: Rung, opts: TranscodeOptions, paths: TranscodePaths, extra: { withAudio: boolean }): string[] {
  const v = videoIndex(probe);
  const args: string[] = [
    ...GLOBAL,
    ...sourceInputArgs(paths.input, sourceInputOf(probe)),
    "-filter_complex", `[0:${v}]fps=${rung.fpsArg},${rungChain(rung)}[v0]`,
    "-map", "[v0]",
    ...videoEncoder(rung, opts),
    ...hlsOutput(path.join(paths.outDir, rungDir(rung.quality)), opts),
  ];
  if (extra.withAudio) args.push(...audioOutputs(planAudio(probe, opts.defaultLanguage), opts, paths.outDir));
  return args;
}

/**
 * A progressive MP4 of one rung, by stream copy (no re-encode) from its finished HLS video
 * playlist plus the default audio playlist. `-movflags +faststart` rewrites the file so the `moov`
 * atom (the index of every sample) comes before `mdat`: a browser can then start playing after
 * the first bytes instead of fetching the end of the file first (or the whole file, for servers
 * without range support). From MPEG-TS segments the AAC frames carry ADTS headers, which MP4 does
 * not allow: `aac_adtstoasc` moves that configuration into the track header.
 */
export function buildMp4Args(videoPlaylist: string, audioPlaylist: string | null, output: string, segmentType: SegmentType): string[] {
  const args: string[] = [...GLOBAL, ...ownHlsInputArgs(videoPlaylist)];
  if (audioPlaylist) args.push(...ownHlsInputArgs(audioPlaylist));
  args.push("-map", "0:v:0");
  if (audioPlaylist) args.push("-map", "1:a:0");
  args.push("-c", "copy");
  if (audioPlaylist) {
    switch (segmentType) {
      case "mpegts":
        args.push("-bsf:a", "aac_adtstoasc");
        break;
      case "fmp4":
        break;
      default:
        assertNever(segmentType);
    }
  }
  args.push("-movflags", "+faststart", "-f", "mp4", output);
  return args;
}

/** Side of the tiny grayscale rendering used to judge a thumbnail's brightness. */
export const GRAY_PROBE_SIDE = 16;

export interface ThumbnailShot {
  timeS: number;
  jpeg: string;
  gray: string;
}

/**
 * Thumbnail candidates in one process: the source is opened once per shot, each input seeked
 * with `-ss` before `-i` (fast: jumps to the keyframe before, then decodes up to the exact time).
 * Each shot gives a JPEG of `size` and a 16x16 raw grayscale copy of the same frame (256 bytes)
 * to measure its brightness without an image library. `-update 1` writes a single image to a
 * plain file name (no %d pattern). No `-t`: each input yields one frame.
 */
export function buildThumbnailArgs(probe: ProbeResult, shots: readonly ThumbnailShot[], size: { width: number; height: number }, input: string): string[] {
  const v = videoIndex(probe);
  const guard = { ...sourceInputOf(probe), capS: null };
  const args: string[] = [...GLOBAL];
  for (const s of shots) args.push(...sourceInputArgs(input, { ...guard, seekS: s.timeS }));
  const graph = shots
    .map((_, i) => `[${i}:${v}]scale=${size.width}:${size.height},setsar=1,split=2[t${i}][p${i}];[p${i}]scale=${GRAY_PROBE_SIDE}:${GRAY_PROBE_SIDE},format=gray[g${i}]`)
    .join(";");
  args.push("-filter_complex", graph);
  shots.forEach((s, i) => {
    args.push(
      "-map", `[t${i}]`, "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", s.jpeg,
      "-map", `[g${i}]`, "-frames:v", "1", "-f", "rawvideo", s.gray,
    );
  });
  return args;
}

/**
 * A text subtitle stream (SubRip, mov_text, ASS/SSA, WebVTT) converted to WebVTT. ASS styling
 * and positioning are dropped by the conversion; the text and timing are kept. Read with the
 * source's bounds like the video (no picture is decoded, so `-max_pixels` is moot but harmless).
 */
export function buildSubtitleArgs(probe: ProbeResult, input: string, streamIndex: number, output: string): string[] {
  return [...GLOBAL, ...sourceInputArgs(input, sourceInputOf(probe)), "-map", `0:${streamIndex}`, "-c:s", "webvtt", "-f", "webvtt", output];
}
