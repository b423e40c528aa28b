/**
 * Judges a complete upload before anything expensive happens to it: magic bytes, then ffprobe
 * (bounded probe size, timeout), then the limits, then a real decode of a few frames. Runs
 * ffprobe/ffmpeg as child processes, so the event loop never blocks on a hostile file, and checks
 * the cheap limits (resolution, duration) from the probe *before* decoding, so a 16k×16k header
 * never gets a decoder to allocate for it.
 */
import { open } from "node:fs/promises";
import type { Config } from "../../config.js";
import type { MediaTools } from "../../platform/media/media-tools.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { limitForSource } from "../../platform/media/child-limits.js";
import { demuxerOf, maxPixelsFor } from "../../platform/media/input-guard.js";
import { decodeCheck, probe, ProbeError } from "../../platform/media/probe.js";
import type { FailureCode } from "../videos/index.js";
import { SNIFF_BYTES, sniffContainer } from "./container-sniffer.js";

export type ValidationOutcome = { ok: true; probe: ProbeResult } | { ok: false; code: FailureCode; message: string };

/** Frames that must decode: a header can probe fine over garbage. */
const DECODE_FRAMES = 3;

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const fail = (code: FailureCode, message: string): ValidationOutcome => ({ ok: false, code, message });

export async function validateVideoFile(
  file: string,
  size: number,
  deps: { config: Pick<Config, "upload">; media: Pick<MediaTools, "ffmpeg" | "ffprobe" | "memoryLimit"> },
  signal?: AbortSignal,
): Promise<ValidationOutcome> {
  const limits = deps.config.upload;
  if (size === 0) return fail("empty_file", "The file is empty.");
  const verdict = sniffContainer(await readHead(file, SNIFF_BYTES), size <= SNIFF_BYTES, limits.acceptedContainers);
  if (verdict && !verdict.ok) return fail(verdict.code, verdict.message);

  // ffprobe reads it with the demuxer the magic bytes named, and no other (input-guard.ts): the
  // probe that decides what the conversion does is of the container that was sniffed.
  const format = verdict?.ok ? demuxerOf(verdict.container) : null;
  let p: ProbeResult;
  try {
    p = await probe(deps.media, file, { timeoutS: limits.probeTimeoutS, requireVideo: false, format });
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err;
    if (err.code === "timeout") return fail("corrupt", `The file could not be analysed within ${limits.probeTimeoutS} s.`);
    return fail(err.code, err.code === "not_a_video" ? "This file is not a video ffmpeg can read." : "The file is damaged and cannot be read.");
  }
  if (!limits.acceptedContainers.includes(p.container)) {
    return fail("unsupported_container", `This video container is not supported (${p.formatName || "unknown"}).`);
  }
  if (!p.video) return fail("no_video_stream", "The file has no video stream (audio only?).");
  const v = p.video;
  if (v.width <= 0 || v.height <= 0) return fail("corrupt", "The video stream has no picture size.");
  const maxSide = Math.max(v.width, v.height, v.displayWidth, v.displayHeight);
  if (maxSide > limits.maxResolution) {
    return fail("resolution_too_large", `The video is ${v.width}×${v.height}; the limit is ${limits.maxResolution}×${limits.maxResolution}.`);
  }
  if (!Number.isFinite(p.durationS) || p.durationS <= 0) return fail("corrupt", "The video's duration cannot be determined.");
  if (p.durationS > limits.maxDurationS) {
    return fail("too_long", `The video lasts ${formatDuration(p.durationS)}; the limit is ${formatDuration(limits.maxDurationS)}.`);
  }
  const maxPixels = maxPixelsFor(v.width, v.height);
  const media = { ...deps.media, memoryLimit: limitForSource(deps.media.memoryLimit, maxPixels) };
  try {
    await decodeCheck(media, file, { frames: DECODE_FRAMES, timeoutS: limits.probeTimeoutS, signal, format, maxPixels });
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err;
    if (err.code === "limit_exceeded") return fail("limit_exceeded", `Decoding the video crossed a limit: ${err.message}.`);
    return fail("corrupt", err.code === "timeout" ? `Decoding did not finish within ${limits.probeTimeoutS} s.` : "The video stream cannot be decoded.");
  }
  return { ok: true, probe: p };
}

function formatDuration(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.round(s * 10) / 10} s`;
}
