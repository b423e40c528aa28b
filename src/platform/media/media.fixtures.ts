/**
 * Test media, generated on the fly with ffmpeg's lavfi sources (testsrc2 picture, sine tones):
 * tiny, deterministic, no binary files in the repository. Used by media and transcoder tests.
 */
import { rename, writeFile } from "node:fs/promises";
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
