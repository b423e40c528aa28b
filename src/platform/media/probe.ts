/**
 * ffprobe → `ProbeResult`. `probe()` runs ffprobe with bounded probing and a timeout;
 * `parseProbeJson()` is the pure normalization (rotation, SAR, VFR, bit depth, container), unit
 * tested against recorded ffprobe output; `decodeCheck()` proves frames actually decode (a file can
 * probe fine and still be garbage after the header).
 */
import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import type { AudioStreamInfo, ChapterInfo, ProbeResult, SubtitleStreamInfo, VideoStreamInfo } from "./media.types.js";
import { limitedCommand, type MemoryLimit } from "./child-limits.js";
import type { MediaTools } from "./media-tools.js";
import { FfmpegError, runFfmpeg } from "./ffmpeg-runner.js";
import { ownSegmentInputArgs, sourceInputArgs } from "./input-guard.js";

/** `limit_exceeded`: decoding crossed a bound (the probed picture size, the memory limit). */
export type ProbeErrorCode = "not_a_video" | "corrupt" | "timeout" | "limit_exceeded";

export class ProbeError extends Error {
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
    readonly stderrTail = "",
  ) {
    super(message);
    this.name = "ProbeError";
  }
}

// ---------------------------------------------------------------------------------------------
// Pure parsing

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
}

