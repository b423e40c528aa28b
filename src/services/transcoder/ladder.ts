/**
 * The encoding ladder: which renditions a source gets, at what size, frame rate, bitrate and
 * H.264 profile/level. Pure; `buildLadder` is the only place these decisions are made.
 */
import type { ProbeResult } from "../../platform/media/media.types.js";
import type { TranscodeOptions } from "../../contracts/transcode.messages.js";
import { languageName, toBcp47, UNDETERMINED } from "./languages.js";
import { assertNever } from "../../lib/assert-never.js";

export type H264Profile = "main" | "high";

export interface Rung {
  /** `<short side>p`: a 1080x1920 portrait rung is `1080p` */
  quality: string;
  /** output frame size, even (4:2:0 chroma needs even dimensions) */
  width: number;
  height: number;
  shortSide: number;
  /** constant output frame rate, and the same as an ffmpeg rational (`30000/1001`) */
  fps: number;
  fpsArg: string;
  /** frames per segment: the GOP length, so every segment starts with a keyframe */
  gop: number;
  /** bit/s */
  videoBitrate: number;
  maxrate: number;
  bufsize: number;
  profile: H264Profile;
  /** H.264 level, e.g. `3.1` */
  level: string;
}

export type LadderOptions = Pick<TranscodeOptions, "ladder" | "maxFps" | "segmentS">;

/**
 * Target video bitrates (kbit/s) at <= 30 fps by short side. Roughly the common public ladders
 * (Apple's HLS authoring spec, YouTube's recommendations) for H.264 at `veryfast`; other heights
 * are interpolated linearly between neighbours and, outside the table, scaled with pixel count.
 */
export const BITRATE_TABLE_KBPS: ReadonlyArray<readonly [shortSide: number, kbps: number]> = [
  [240, 400],
  [360, 800],
  [480, 1200],
  [720, 2800],
  [1080, 5000],
  [1440, 9000],
  [2160, 16000],
];

/** > 30 fps costs more bits for the same quality; 1.5x is the usual allowance (YouTube uses ~1.5x for 60 fps). */
export const HIGH_FPS_FACTOR = 1.5;
/** VBV: peaks up to 1.5x the average, over a buffer of 2x the average (about 1.3 s at peak rate). */
export const MAXRATE_FACTOR = 1.5;
export const BUFSIZE_FACTOR = 2;

export function tableBitrateKbps(shortSide: number): number {
  const first = BITRATE_TABLE_KBPS[0]!;
  const last = BITRATE_TABLE_KBPS[BITRATE_TABLE_KBPS.length - 1]!;
  if (shortSide <= first[0]) return Math.max(100, Math.round(first[1] * (shortSide / first[0]) ** 2));
  if (shortSide >= last[0]) return Math.round(last[1] * (shortSide / last[0]) ** 2);
  for (let i = 1; i < BITRATE_TABLE_KBPS.length; i++) {
    const [h1, b1] = BITRATE_TABLE_KBPS[i]!;
    const [h0, b0] = BITRATE_TABLE_KBPS[i - 1]!;
    if (shortSide <= h1) return Math.round(b0 + ((b1 - b0) * (shortSide - h0)) / (h1 - h0));
  }
  return last[1];
}

/**
 * H.264 levels (ITU-T H.264 Table A-1): max macroblocks per frame, per second, and max video
 * bitrate for Main (kbit/s; High allows 1.25x). The lowest level that fits goes into both
 * `-level` and the variant's CODECS, so a device can tell before downloading whether it decodes it.
 */
const LEVELS: ReadonlyArray<{ level: string; maxFs: number; maxMbps: number; maxBrKbps: number }> = [
  { level: "2.1", maxFs: 792, maxMbps: 19_800, maxBrKbps: 4_000 },
  { level: "2.2", maxFs: 1_620, maxMbps: 20_250, maxBrKbps: 4_000 },
  { level: "3.0", maxFs: 1_620, maxMbps: 40_500, maxBrKbps: 10_000 },
  { level: "3.1", maxFs: 3_600, maxMbps: 108_000, maxBrKbps: 14_000 },
  { level: "3.2", maxFs: 5_120, maxMbps: 216_000, maxBrKbps: 20_000 },
  { level: "4.0", maxFs: 8_192, maxMbps: 245_760, maxBrKbps: 20_000 },
  { level: "4.1", maxFs: 8_192, maxMbps: 245_760, maxBrKbps: 50_000 },
  { level: "4.2", maxFs: 8_704, maxMbps: 522_240, maxBrKbps: 50_000 },
  { level: "5.0", maxFs: 22_080, maxMbps: 589_824, maxBrKbps: 135_000 },
  { level: "5.1", maxFs: 36_864, maxMbps: 983_040, maxBrKbps: 240_000 },
  { level: "5.2", maxFs: 36_864, maxMbps: 2_073_600, maxBrKbps: 240_000 },
  { level: "6.0", maxFs: 139_264, maxMbps: 4_177_920, maxBrKbps: 240_000 },
  { level: "6.1", maxFs: 139_264, maxMbps: 8_355_840, maxBrKbps: 480_000 },
  { level: "6.2", maxFs: 139_264, maxMbps: 16_711_680, maxBrKbps: 800_000 },
];


