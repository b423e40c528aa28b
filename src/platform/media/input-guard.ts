/**
 * What an ffmpeg/ffprobe child may open and decode when it reads an input: pure argv pieces that go
 * before `-i`, so the builders can put them in every command and the tests can compare exact arrays.
 *
 * Two fences on every input:
 * - `-protocol_whitelist file`: every input is a local file (the worker's fetch phase downloads S3
 *   sources first; uploads are staged on disk), so no `http`, `tcp`, `concat:`, `subfile`, `data:`…
 *   can be opened by a playlist or a nested demuxer. Nested opens inherit the list (avformat's
 *   `io_open` and `ff_copy_whiteblacklists`).
 * - `-format_whitelist` (plus `-f` when the container is known): the demuxer is the one the magic
 *   bytes and the probe found, never one ffmpeg guesses. Without it the system ffprobe opens a text
 *   file that says `#EXTM3U` as HLS whatever its name, and the bundled 4.1 ffmpeg follows the
 *   playlist to any local file; the AVI demuxer opens GAB2 subtitle streams with a nested demuxer of
 *   its own choosing (the known HLS-in-AVI trick). Nested demuxers inherit the whitelist too, so a
 *   GAB2 stream inside an AVI is simply not read.
 *
 * And on uploads' sources, the decode itself is bounded by what the probe saw (a header can lie):
 * `-max_pixels` stops frames that grow past the probed size, `-t` stops reading past the probed
 * duration (see the constants below for the margins).
 */
import type { ProbeResult } from "./media.types.js";

/** ffmpeg demuxer of each accepted container (the names of `ACCEPTED_CONTAINERS` and `ProbeResult.container`). */
export const SOURCE_DEMUXERS: Readonly<Record<string, string>> = {
  mp4: "mov",
  mov: "mov",
  m4v: "mov",
  mkv: "matroska",
  webm: "matroska",
  avi: "avi",
  mpegts: "mpegts",
  ogg: "ogg",
};

/** Every source demuxer: the whitelist when the container is not known (a caller without a sniff). */
export const ANY_SOURCE_DEMUXER = "mov,matroska,avi,mpegts,ogg";

/** The only protocol an input may use: see the file comment. */
export const PROTOCOLS = "file";

/** The demuxer for a container name, null for one we do not accept (`other`). */
export function demuxerOf(container: string | null | undefined): string | null {
  return container ? (SOURCE_DEMUXERS[container] ?? null) : null;
}

/** Headroom over the largest check a decoder makes for the probed picture (see maxPixelsFor). */
export const MAX_PIXELS_HEADROOM = 1.1;
/**
 * Lines of the edge-emulation scratch buffer the mpegvideo decoders (MPEG-1/2/4, H.263,
 * MS-MPEG4) check against `max_pixels` (EMU_EDGE_HEIGHT in libavcodec/mpegpicture.c, ffmpeg 5.x).
 */
const EDGE_EMU_LINES = 280;

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/**
 * The decoders' `-max_pixels` for a picture probed at `width`×`height` (coded size); null when
 * unknown. Not the bare product: what decoders check against the limit is larger, and a limit
 * below it refuses honest files (measured by bisecting `-max_pixels` on generated clips of
 * h264, hevc, mpeg4, mpeg2, msmpeg4, h263p, mjpeg, vp8, vp9, av1, theora, prores, dnxhd):
 * - each frame is checked as `FFALIGN(width, STRIDE_ALIGN) × height` (STRIDE_ALIGN up to 64 with
 *   AVX-512), and coded sizes are whole macroblocks/CTUs (a 1080p Theora frame is 1920×1088):
 *   each side rounded up to 64 covers both;
 * - the mpegvideo decoders also check a 280-line scratch buffer as wide as the stride plus 64,
 *   more than the frame itself below 280 lines (a 320×240 MPEG-4 AVI needs 448×280 = 125,440);
 *   `align64(width) + 128` bounds that width.
 * The 10 % on top is for sequence headers whose cropping differs a little from the first one's;
 * anything bigger is a stream that grows past what the probe and MAX_RESOLUTION saw.
 */
export function maxPixelsFor(width: number, height: number): number | null {
  if (!(width > 0) || !(height > 0)) return null;
  const checked = Math.max(align64(width) * align64(height), (align64(width) + 128) * EDGE_EMU_LINES);
  // ×11/10 in integers: 983040 × 1.1 is 1081344.0000000002 in floating point.
  return Math.ceil((checked * Math.round(MAX_PIXELS_HEADROOM * 10)) / 10);
}

/**
 * Reading stops this far past the probed duration: 2 % plus 1 s. The container's duration is the
 * longest stream's as the header or the last timestamps say, so a real file never runs past it by
 * more than a frame or an audio packet (AAC priming, rounded mp4 durations); a header that claims
 * 5 s over 60 s of frames gets 6.1 s.
 */
export function durationCapS(durationS: number): number {
  return Math.round((durationS * 1.02 + 1) * 1000) / 1000;
}

/**
 * Most frames an encode at `fps` may write from a source probed at `durationS`: the frames of
 * one second past the capped duration. A check behind `-t`, for inputs whose timestamps do not let
 * `-t` bite; the second is slack for the `fps` filter, which at the end repeats the last frame to
 * cover its duration (a 5 s claim capped at 6.1 s writes 154 frames at 25 fps).
 */
export function frameLimit(durationS: number, fps: number): number {
  return Math.ceil((durationCapS(durationS) + 1) * fps);
}

export interface SourceInput {
  /** ffmpeg demuxer forced with `-f` (also the format whitelist); null: any accepted demuxer */
  format?: string | null;
  /** decoders' `-max_pixels`; null: none */
  maxPixels?: number | null;
  /** input `-t`, seconds: stop reading there; null: the whole input */
  capS?: number | null;
  /** input `-ss`, seconds (fast seek before decoding) */
  seekS?: number | null;
}

/** The bounds of every read of an upload's source, from its probe. */
export function sourceInputOf(probe: Pick<ProbeResult, "container" | "durationS" | "video">): SourceInput {
  return {
    format: demuxerOf(probe.container),
    maxPixels: probe.video ? maxPixelsFor(probe.video.width, probe.video.height) : null,
    capS: probe.durationS > 0 ? durationCapS(probe.durationS) : null,
  };
}

/** `… -i file` for an upload's source (or any input of unknown origin): the fences and bounds above. */
export function sourceInputArgs(file: string, g: SourceInput = {}): string[] {
  const format = g.format ?? null;
  const args = ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", format ?? ANY_SOURCE_DEMUXER];
  if (format) args.push("-f", format);
  if (g.maxPixels) args.push("-max_pixels", String(g.maxPixels));
  if (g.seekS !== undefined && g.seekS !== null) args.push("-ss", g.seekS.toFixed(3));
  if (g.capS) args.push("-t", g.capS.toFixed(3));
  args.push("-i", file);
  return args;
}

/**
 * `… -i playlist` for an HLS playlist the conversion wrote itself (the MP4 remux, the storyboard):
 * the HLS demuxer and the two segment formats it may open (MPEG-TS, fMP4 through `mov`).
 */
export function ownHlsInputArgs(playlist: string): string[] {
  return ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", playlist];
}

/** `… -i file` for one segment or init section the conversion wrote (MPEG-TS or fMP4). */
export function ownSegmentInputArgs(file: string): string[] {
  return ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", "mpegts,mov", "-i", file];
}
