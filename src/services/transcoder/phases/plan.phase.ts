/** Phase 1, pure: what this job produces (rungs, audio renditions, dirs, keys). */
import { audioDir, MASTER_REL, rungDir } from "../../../contracts/media-layout.js";
import { TranscodeError, type TranscodeJob } from "../../../contracts/transcode.messages.js";
import { buildLadder, planAudio, type AudioPlan, type Rung } from "../ladder.js";

export interface TranscodePlan {
  /** video renditions, lowest first; never empty */
  rungs: Rung[];
  audio: AudioPlan[];
  /** index in `audio` of the default track (the MP4s' audio), -1 without audio */
  defaultAudio: number;
  /** the source's duration, null when unknown */
  durationS: number | null;
  /** rendition dirs (video, then audio), relative to the output dir and to `prefix` */
  dirs: string[];
  /** the job's storage prefix, ending with `/` */
  prefix: string;
  masterKey: string;
  /** overall percent the encode ends at (the rest: packaging and thumbnails) */
  transcodeShare: number;
}

/** The plan of `job`; a source that cannot be converted (no video stream) is not retryable. */
export function planTranscode(job: TranscodeJob): TranscodePlan {
  let rungs: Rung[];
  try {
    rungs = buildLadder(job.probe, job.options);
  } catch (err) {
    throw new TranscodeError("transcode_failed", (err as Error).message, { cause: err, retryable: false });
  }
  const audio = planAudio(job.probe, job.options.defaultLanguage);
  return {
    rungs,
    audio,
    defaultAudio: audio.findIndex((a) => a.isDefault),
    durationS: job.probe.durationS > 0 ? job.probe.durationS : null,
    dirs: [...rungs.map((r) => rungDir(r.quality)), ...audio.map((a) => audioDir(a.dir))],
    prefix: job.outputPrefix,
    masterKey: `${job.outputPrefix}${MASTER_REL}`,
    transcodeShare: job.options.mp4 ? 90 : 97,
  };
}