function brFactor(profile: H264Profile): number {
  switch (profile) {
    case "main":
      return 1;
    case "high":
      return 1.25;
    default:
      return assertNever(profile);
  }
}

export function h264Level(width: number, height: number, fps: number, maxrate: number, profile: H264Profile): string {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const mbps = mbs * fps;
  // Annex A also bounds each side: at most sqrt(8 * MaxFS) macroblocks wide or high.
  const side = Math.max(Math.ceil(width / 16), Math.ceil(height / 16));
  const fit = LEVELS.find(
    (l) => mbs <= l.maxFs && mbps <= l.maxMbps && side <= Math.sqrt(8 * l.maxFs) && maxrate / 1000 <= l.maxBrKbps * brFactor(profile),
  );
  return (fit ?? LEVELS[LEVELS.length - 1]!).level;
}

/** Small rungs use Main for the old/cheap decoders that get them; the rest High (≈10% fewer bits). */
export function profileFor(shortSide: number): H264Profile {
  return shortSide <= 360 ? "main" : "high";
}

const even = (x: number) => Math.max(2, Math.round(x / 2) * 2);
const evenDown = (x: number) => Math.max(2, Math.floor(x / 2) * 2);

/** Frame rates a VFR phone clip is snapped to (the nearest one). */
const STANDARD_FPS = [12, 15, 24, 25, 30, 48, 50, 60, 90, 120, 144, 240];