/** ffprobe prints most numbers as strings (`"duration": "3.000000"`), some as numbers, `N/A` when unknown. */
function numOrNull(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function intOrNull(v: unknown): number | null {
  const n = numOrNull(v);
  return n === null ? null : Math.round(n);
}

/** `30000/1001` → 29.97…; `0/0` → 0 */
function rational(v: unknown): number {
  const s = str(v);
  if (!s) return 0;
  const m = /^(-?\d+(?:\.\d+)?)(?:[/:](\d+(?:\.\d+)?))?$/.exec(s.trim());
  if (!m) return 0;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  return den > 0 && Number.isFinite(num / den) ? num / den : 0;
}

/** Container tags keep their source case (`LANGUAGE` in some Matroska muxers): look up case-insensitively. */
function tag(tags: Json, name: string): string | null {
  for (const [k, v] of Object.entries(tags)) if (k.toLowerCase() === name) return str(v);
  return null;
}

const FPS_SANE_MAX = 1000;

function isTextSubtitle(codec: string): boolean {
  return ["subrip", "srt", "mov_text", "ass", "ssa", "webvtt", "text"].includes(codec);
}

/**
 * Bits per component from a pixel format name: `yuv420p` 8, `yuv420p10le` 10, `p010le` 10,
 * `gray12le` 12, `rgb48le` 16 (48 bits over 3 components). Falls back to `bits_per_raw_sample`.
 */
export function bitDepthOf(pixFmt: string, bitsPerRawSample: number | null = null): number {
  const f = pixFmt.toLowerCase();
  const special: Record<string, number> = { p010: 10, p016: 16, p210: 10, p216: 16, p410: 10, p416: 16, p012: 12, p212: 12, p412: 12, y210: 10, y212: 12, x2rgb10: 10, x2bgr10: 10, xv30: 10, xv36: 12, v30x: 10 };
  const base = f.replace(/(le|be)$/, "");
  if (special[base] !== undefined) return special[base];
  if (/^(rgb|bgr)48/.test(f) || /^(rgba|bgra)64/.test(f) || /^ya16/.test(f) || /^ayuv64/.test(f)) return 16;
  const m = /(?:p|gray|gbrap|gbrp|ya)(\d{1,2})(?:le|be)?$/.exec(f);
  if (m) return Number(m[1]);
  if (f !== "" && /^(yuv|yuvj|nv|gray|rgb|bgr|argb|abgr|rgba|bgra|gbr|ya|uyvy|yuyv|yvyu|pal8|monow|monob)/.test(f)) return 8;
  return bitsPerRawSample && bitsPerRawSample > 0 ? bitsPerRawSample : 8;
}

/**
 * Display rotation in clockwise degrees (what a player must rotate the coded picture by),
 * normalized to 0/90/180/270. Newer ffprobe reports the display matrix as side data whose
 * `rotation` is counter-clockwise (an iPhone portrait clip says -90); older ffprobe (< 5.0)
 * showed the legacy `rotate` tag (clockwise, "90"). Side data wins when both exist.
 */
function rotationOf(stream: Json): number {
  let deg: number | null = null;
  for (const sd of arr(stream.side_data_list)) {
    const r = numOrNull(sd.rotation);
    if (r !== null && (str(sd.side_data_type) ?? "").toLowerCase().includes("display matrix")) {
      deg = -r;
      break;
    }
  }
  if (deg === null) {
    const t = numOrNull(tag(obj(stream.tags), "rotate"));
    if (t !== null) deg = t;
  }
  if (deg === null) return 0;
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

function sarOf(stream: Json): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(str(stream.sample_aspect_ratio) ?? "");
  // `0:1` / `N/A` / absent mean "unknown", which players treat as square.
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) return [1, 1];
  const a = Number(m[1]);
  const b = Number(m[2]);
  const g = gcd(a, b);
  return [a / g, b / g];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Normalized container name. The `mov,mp4,m4a,3gp,3g2,mj2` demuxer covers QuickTime and all ISO
 * BMFF files alike, so the `ftyp` major brand decides: `qt  ` is QuickTime, `M4V*` iTunes video,
 * everything else (isom, mp41/42, avc1, 3gp, dash…) MP4; no ftyp at all is an old QuickTime file.
 * `matroska,webm` likewise: WebM is Matroska restricted to VP8/VP9/AV1 video, Vorbis/Opus audio
 * and WebVTT text; ffprobe does not print the EBML DocType, so the codecs decide.
 */
function containerOf(formatName: string, tags: Json, codecs: { video: string[]; audio: string[]; subtitle: string[] }): string {
  const names = formatName.split(",");
  if (names.includes("mov") || names.includes("mp4")) {
    const brand = (tag(tags, "major_brand") ?? "").trim().toLowerCase();
    if (brand === "") return "mov";
    if (brand === "qt") return "mov";
    if (brand.startsWith("m4v")) return "m4v";
    return "mp4";
  }
  if (names.includes("matroska") || names.includes("webm")) {
    const doctype = (tag(tags, "doctype") ?? "").toLowerCase();
    if (doctype === "webm") return "webm";
    if (doctype === "matroska") return "mkv";
    const webm =
      codecs.video.length > 0 &&
      codecs.video.every((c) => ["vp8", "vp9", "av1"].includes(c)) &&
      codecs.audio.every((c) => ["vorbis", "opus"].includes(c)) &&
      codecs.subtitle.every((c) => c === "webvtt");
    return webm ? "webm" : "mkv";
  }
  if (names.includes("mpegts")) return "mpegts";
  if (names.includes("avi")) return "avi";
  if (names.includes("ogg")) return "ogg";
  return "other";
}

/** Stream bit rate; Matroska muxers store it only as a statistics tag (`BPS`, `BPS-eng`). */
function streamBitRate(stream: Json): number | null {
  const direct = intOrNull(stream.bit_rate);
  if (direct !== null && direct > 0) return direct;
  const tags = obj(stream.tags);
  const bps = intOrNull(tag(tags, "bps") ?? tag(tags, "bps-eng"));
  return bps !== null && bps > 0 ? bps : null;
}

function languageTag(stream: Json): string | null {
  const l = tag(obj(stream.tags), "language");
  // MP4 writes `und` for "no language": treat it as absent so a default language can apply.
  if (l === null || l.trim() === "" || l.trim().toLowerCase() === "und") return null;
  return l.trim();
}

function videoInfo(s: Json): VideoStreamInfo {
  const width = intOrNull(s.width) ?? 0;
  const height = intOrNull(s.height) ?? 0;
  const sar = sarOf(s);
  const rotation = rotationOf(s);
  // Square the pixels first (SAR stretches the coded width), then rotate.
  const sqW = Math.round((width * sar[0]) / sar[1]);
  const [displayWidth, displayHeight] = rotation === 90 || rotation === 270 ? [height, sqW] : [sqW, height];
  const avg = rational(s.avg_frame_rate);
  const r = rational(s.r_frame_rate);
  const okAvg = avg > 0 && avg <= FPS_SANE_MAX;
  const okR = r > 0 && r <= FPS_SANE_MAX;
  const fps = okAvg ? avg : okR ? r : 0;
  // r_frame_rate is the lowest rate that represents every timestamp, avg the real average; on a
  // constant-rate file they agree. Phones record VFR (avg 29.6 vs r 30), Matroska often says
  // r=1000 (its millisecond time base): both are VFR for us. 0.5% tolerates rounded mp4 durations.
  const isVfr = okAvg && r > 0 && Math.abs(r - avg) / Math.max(r, avg) > 0.005;
  const pixFmt = str(s.pix_fmt) ?? "";
  return {
    index: intOrNull(s.index) ?? 0,
    codec: str(s.codec_name) ?? "unknown",
    width,
    height,
    displayWidth,
    displayHeight,
    rotation,
    sar,
    fps: Math.round(fps * 1000) / 1000,
    isVfr,
    pixFmt,
    bitDepth: bitDepthOf(pixFmt, intOrNull(s.bits_per_raw_sample)),
    bitRate: streamBitRate(s),
  };
}

/**
 * Normalizes the JSON of `ffprobe -print_format json -show_format -show_streams -show_chapters`.
 * Pure. The video stream is the first one that is not cover art (`attached_pic`).
 */
export function parseProbeJson(json: unknown): ProbeResult {
  const root = obj(json);
  const format = obj(root.format);
  const streams = arr(root.streams);
  const formatName = str(format.format_name) ?? "";

  const videoStream = streams.find((s) => s.codec_type === "video" && intOrNull(obj(s.disposition).attached_pic) !== 1);
  const video = videoStream ? videoInfo(videoStream) : null;

  const audio: AudioStreamInfo[] = streams
    .filter((s) => s.codec_type === "audio")
    .map((s) => ({
      index: intOrNull(s.index) ?? 0,
      codec: str(s.codec_name) ?? "unknown",
      channels: intOrNull(s.channels) ?? 0,
      sampleRate: intOrNull(s.sample_rate) ?? 0,
      language: languageTag(s),
      title: tag(obj(s.tags), "title"),
      bitRate: streamBitRate(s),
      isDefault: intOrNull(obj(s.disposition).default) === 1,
    }));

  const subtitles: SubtitleStreamInfo[] = streams
    .filter((s) => s.codec_type === "subtitle")
    .map((s) => {
      const codec = str(s.codec_name) ?? "unknown";
      return { index: intOrNull(s.index) ?? 0, codec, language: languageTag(s), title: tag(obj(s.tags), "title"), isText: isTextSubtitle(codec) };
    });

  const chapters: ChapterInfo[] = arr(root.chapters).map((c) => ({
    start: numOrNull(c.start_time) ?? 0,
    end: numOrNull(c.end_time) ?? 0,
    title: tag(obj(c.tags), "title") ?? "",
  }));

  let durationS = numOrNull(format.duration);
  if (durationS === null || durationS <= 0) {
    // Some containers (raw streams, broken mkv) have no format duration: use the longest stream's.
    durationS = Math.max(0, ...streams.map((s) => numOrNull(s.duration) ?? 0));
  }
  const bitRate = intOrNull(format.bit_rate);

  return {
    container: containerOf(formatName, obj(format.tags), {
      video: streams.filter((s) => s.codec_type === "video").map((s) => str(s.codec_name) ?? ""),
      audio: audio.map((a) => a.codec),
      subtitle: subtitles.map((s) => s.codec),
    }),
    formatName,
    durationS,
    sizeBytes: intOrNull(format.size) ?? 0,
    bitRate: bitRate !== null && bitRate > 0 ? bitRate : null,
    video,
    audio,
    subtitles,
    chapters,
  };
}

// ---------------------------------------------------------------------------------------------
// Running ffprobe

/**
 * Probing reads at most this much (bytes / µs of media) to find the streams: enough for files
 * whose audio starts late or with many streams, bounded so a hostile file cannot make ffprobe
 * read gigabytes (ffprobe's defaults are 5 MB / 5 s).
 */
export const PROBE_SIZE = 50_000_000;
export const ANALYZE_DURATION_US = 20_000_000;

interface Captured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Uint8Array;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a short-lived child (ffprobe, a one-frame ffmpeg) under the memory limit's hard ceiling.
 * No watchdog: these children read a bounded amount (PROBE_SIZE, one frame), so an allocation
 * that fails just fails the probe.
 */
function capture(
  file: string,
  args: string[],
  timeoutS: number,
  limit: MemoryLimit | null | undefined,
  maxStdout = 32 * 1024 * 1024,
  mode: "text" | "buffer" = "text",
): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const cmd = limitedCommand(file, args, limit);
    const child = spawn(cmd.file, cmd.args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const out: Buffer[] = [];
    let outLen = 0;
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // ffprobe has nothing worth flushing: kill outright.
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    timer.unref();
    child.stdout.on("data", (b: Buffer) => {
      outLen += b.length;
      if (outLen <= maxStdout) out.push(b);
      else child.kill("SIGKILL");
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      stderr = (stderr + s).slice(-8192);
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolve({ code, signal, stdout: mode === "text" ? bytes.toString("utf8") : "", stdoutBytes: bytes, stderr, timedOut });
    });
  });
}

