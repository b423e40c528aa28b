/**
 * Phase 3: the encode, published early. While ffmpeg writes the renditions into the output dir,
 * a poller mirrors every finished segment and the growing EVENT playlists to storage; once every
 * rendition has a segment the master playlist is written and the job reports `playable`, so
 * viewers can start long before the encode ends.
 */
import { audioDir, masterRelative, MASTER_REL, playlistIn, rungDir } from "../../../contracts/media-layout.js";
import type { SegmentType, TranscodeJob } from "../../../contracts/transcode.messages.js";
import { runFfmpeg, type FfmpegProgress } from "../../../platform/media/ffmpeg-runner.js";
import { frameLimit } from "../../../platform/media/input-guard.js";
import { assertNever } from "../../../lib/assert-never.js";
import { AAC_CODEC, AUDIO_BITRATE, AUDIO_CHANNELS, buildRungArgs, buildTranscodeArgs, type TranscodePaths } from "../ffmpeg-args.js";
import { buildMasterPlaylist, parseMediaPlaylist, type MasterAudio, type MasterVariant } from "../playlists.js";
import { rungCodec } from "../rung-codec.js";
import { fromFfmpeg, throwIfCancelled } from "../transcode-errors.js";
import type { PhaseContext } from "./phase.types.js";
import type { TranscodePlan } from "./plan.phase.js";

export interface EncodeInput extends TranscodePaths {
  job: TranscodeJob;
  plan: TranscodePlan;
  /** poll interval of the early publisher, ms */
  publishIntervalMs: number;
}

export interface EncodeOutput {
  /** video CODECS per quality, read from the first segments for the early master */
  codecs: Record<string, string>;
  /** wall-clock seconds of the ffmpeg run that encoded each quality (see TranscodeResult.encodeSeconds) */
  encodeSeconds: Record<string, number>;
}

/** Percent (0-100) of one ffmpeg run → overall percent and ETA. */
type ProgressSink = (base: number, span: number) => (p: FfmpegProgress) => void;

/**
 * The master written as soon as every rendition has a segment. RFC 8216 §4.3.4.2: BANDWIDTH must
 * be the measured peak only "if all the Media Segments in a Variant Stream have already been
 * created"; until then the encoder's limits (maxrate + audio) are the honest estimate. The final
 * master replaces this one.
 */
export function buildEarlyMaster(plan: Pick<TranscodePlan, "rungs" | "audio">, codecs: Record<string, string>, segmentType: SegmentType): string {
  const audioBits = plan.audio.length > 0 ? AUDIO_BITRATE : 0;
  const variants: MasterVariant[] = plan.rungs.map((r) => ({
    uri: masterRelative(playlistIn(rungDir(r.quality))),
    bandwidth: r.maxrate + audioBits,
    averageBandwidth: r.videoBitrate + audioBits,
    width: r.width,
    height: r.height,
    codecs: plan.audio.length > 0 ? `${codecs[r.quality]},${AAC_CODEC}` : codecs[r.quality]!,
    fps: r.fps,
  }));
  const audio: MasterAudio[] = plan.audio.map((a) => ({
    uri: masterRelative(playlistIn(audioDir(a.dir))),
    language: a.language,
    name: a.name,
    isDefault: a.isDefault,
    channels: AUDIO_CHANNELS,
  }));
  return buildMasterPlaylist(variants, audio, [], { segmentType });
}

/** Reads each rung's codec from its first published segment, then writes the early master. */
async function publishEarlyMaster(cx: PhaseContext, x: EncodeInput): Promise<Record<string, string>> {
  const codecs: Record<string, string> = {};
  for (const r of x.plan.rungs) {
    const first = parseMediaPlaylist(cx.publisher.uploadedPlaylist(rungDir(r.quality)) ?? "").segments[0]?.uri ?? null;
    codecs[r.quality] = await rungCodec(cx.tools, x.outDir, r, first);
  }
  await cx.publisher.put(MASTER_REL, buildEarlyMaster(x.plan, codecs, x.job.options.segmentType));
  cx.reporter.markPlayable(x.plan.masterKey);
  return codecs;
}

