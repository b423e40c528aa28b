/**
 * Phase 6: the result. The renditions' figures from the measures, the final master (measured
 * bandwidths, subtitles), and the removal of what an earlier run left under the prefix.
 */
import { audioDir, CONVERSION_DIRS, MASTER_REL, mp4Rel, OWN_THUMB, playlistIn, rungDir, THUMBS_DIR } from "../../../contracts/media-layout.js";
import type { AudioTrackOutput, RenditionOutput, SegmentType, TranscodeResult } from "../../../contracts/transcode.messages.js";
import type { Storage } from "../../../platform/storage/storage.js";
import { AAC_CODEC } from "../ffmpeg-args.js";
import { buildMasterFromResult } from "../master.js";
import { parseMediaPlaylist } from "../playlists.js";
import { rungCodec } from "../rung-codec.js";
import type { ExtrasOutput } from "./extras.phase.js";
import type { RenditionMeasures } from "./package.phase.js";
import type { PhaseContext, TranscodeLogger } from "./phase.types.js";
import type { TranscodePlan } from "./plan.phase.js";

export interface ResultInput {
  plan: Pick<TranscodePlan, "rungs" | "audio" | "defaultAudio" | "durationS" | "prefix" | "masterKey">;
  segmentType: SegmentType;
  measures: RenditionMeasures;
  /** video CODECS by quality, every rung */
  codecs: Readonly<Record<string, string>>;
  /** MP4 bytes by quality (a quality without one has no MP4) */
  mp4Sizes: Readonly<Record<string, number>>;
  extras: ExtrasOutput;
}

function renditionOf(x: ResultInput, r: TranscodePlan["rungs"][number]): RenditionOutput {
  const { plan, measures } = x;
  const v = measures.video[r.quality]!;
  const defaultAudio = plan.defaultAudio >= 0 ? measures.audio[plan.defaultAudio]! : null;
  const maxAudioPeak = Math.max(0, ...measures.audio.map((m) => m.peak));
  const maxAudioAvg = Math.max(0, ...measures.audio.map((m) => m.average));
  const mp4Size = x.mp4Sizes[r.quality];
  const videoCodec = x.codecs[r.quality]!;
  return {
    quality: r.quality,
    width: r.width,
    height: r.height,
    bitrate: Math.round(v.average + (defaultAudio?.average ?? 0)),
    // §4.3.4.2: "the largest sum of peak segment bit rates that is produced by any playable
    // combination of Renditions": this video plus the heaviest audio track.
    bandwidth: Math.round(v.peak + maxAudioPeak),
    averageBandwidth: Math.round(v.average + maxAudioAvg),
    codecs: plan.audio.length > 0 ? `${videoCodec},${AAC_CODEC}` : videoCodec,
    fps: r.fps,
    playlistKey: `${plan.prefix}${playlistIn(rungDir(r.quality))}`,
    mp4Key: mp4Size !== undefined ? `${plan.prefix}${mp4Rel(r.quality)}` : null,
    sizeBytes: mp4Size ?? v.bytes + (defaultAudio?.bytes ?? 0),
  };
}

/** The job's result, pure: from the plan, the measures and what the other phases produced. */
export function buildResult(x: ResultInput): TranscodeResult {
  const { plan, measures } = x;
  const audioTracks: AudioTrackOutput[] = plan.audio.map((a, i) => ({
    language: a.language,
    name: a.name,
    isDefault: a.isDefault,
    playlistKey: `${plan.prefix}${playlistIn(audioDir(a.dir))}`,
    codecs: AAC_CODEC,
    bitrate: measures.audio[i]!.average,
  }));
  const outDuration = measures.video[plan.rungs[plan.rungs.length - 1]!.quality]!.durationS;
  return {
    masterKey: plan.masterKey,
    durationS: Math.round((outDuration > 0 ? outDuration : (plan.durationS ?? 0)) * 1000) / 1000,
    renditions: plan.rungs.map((r) => renditionOf(x, r)),
    audioTracks,
    subtitleTracks: x.extras.subtitles,
    thumbnails: x.extras.thumbnails,
    segmentType: x.segmentType,
    mpegtsStartPts: x.extras.mpegtsStartPts,
  };
}

/** `known` completed with the codec of every rung it lacks (read from the output, else nominal). */
async function completeCodecs(cx: PhaseContext, plan: TranscodePlan, outDir: string, playlists: Readonly<Record<string, string>>, known: Readonly<Record<string, string>>) {
  const codecs: Record<string, string> = { ...known };
  for (const r of plan.rungs) {
    if (codecs[r.quality] !== undefined) continue;
    const first = parseMediaPlaylist(playlists[rungDir(r.quality)] ?? "").segments[0]?.uri ?? null;
    codecs[r.quality] = await rungCodec(cx.tools, outDir, r, first);
  }
  return codecs;
}

/**
 * Objects an earlier run wrote under hls/, mp4/ or (its own names under) thumbs/ that this run
 * did not (another ladder, more segments): removed so the prefix holds exactly this result. Best
 * effort: a leftover file is harmless, no playlist references it.
 */
export async function removeStale(storage: Storage, prefix: string, keep: ReadonlySet<string>, log?: TranscodeLogger): Promise<void> {
  try {
    for (const sub of CONVERSION_DIRS) {
      for (const key of await storage.list(`${prefix}${sub}`)) {
        if (keep.has(key)) continue;
        if (sub === `${THUMBS_DIR}/` && !OWN_THUMB.test(key.slice(prefix.length))) continue;
        await storage.delete(key);
      }
    }
  } catch (err) {
    log?.warn({ err, prefix }, "could not remove stale transcode outputs");
  }
}

export interface ReportInput extends Omit<ResultInput, "codecs" | "plan"> {
  plan: TranscodePlan;
  outDir: string;
  playlists: Readonly<Record<string, string>>;
  /** codecs the encode phase read (rungs missing here are read now) */
  codecs: Readonly<Record<string, string>>;
}

/**
 * Builds the result, writes the final master, removes stale outputs and reports 100 %. The result
 * carries the bytes stored (the quota counts them): the publisher's total, known only once the
 * master is written, which is why buildResult leaves it out.
 */
export async function reportPhase(cx: PhaseContext, x: ReportInput): Promise<TranscodeResult> {
  const codecs = await completeCodecs(cx, x.plan, x.outDir, x.playlists, x.codecs);
  const result = buildResult({ ...x, codecs });
  // Same builder as the videos domain uses to rewrite it when subtitles are uploaded.
  await cx.publisher.put(MASTER_REL, buildMasterFromResult(result, result.subtitleTracks, x.segmentType));
  cx.reporter.markPlayable(x.plan.masterKey);
  const prefix = x.plan.prefix;
  await removeStale(cx.storage, prefix, new Set([...cx.publisher.written].map((rel) => `${prefix}${rel}`)), cx.log);
  cx.reporter.send("uploading", 100, 0, true);
  await cx.reporter.flush();
  return { ...result, storedBytes: cx.publisher.storedBytes() };
}