/** fps as a reduced fraction; NTSC rates (23.976, 29.97, 59.94) exactly as N*1000/1001. */
function fpsRational(fps: number): [number, number] {
  for (const k of [24, 30, 48, 60, 120, 240]) {
    if (Math.abs(fps - (k * 1000) / 1001) < 0.006) return [k * 1000, 1001];
  }
  if (Math.abs(fps - Math.round(fps)) < 0.006) return [Math.round(fps), 1];
  const num = Math.round(fps * 1000);
  const g = gcd(num, 1000);
  return [num / g, 1000 / g];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Output frame rate: constant (HLS segments and the GOP are counted in frames). A VFR source is
 * snapped to the nearest standard rate; 0 (unknown) becomes 30. Above `maxFps` the rate is divided
 * by the smallest integer that fits (120 → 60, 50 → 25, 59.94 → 29.97) so frames are dropped
 * evenly instead of juddering (60 → 48 would repeat a pattern of drops).
 */
export function outputFps(sourceFps: number, isVfr: boolean, maxFps: number): { fps: number; fpsArg: string } {
  let [num, den] = fpsRational(sourceFps > 0 ? sourceFps : 30);
  if (isVfr && sourceFps > 0) {
    const snapped = STANDARD_FPS.reduce((best, f) => (Math.abs(f - sourceFps) < Math.abs(best - sourceFps) ? f : best));
    [num, den] = [snapped, 1];
  }
  if (num / den > maxFps) {
    const n = Math.ceil(num / den / maxFps - 1e-9);
    den *= n;
    const g = gcd(num, den);
    [num, den] = [num / g, den / g];
  }
  return { fps: Math.round((num / den) * 1000) / 1000, fpsArg: den === 1 ? String(num) : `${num}/${den}` };
}

/**
 * The source video's bitrate: the stream's, else the container's minus its audio (an unknown
 * audio bitrate counted as 128k); null when neither is known.
 */
export function sourceVideoBitrate(probe: ProbeResult): number | null {
  if (probe.video?.bitRate) return probe.video.bitRate;
  if (!probe.bitRate) return null;
  const audio = probe.audio.reduce((sum, a) => sum + (a.bitRate ?? 128_000), 0);
  const v = probe.bitRate - audio;
  return v > 0 ? v : null;
}

/**
 * Rungs for a source, smallest first:
 * - every configured height <= the source's display short side (never upscale);
 * - plus the source's own short side when it falls between the lowest and highest configured
 *   heights (a 600p source gets 240p, 480p, 600p), so the best rung loses no resolution. Above
 *   the top configured height the ladder's top is the ceiling: LADDER is the operator's cost cap;
 * - a source smaller than the lowest height gets one rung at its own size.
 * Sizes keep the displayed aspect ratio (after rotation and SAR) and are even.
 */
export function buildLadder(probe: ProbeResult, opts: LadderOptions): Rung[] {
  const v = probe.video;
  if (!v) throw new Error("buildLadder: the source has no video stream");
  if (v.displayWidth <= 0 || v.displayHeight <= 0) throw new Error("buildLadder: the source has no picture size");
  const dw = v.displayWidth;
  const dh = v.displayHeight;
  const landscape = dw >= dh;
  const sourceShort = evenDown(Math.min(dw, dh));
  const ladder = [...new Set(opts.ladder.map(evenDown))].sort((a, b) => a - b);
  if (ladder.length === 0) throw new Error("buildLadder: empty ladder");

  let shorts = ladder.filter((h) => h <= sourceShort);
  if (shorts.length === 0) shorts = [sourceShort];
  else if (!shorts.includes(sourceShort) && sourceShort < ladder[ladder.length - 1]!) shorts.push(sourceShort);

  const { fps, fpsArg } = outputFps(v.fps, v.isVfr, opts.maxFps);
  const srcBitrate = sourceVideoBitrate(probe);

  return shorts.map((short): Rung => {
    const long = short === sourceShort ? evenDown(Math.max(dw, dh) * (sourceShort / Math.min(dw, dh))) : even((short * Math.max(dw, dh)) / Math.min(dw, dh));
    const [width, height] = landscape ? [long, short] : [short, long];
    let kbps = tableBitrateKbps(short) * (fps > 30 ? HIGH_FPS_FACTOR : 1);
    if (srcBitrate !== null) kbps = Math.min(kbps, srcBitrate / 1000);
    const videoBitrate = Math.max(1, Math.round(kbps)) * 1000;
    const maxrate = Math.round(videoBitrate * MAXRATE_FACTOR);
    const profile = profileFor(short);
    return {
      quality: `${short}p`,
      width,
      height,
      shortSide: short,
      fps,
      fpsArg,
      gop: Math.max(1, Math.round(fps * opts.segmentS)),
      videoBitrate,
      maxrate,
      bufsize: Math.round(videoBitrate * BUFSIZE_FACTOR),
      profile,
      level: h264Level(width, height, fps, maxrate, profile),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Audio renditions

export interface AudioPlan {
  /** absolute stream index in the source (`-map 0:<index>`) */
  streamIndex: number;
  /** BCP-47 short form */
  language: string;
  /** unique within the video (HLS: NAMEs in one group MUST differ, RFC 8216 §4.3.4.1.1) */
  name: string;
  /** directory under `hls/audio/`: the language when it identifies the track, else its position */
  dir: string;
  isDefault: boolean;
}

/** Every audio stream becomes one AAC rendition. Language: tag, else the upload's default, else `und`. */
export function planAudio(probe: ProbeResult, defaultLanguage: string | null): AudioPlan[] {
  const langs = probe.audio.map((a) => {
    const tagged = toBcp47(a.language);
    return tagged !== UNDETERMINED ? tagged : toBcp47(defaultLanguage);
  });
  const defaultPos = Math.max(0, probe.audio.findIndex((a) => a.isDefault));
  const usedNames = new Set<string>();
  return probe.audio.map((a, i) => {
    const language = langs[i]!;
    const unique = language !== UNDETERMINED && langs.filter((l) => l === language).length === 1;
    let name = languageName(language) ?? a.title ?? `Audio ${i + 1}`;
    if (usedNames.has(name) && a.title && !usedNames.has(`${name} (${a.title})`)) name = `${name} (${a.title})`;
    for (let n = 2; usedNames.has(name); n++) name = `${languageName(language) ?? a.title ?? "Audio"} ${n}`;
    usedNames.add(name);
    return { streamIndex: a.index, language, name, dir: unique ? language : String(i), isDefault: i === defaultPos };
  });
}
