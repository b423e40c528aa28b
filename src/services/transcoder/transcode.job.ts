/**
 * The `video.transcode` job: job in → HLS renditions, MP4s, thumbnails and a master playlist in
 * storage + progress/result messages out. It never touches the database; everything it needs is
 * in the job (source key, output prefix, the upload's probe, options).
 *
 * An attempt runs the phases in order, each taking plain data (the job, the plan, local paths)
 * plus the explicit PhaseContext, and returning plain data:
 *   plan → fetch source → encode (+ early publish) → package (VOD playlists, MP4s)
 *   → extras (thumbnails, storyboard, subtitles) → report (result, final master, stale removal)
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { TranscodeJob, TranscodeResult } from "../../contracts/transcode.messages.js";
import { limitForSource } from "../../platform/media/child-limits.js";
import { sourceInputOf } from "../../platform/media/input-guard.js";
import type { MediaTools } from "../../platform/media/media-tools.js";
import type { JobContext } from "../../platform/queue/queue.js";
import type { Storage } from "../../platform/storage/storage.js";
import { HlsPublisher } from "./hls-publisher.js";
import { encodePhase } from "./phases/encode.phase.js";
import { extrasPhase } from "./phases/extras.phase.js";
import { fetchSource } from "./phases/fetch.phase.js";
import { packagePhase } from "./phases/package.phase.js";
import type { PhaseContext, TranscodeLogger } from "./phases/phase.types.js";
import { planTranscode } from "./phases/plan.phase.js";
import { reportPhase } from "./phases/report.phase.js";
import { ProgressReporter } from "./progress-reporter.js";
import { asTranscodeError, deadlineIn, throwIfCancelled } from "./transcode-errors.js";
import { WorkDirs } from "./work-dir.js";

export type { TranscodeLogger } from "./phases/phase.types.js";

export interface TranscodeHandlerDeps {
  storage: Storage;
  tools: MediaTools;
  /** parent of the per-job temp dirs (WORK_DIR) */
  workDir: string;
  log?: TranscodeLogger;
  /** poll interval of the early publisher, ms (default 500) */
  publishIntervalMs?: number;
}

export type TranscodeHandler = (job: TranscodeJob, ctx: JobContext) => Promise<TranscodeResult>;

interface Attempt {
  job: TranscodeJob;
  signal: AbortSignal;
  jobDir: string;
  reporter: ProgressReporter;
}

/** The phases of one attempt, in its own `jobDir`. */
async function runPhases(deps: TranscodeHandlerDeps, a: Attempt): Promise<TranscodeResult> {
  const { job, signal, jobDir, reporter } = a;
  const opts = job.options;
  const plan = planTranscode(job);
  reporter.send("downloading", 0, null, true);
  const input = await fetchSource(deps.storage, job.sourceKey, jobDir);
  throwIfCancelled(signal);

  const outDir = path.join(jobDir, "out");
  // ffmpeg 4.1's HLS muxer does not create the segment directories.
  for (const d of plan.dirs) await mkdir(path.join(outDir, d), { recursive: true });
  const cx: PhaseContext = {
    storage: deps.storage,
    // Every child of this job: FFMPEG_MEMORY_LIMIT plus the allowance of the source's probed size.
    tools: { ...deps.tools, memoryLimit: limitForSource(deps.tools.memoryLimit, sourceInputOf(job.probe).maxPixels) },
    signal,
    remainingS: deadlineIn(opts.timeoutS),
    log: deps.log,
    reporter,
    publisher: new HlsPublisher(deps.storage, outDir, plan.prefix, plan.dirs),
  };
  const encoded = await encodePhase(cx, { job, plan, input, outDir, publishIntervalMs: deps.publishIntervalMs ?? 500 });
  const packaged = await packagePhase(cx, { plan, segmentType: opts.segmentType, mp4: opts.mp4, outDir, mp4Dir: path.join(jobDir, "mp4") });
  const extras = await extrasPhase(cx, { job, plan, input, outDir, workDir: path.join(jobDir, "extras"), ...packaged });
  throwIfCancelled(signal);
  const result = await reportPhase(cx, { plan, segmentType: opts.segmentType, outDir, codecs: encoded.codecs, extras, ...packaged });
  return { ...result, encodeSeconds: encoded.encodeSeconds };
}

export function createTranscodeHandler(deps: TranscodeHandlerDeps): TranscodeHandler {
  const dirs = new WorkDirs(deps.workDir);
  return async (job, ctx) => {
    const jobDir = dirs.claim(job.videoId, ctx.jobId);
    const reporter = new ProgressReporter(ctx);
    try {
      await dirs.prepare(jobDir, { videoId: job.videoId, jobId: ctx.jobId });
      throwIfCancelled(ctx.signal);
      return await runPhases(deps, { job, signal: ctx.signal, jobDir, reporter });
    } catch (err) {
      await reporter.flush();
      throw asTranscodeError(err, ctx.signal);
    } finally {
      await dirs.release(jobDir);
    }
  };
}
