/**
 * Phase 4: packaging. The playlists become VOD (every remaining segment stored first), their
 * bandwidth is measured, and the progressive MP4s are made by stream copy from them.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { audioDir, mp4Rel, playlistIn, rungDir } from "../../../contracts/media-layout.js";
import type { SegmentType } from "../../../contracts/transcode.messages.js";
import { runFfmpeg } from "../../../platform/media/ffmpeg-runner.js";
import { buildMp4Args } from "../ffmpeg-args.js";
import { measurePlaylist, parseMediaPlaylist, type PlaylistMeasure } from "../playlists.js";
import { fromFfmpeg, throwIfCancelled } from "../transcode-errors.js";
import type { PhaseContext } from "./phase.types.js";
import type { TranscodePlan } from "./plan.phase.js";

export interface RenditionMeasures {
  /** by quality */
  video: Record<string, PlaylistMeasure>;
  /** in `plan.audio` order */
  audio: PlaylistMeasure[];
}

export interface PackageInput {
  plan: TranscodePlan;
  segmentType: SegmentType;
  mp4: boolean;
  /** the encode's output dir */
  outDir: string;
  /** scratch dir for the MP4s (each is removed once uploaded) */
  mp4Dir: string;
}

export interface PackageOutput {
  /** final VOD playlist text by rendition dir */
  playlists: Record<string, string>;
  measures: RenditionMeasures;
  /** bytes of each MP4 by quality; empty when MP4s are off */
  mp4Sizes: Record<string, number>;
}

/** Measures every rendition from its final playlist and the bytes of its files (by rel path). */
export function measureRenditions(
  plan: Pick<TranscodePlan, "rungs" | "audio">,
  playlists: Readonly<Record<string, string>>,
  sizeOf: (rel: string) => number,
): RenditionMeasures {
  const measure = (dir: string) => measurePlaylist(parseMediaPlaylist(playlists[dir] ?? ""), (uri) => sizeOf(`${dir}/${uri}`));
  return {
    video: Object.fromEntries(plan.rungs.map((r) => [r.quality, measure(rungDir(r.quality))])),
    audio: plan.audio.map((a) => measure(audioDir(a.dir))),
  };
}

/** One MP4 per rung (video + the default audio), uploaded as `mp4/<quality>.mp4`; returns the sizes. */
async function buildMp4s(cx: PhaseContext, x: PackageInput): Promise<Record<string, number>> {
  const { plan, outDir } = x;
  const sizes: Record<string, number> = {};
  await mkdir(x.mp4Dir, { recursive: true });
  const audio = plan.defaultAudio >= 0 ? path.join(outDir, playlistIn(audioDir(plan.audio[plan.defaultAudio]!.dir))) : null;
  const share = 100 - plan.transcodeShare - 2;
  for (const [i, r] of plan.rungs.entries()) {
    const out = path.join(x.mp4Dir, `${r.quality}.mp4`);
    const args = buildMp4Args(path.join(outDir, playlistIn(rungDir(r.quality))), audio, out, x.segmentType);
    cx.reporter.send("packaging", plan.transcodeShare + (share * i) / plan.rungs.length, null, true);
    try {
      await runFfmpeg(cx.tools, args, { timeoutS: cx.remainingS(), signal: cx.signal, durationS: plan.durationS });
    } catch (err) {
      throw fromFfmpeg(err, `building the ${r.quality} MP4`);
    }
    const size = (await stat(out)).size;
    await cx.publisher.putFile(mp4Rel(r.quality), out);
    sizes[r.quality] = size;
    // The MP4 is uploaded; free the disk space now rather than at the end of a long job.
    await rm(out, { force: true });
  }
  return sizes;
}

export async function packagePhase(cx: PhaseContext, x: PackageInput): Promise<PackageOutput> {
  cx.reporter.send("packaging", x.plan.transcodeShare, null, true);
  const playlists = await cx.publisher.finalize();
  throwIfCancelled(cx.signal);
  const measures = measureRenditions(x.plan, playlists, (rel) => cx.publisher.sizes.get(rel) ?? 0);
  const mp4Sizes = x.mp4 ? await buildMp4s(cx, x) : {};
  throwIfCancelled(cx.signal);
  return { playlists, measures, mp4Sizes };
}