function classify(stderr: string): ProbeErrorCode {
  // A container the demuxer recognised but whose structure is broken (upload cut short: the mp4
  // index `moov` is written last by most encoders) is "corrupt"; input no demuxer recognises at
  // all is "not a video". ffprobe prints "Invalid data found when processing input" for both, so
  // the more specific line decides.
  if (/moov atom not found|File ended prematurely|truncat|error reading header|No such file/i.test(stderr)) return "corrupt";
  // "Format tty not on whitelist": a demuxer recognised it, but not a video container we read
  // (text, a playlist…; see input-guard.ts).
  return /Invalid data found when processing input|unknown format|could not find codec parameters|not on whitelist/i.test(stderr) ? "not_a_video" : "corrupt";
}

export interface ProbeOptions {
  timeoutS: number;
  /** throw `not_a_video` when there is no (non cover-art) video stream; default true */
  requireVideo?: boolean;
  /**
   * the ffmpeg demuxer the magic bytes say (input-guard.ts `demuxerOf`), forced with `-f`; without
   * it ffprobe still chooses among the accepted containers' demuxers only
   */
  format?: string | null;
}

/** The ffprobe argv of `probe()` (pure). */
export function probeArgs(filePath: string, format: string | null = null): string[] {
  return [
    "-v", "error",
    "-probesize", String(PROBE_SIZE),
    "-analyzeduration", String(ANALYZE_DURATION_US),
    "-print_format", "json",
    "-show_format", "-show_streams", "-show_chapters",
    ...sourceInputArgs(filePath, { format }),
  ];
}

