/** The CODECS string of a rung's video, read from its output (an HLS variant must state it exactly). */
import { stat } from "node:fs/promises";
import path from "node:path";
import { INIT_NAME, rungDir } from "../../contracts/media-layout.js";
import type { MediaTools } from "../../platform/media/media-tools.js";
import { videoCodecString } from "../../platform/media/probe.js";
import type { Rung } from "./ladder.js";

/** ffprobe on one segment to read its real H.264 profile/level */
const CODEC_PROBE_TIMEOUT_S = 30;

/**
 * CODECS of a variant needs the real profile/level bytes (see avcCodecString); if the segment
 * cannot be read, the nominal ones x264 was asked for (High: 64 00, Main: 4d 40, x264 sets
 * constraint_set1 for Main).
 */
export function nominalAvcCodec(r: Pick<Rung, "level" | "profile">): string {
  const level = Math.round(Number(r.level) * 10).toString(16).padStart(2, "0");
  return r.profile === "high" ? `avc1.6400${level}` : `avc1.4d40${level}`;
}

/** From the rung's init section (fMP4) or first segment under `outDir`, else nominal. */
export async function rungCodec(tools: MediaTools, outDir: string, r: Rung, firstSegment: string | null): Promise<string> {
  const dir = path.join(outDir, rungDir(r.quality));
  const candidates = [path.join(dir, INIT_NAME), ...(firstSegment ? [path.join(dir, firstSegment)] : [])];
  for (const file of candidates) {
    try {
      await stat(file);
    } catch {
      continue;
    }
    const c = await videoCodecString(tools, file, { timeoutS: CODEC_PROBE_TIMEOUT_S }).catch(() => null);
    if (c) return c;
  }
  return nominalAvcCodec(r);
}