/** Calls `tick` every `intervalMs` until stopped; a failing tick ends the loop and is kept. */
function startPoller(tick: () => Promise<void>, intervalMs: number, onError: () => void) {
  const stop = new AbortController();
  const failure: { error: unknown } = { error: null };
  const sleep = () =>
    new Promise<void>((resolve) => {
      const onStop = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        stop.signal.removeEventListener("abort", onStop);
        resolve();
      }, intervalMs);
      stop.signal.addEventListener("abort", onStop, { once: true });
    });
  const loop = (async () => {
    while (!stop.signal.aborted) {
      await sleep();
      if (stop.signal.aborted) break;
      try {
        await tick();
      } catch (err) {
        failure.error = err;
        onError();
        break;
      }
    }
  })();
  return {
    failure,
    stop: async () => {
      stop.abort();
      await loop;
    },
  };
}

/**
 * The ffmpeg run(s) of the encode: one for every rung, or one per rung (TRANSCODE_MODE). Besides
 * the input's `-t`, each run stops with `limit_exceeded` past the frames the probed duration holds
 * at the rungs' (common) frame rate: the check the issue asks for after `-t`, made while ffmpeg
 * runs so a source whose timestamps dodge `-t` cannot keep it busy until the job's timeout.
 */
async function runEncoders(cx: PhaseContext, x: EncodeInput, signal: AbortSignal, onProgress: ProgressSink): Promise<Record<string, number>> {
  const { job, plan } = x;
  const seconds: Record<string, number> = {};
  const timed = async (qualities: string[], fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    for (const q of qualities) seconds[q] = Math.round(performance.now() - started) / 1000;
  };
  const opts = job.options;
  const paths = { input: x.input, outDir: x.outDir };
  const maxFrames = plan.durationS !== null ? frameLimit(plan.durationS, plan.rungs[0]!.fps) : undefined;
  const run = (args: string[], base: number, span: number) =>
    runFfmpeg(cx.tools, args, { timeoutS: cx.remainingS(), signal, durationS: plan.durationS, onProgress: onProgress(base, span), maxFrames });
  switch (opts.mode) {
    case "single":
      await timed(plan.rungs.map((r) => r.quality), () => run(buildTranscodeArgs(job.probe, plan.rungs, opts, paths), 0, 100));
      break;
    case "per-rung":
      for (const [i, r] of plan.rungs.entries()) {
        const span = 100 / plan.rungs.length;
        await timed([r.quality], () => run(buildRungArgs(job.probe, r, opts, paths, { withAudio: i === 0 }), span * i, span));
      }
      break;
    default:
      assertNever(opts.mode);
  }
  return seconds;
}

/** Encodes every rendition into `outDir`, publishing while it runs; all of it is stored on return. */
export async function encodePhase(cx: PhaseContext, x: EncodeInput): Promise<EncodeOutput> {
  const codecs: Record<string, string> = {};
  const last = { percent: 0, eta: null as number | null };
  let masterWritten = false;
  const publishOnce = async () => {
    const ready = await cx.publisher.pass();
    if (!ready || masterWritten) return;
    masterWritten = true;
    Object.assign(codecs, await publishEarlyMaster(cx, x));
    cx.reporter.send("transcoding", last.percent, last.eta, true);
  };
  // A failed upload stops ffmpeg too.
  const internal = new AbortController();
  const poller = startPoller(publishOnce, x.publishIntervalMs, () => internal.abort());
  cx.reporter.send("transcoding", 0, null, true);
  const onProgress: ProgressSink = (base, span) => (p) => {
    if (p.percent === null) return;
    last.percent = (base + (span * p.percent) / 100) * (x.plan.transcodeShare / 100);
    last.eta = p.eta_s;
    cx.reporter.send("transcoding", last.percent, last.eta);
  };
  let encodeSeconds: Record<string, number> = {};
  try {
    encodeSeconds = await runEncoders(cx, x, AbortSignal.any([cx.signal, internal.signal]), onProgress);
  } catch (err) {
    if (poller.failure.error) throw poller.failure.error;
    throw fromFfmpeg(err, "transcoding");
  } finally {
    await poller.stop();
  }
  if (poller.failure.error) throw poller.failure.error;
  throwIfCancelled(cx.signal);
  // Whatever the poller had not seen yet; also writes the early master when the encode was
  // faster than one poll, so `playable` is always reported before the final result.
  await publishOnce();
  return { codecs, encodeSeconds };
}