export async function probe(tools: Pick<MediaTools, "ffprobe" | "memoryLimit">, filePath: string, opts: ProbeOptions): Promise<ProbeResult> {
  const args = probeArgs(filePath, opts.format ?? null);
  let res: Captured;
  try {
    res = await capture(tools.ffprobe, args, opts.timeoutS, tools.memoryLimit);
  } catch (err) {
    throw new ProbeError("corrupt", `cannot run ffprobe: ${(err as Error).message}`);
  }
  if (res.timedOut) throw new ProbeError("timeout", `ffprobe did not finish within ${opts.timeoutS} s`, res.stderr);
  if (res.signal !== null || (res.code !== null && res.code > 128)) {
    // Killed by a signal: ffprobe itself crashed (seen with the npm-bundled static build on some
    // MPEG-TS files). Say so instead of blaming the file.
    throw new ProbeError("corrupt", `ffprobe crashed (${res.signal ?? `exit ${res.code}`}) reading the file`, res.stderr);
  }
  if (res.code !== 0) {
    const code = classify(res.stderr);
    const line = res.stderr.trim().split("\n").pop() ?? "";
    throw new ProbeError(code, code === "not_a_video" ? `not a video file: ${line}` : `the file is damaged: ${line}`, res.stderr);
  }
  let json: unknown;
  try {
    json = JSON.parse(res.stdout);
  } catch {
    throw new ProbeError("corrupt", "ffprobe printed invalid JSON", res.stderr);
  }
  const result = parseProbeJson(json);
  if (opts.requireVideo ?? true) {
    if (!result.video) throw new ProbeError("not_a_video", "the file has no video stream", res.stderr);
    if (result.video.width <= 0 || result.video.height <= 0) throw new ProbeError("corrupt", "the video stream has no picture size", res.stderr);
  }
  return result;
}

/** The ffmpeg argv of `decodeCheck()` (pure). */
export function decodeCheckArgs(filePath: string, frames: number, input: { format?: string | null; maxPixels?: number | null } = {}): string[] {
  return ["-v", "error", ...sourceInputArgs(filePath, input), "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", String(frames), "-f", "null", "-"];
}

/**
 * Decodes the first `frames` video frames to nothing (`-f null -`) and rejects with `corrupt`
 * when none decode. `-xerror` is not used: a few broken frames at the start of a phone clip are
 * common and playable; zero frames is not. `format` and `maxPixels` bound the read as in the
 * conversion (input-guard.ts); a frame past `maxPixels` rejects with `limit_exceeded`.
 */
