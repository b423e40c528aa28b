/**
 * Test media, generated on the fly with ffmpeg's lavfi sources (testsrc2 picture, sine tones):
 * tiny, deterministic, no binary files in the repository. Used by media and transcoder tests.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { runFfmpeg } from "./ffmpeg-runner.js";
import type { MediaTools } from "./media-tools.js";

export interface ClipSpec {
  width: number;
  height: number;
  durationS: number;
  fps?: number;
  /** one entry per audio stream; default one untagged stream, `[]` for none */
  audio?: Array<{ language?: string; frequency?: number }>;
  /** store a display rotation (clockwise degrees) instead of rotating the pixels */
  rotate?: 90 | 180 | 270;
  pixFmt?: string;
  /** the picture is black until this time (a fade-in), to test poster selection */
  blackUntilS?: number;
  /** text subtitle streams (stored as mov_text), cues as [start s, end s, text] */
  subtitles?: Array<{ language?: string; cues: Array<[number, number, string]> }>;
}

function srtTime(s: number): string {
  const ms = Math.round(s * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
}

export function srt(cues: Array<[number, number, string]>): string {
  return cues.map(([a, b, text], i) => `${i + 1}\n${srtTime(a)} --> ${srtTime(b)}\n${text}\n`).join("\n");
}

/** `subtitleFiles`: SRT files for `spec.subtitles`, in order. */
export function clipArgs(spec: ClipSpec, output: string, subtitleFiles: string[] = []): string[] {
  const fps = spec.fps ?? 25;
  const audio = spec.audio ?? [{}];
  let video = `testsrc2=size=${spec.width}x${spec.height}:rate=${fps}:duration=${spec.durationS}`;
  // fade-in: frames before the start are black
  if (spec.blackUntilS) video += `,fade=t=in:st=${spec.blackUntilS}:d=0.1`;
  const args = ["-y", "-v", "error", "-f", "lavfi", "-i", video];
  audio.forEach((a, i) => {
    args.push("-f", "lavfi", "-i", `sine=frequency=${a.frequency ?? 440 + 220 * i}:duration=${spec.durationS}:sample_rate=44100`);
  });
  for (const f of subtitleFiles) args.push("-i", f);
  args.push("-map", "0:v");
  audio.forEach((_, i) => args.push("-map", `${i + 1}:a`));
  subtitleFiles.forEach((_, i) => args.push("-map", `${audio.length + 1 + i}:s`));
  args.push("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", spec.pixFmt ?? "yuv420p");
  if (audio.length > 0) args.push("-c:a", "aac", "-b:a", "96k");
  if (subtitleFiles.length > 0) args.push("-c:s", "mov_text");
  audio.forEach((a, i) => {
    if (a.language) args.push(`-metadata:s:a:${i}`, `language=${a.language}`);
  });
  (spec.subtitles ?? []).forEach((s, i) => {
    if (s.language) args.push(`-metadata:s:s:${i}`, `language=${s.language}`);
  });
  args.push(output);
  return args;
}

/** Writes a clip (MP4 by `output`'s extension) and returns its path. */
export async function makeClip(tools: Pick<MediaTools, "ffmpeg" | "major">, output: string, spec: ClipSpec): Promise<string> {
  const raw = spec.rotate ? `${output}.raw.mp4` : output;
  const subtitleFiles: string[] = [];
  for (const [i, s] of (spec.subtitles ?? []).entries()) {
    const file = `${output}.${i}.srt`;
    await writeFile(file, srt(s.cues));
    subtitleFiles.push(file);
  }
  await runFfmpeg(tools, clipArgs(spec, raw, subtitleFiles), { timeoutS: 60 });
  if (spec.rotate) {
    // Remux, storing a display matrix. ffmpeg >= 7 has `-display_rotation` (counter-clockwise, an
    // input option); older ones convert the legacy `rotate` stream tag into a matrix when muxing.
    const args =
      tools.major >= 7
        ? ["-y", "-v", "error", "-display_rotation:v:0", String(360 - spec.rotate), "-i", raw, "-map", "0", "-c", "copy", `${output}.tmp.mp4`]
        : ["-y", "-v", "error", "-i", raw, "-map", "0", "-c", "copy", "-metadata:s:v:0", `rotate=${spec.rotate}`, `${output}.tmp.mp4`];
    await runFfmpeg(tools, args, { timeoutS: 60 });
    await rename(`${output}.tmp.mp4`, output);
  }
  return output;
}

// ---------------------------------------------------------------------------------------------
// Hostile sources (issue 13): files whose header says less than what follows it

/**
 * An MPEG-TS that starts at `small` and switches to `large` frames: two TS segments written one
 * after the other (`cat a.ts b.ts`). ffprobe reports the first segment's size, so the upload
 * passes MAX_RESOLUTION, and a decoder without `-max_pixels` allocates for the large frames. The
 * large part is a few frames of flat gray: seconds to encode, a few hundred KB on disk.
 */
export async function makeGrowingTs(
  tools: Pick<MediaTools, "ffmpeg">,
  output: string,
  spec: { small?: [number, number]; large?: [number, number]; smallS?: number; largeFrames?: number } = {},
): Promise<string> {
  const [sw, sh] = spec.small ?? [320, 240];
  const [lw, lh] = spec.large ?? [8000, 8000];
  const smallS = spec.smallS ?? 2;
  const a = `${output}.a.ts`;
  const b = `${output}.b.ts`;
  await runFfmpeg(tools, ["-y", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${sw}x${sh}:rate=25:duration=${smallS}`, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts", a], { timeoutS: 60 });
  // The second segment's timestamps follow the first's, as a camera switching modes would write them.
  await runFfmpeg(
    tools,
    ["-y", "-v", "error", "-f", "lavfi", "-i", `color=c=gray:size=${lw}x${lh}:rate=25`, "-frames:v", String(spec.largeFrames ?? 3), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-output_ts_offset", String(smallS), "-f", "mpegts", b],
    { timeoutS: 120 },
  );
  await writeFile(output, Buffer.concat([await readFile(a), await readFile(b)]));
  await rm(a, { force: true });
  await rm(b, { force: true });
  return output;
}

/**
 * A Matroska file whose header claims `claimedS` but which holds `realS` of video (and audio):
 * muxed without CRC-32 elements (`-write_crc32 0`, so the edit is not a checksum error), then the
 * Segment Info's Duration element (ID 0x4489, an 8-byte float in milliseconds at the default
 * TimecodeScale) is overwritten. ffprobe's format duration is the header's.
 */
export async function makeLyingMkv(tools: Pick<MediaTools, "ffmpeg">, output: string, spec: { realS: number; claimedS: number; width?: number; height?: number }): Promise<string> {
  const raw = `${output}.raw.mkv`;
  const size = `${spec.width ?? 160}x${spec.height ?? 120}`;
  await runFfmpeg(
    tools,
    [
      "-y", "-v", "error",
      "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25:duration=${spec.realS}`,
      "-f", "lavfi", "-i", `sine=frequency=440:duration=${spec.realS}:sample_rate=44100`,
      "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
      "-write_crc32", "0", raw,
    ],
    { timeoutS: 120 },
  );
  const bytes = await readFile(raw);
  const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
  if (at < 0) throw new Error("makeLyingMkv: no 8-byte Duration element in the Matroska header");
  bytes.writeDoubleBE(spec.claimedS * 1000, at + 3);
  await writeFile(output, bytes);
  await rm(raw, { force: true });
  return output;
}

/**
 * A text HLS playlist pointing at a local media file (`target`): what a demuxer that guesses
 * formats opens as HLS and follows, whatever the file is called.
 */
export function hlsPlaylistTo(target: string, durationS = 2): string {
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${Math.ceil(durationS)}\n#EXTINF:${durationS.toFixed(1)},\n${target}\n#EXT-X-ENDLIST\n`;
}