export async function decodeCheck(
  tools: Pick<MediaTools, "ffmpeg" | "memoryLimit">,
  filePath: string,
  opts: { frames?: number; timeoutS: number; signal?: AbortSignal; format?: string | null; maxPixels?: number | null },
): Promise<{ frames: number }> {
  const frames = opts.frames ?? 5;
  try {
    const res = await runFfmpeg(tools, decodeCheckArgs(filePath, frames, { format: opts.format, maxPixels: opts.maxPixels }), {
      timeoutS: opts.timeoutS,
      signal: opts.signal,
    });
    const decoded = res.last?.frame ?? 0;
    if (decoded <= 0) throw new ProbeError("corrupt", "no video frame could be decoded", res.stderrTail);
    return { frames: decoded };
  } catch (err) {
    if (err instanceof ProbeError) throw err;
    if (err instanceof FfmpegError) {
      if (err.code === "timeout") throw new ProbeError("timeout", `decoding did not finish within ${opts.timeoutS} s`, err.stderrTail);
      if (err.code === "cancelled") throw err;
      if (err.code === "limit_exceeded") throw new ProbeError("limit_exceeded", err.message, err.stderrTail);
      // The file already probed as a video: failing to decode it means damaged data.
      throw new ProbeError("corrupt", `no video frame could be decoded: ${err.message}`, err.stderrTail);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 6381 codec strings of encoded outputs

/** Bytes of an ffprobe `-show_data` hexdump (`00000000: 0000 0167 42c0 1eda …  ...gB...`). */
export function parseHexdump(dump: string): Uint8Array {
  const bytes: number[] = [];
  for (const line of dump.split("\n")) {
    const m = /^[0-9a-f]{8}:((?: [0-9a-f]{2,4})+)/i.exec(line.trim());
    if (!m) continue;
    for (const group of m[1]!.trim().split(/\s+/)) {
      for (let i = 0; i + 1 < group.length; i += 2) bytes.push(parseInt(group.slice(i, i + 2), 16));
    }
  }
  return Uint8Array.from(bytes);
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/**
 * `avc1.PPCCLL` (RFC 6381 §3.3: profile_idc, the constraint-flags byte, level_idc, in hex) from
 * H.264 extradata: either an avcC record (MP4/fMP4: version 1, then those three bytes) or Annex B
 * (MPEG-TS: start code, then the SPS NAL whose first three payload bytes are the same fields).
 * The real bytes matter: x264 silently lowers the profile for fast presets (ultrafast turns off
 * CABAC and B-frames and emits Constrained Baseline, `42c0xx`, whatever -profile:v says), and
 * Safari refuses variants whose CODECS do not match.
 */
export function avcCodecString(extradata: Uint8Array): string | null {
  if (extradata.length >= 4 && extradata[0] === 1) {
    return `avc1.${hex2(extradata[1]!)}${hex2(extradata[2]!)}${hex2(extradata[3]!)}`;
  }
  for (let i = 0; i + 6 < extradata.length; i++) {
    if (extradata[i] === 0 && extradata[i + 1] === 0 && extradata[i + 2] === 1 && (extradata[i + 3]! & 0x1f) === 7) {
      return `avc1.${hex2(extradata[i + 4]!)}${hex2(extradata[i + 5]!)}${hex2(extradata[i + 6]!)}`;
    }
  }
  return null;
}

/** avcC record inside an MP4/fMP4 init section: the box type, then version 1 and the three bytes. */
export function avcCodecFromIsoBmff(bytes: Uint8Array): string | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = buf.indexOf("avcC"); i >= 0; i = buf.indexOf("avcC", i + 4)) {
    const rec = buf.subarray(i + 4, i + 8);
    if (rec.length === 4 && rec[0] === 1) return avcCodecString(rec);
  }
  return null;
}

/**
 * The RFC 6381 string of the first video stream of an encoded file (an HLS segment, an fMP4 init
 * section, an MP4), e.g. `avc1.64001f`; null when it is not H.264 or has no readable SPS.
 *
 * Init sections are read directly (they hold the avcC record but no frame). Anything else goes
 * through ffmpeg: the first frame stream-copied to raw Annex B (`-f h264`), which starts with the
 * SPS. ffprobe is deliberately not used: the npm-bundled ffprobe build segfaults on the MPEG-TS
 * segments ffmpeg's HLS muxer writes.
 */
export async function videoCodecString(tools: Pick<MediaTools, "ffmpeg" | "memoryLimit">, filePath: string, opts: { timeoutS: number }): Promise<string | null> {
  const fh = await open(filePath, "r");
  let head: Buffer;
  try {
    const b = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    head = b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const fromInit = avcCodecFromIsoBmff(head);
  if (fromInit) return fromInit;
  const res = await capture(
    tools.ffmpeg,
    ["-nostdin", "-v", "error", ...ownSegmentInputArgs(filePath), "-map", "0:v:0", "-c:v", "copy", "-frames:v", "1", "-f", "h264", "pipe:1"],
    opts.timeoutS,
    tools.memoryLimit,
    16 * 1024 * 1024,
    "buffer",
  );
  if (res.timedOut || res.code !== 0) return null;
  return avcCodecString(res.stdoutBytes);
}
