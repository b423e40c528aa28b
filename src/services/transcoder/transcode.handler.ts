/**
 * The conversion worker: `video.transcode` job in → HLS renditions, MP4s and a master playlist in
 * storage + progress/result messages out. It never touches the database; everything it needs is
 * in the job (source key, output prefix, the upload's probe, options).
 *
 * Publish early: while ffmpeg encodes, a poller uploads every finished segment and the growing
 * EVENT playlists; once every rendition has a segment the master playlist is written and the
 * video is reported `playable`, so viewers can start long before the encode ends.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { FfmpegError, runFfmpeg, type FfmpegProgress } from "../../platform/media/ffmpeg.runner.js";
import type { MediaTools } from "../../platform/media/media.tools.js";
import { videoCodecString } from "../../platform/media/probe.js";
import type { JobContext } from "../../platform/queue/queue.js";
import { isNotFoundError, type Storage } from "../../platform/storage/storage.js";
import {
  AAC_CODEC,
  AUDIO_BITRATE,
  AUDIO_CHANNELS,
  audioDir,
  buildMp4Args,
  buildRungArgs,
  buildSubtitleArgs,
  buildThumbnailArgs,
  buildTranscodeArgs,
  INIT_NAME,
  PLAYLIST_NAME,
  rungDir,
} from "./ffmpeg-args.js";
import {
  choosePoster,
  mpegtsFirstPts,
  planSubtitles,
  SUBTITLE_FILE,
  subtitlePlaylist,
  thumbnailSize,
  thumbnailTimes,
  withTimestampMap,
} from "./extras.js";
import { buildLadder, planAudio, type AudioPlan, type Rung } from "./ladder.js";
import { buildMasterFromResult } from "./master.js";
import { buildStoryboardArgs, buildStoryboardVtt, planStoryboard, STORYBOARD_IMAGE, STORYBOARD_VTT } from "./storyboard.js";
import {
  buildMasterPlaylist,
  eventPlaylistPrefix,
  finalizeVodPlaylist,
  measurePlaylist,
  parseMediaPlaylist,
  type MasterAudio,
  type MasterVariant,
  type PlaylistMeasure,
} from "./playlists.js";
import type {
  AudioTrackOutput,
  RenditionOutput,
  SubtitleTrackOutput,
  ThumbnailsOutput,
  TranscodeJob,
  TranscodeProgress,
  TranscodeResult,
} from "./transcoder.types.js";
import { assertNever } from "../../lib/assert-never.js";

export type TranscodeFailureCode = "transcode_failed" | "timeout" | "storage_error" | "cancelled";

export class TranscodeError extends Error {
  /**
   * false for failures another attempt cannot fix (no video stream, source gone, ffmpeg rejecting
   * the input): the queue then skips the remaining attempts.
   */
  readonly retryable: boolean;

  constructor(
    readonly code: TranscodeFailureCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.name = "TranscodeError";
    this.retryable = options?.retryable ?? true;
  }
}

/** pino-compatible, optional */
export interface TranscodeLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

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

const PROGRESS_INTERVAL_MS = 500;
const OWNER_FILE = ".owner.json";
/** ffprobe on one segment to read its real H.264 profile/level */
const CODEC_PROBE_TIMEOUT_S = 30;

/** Job dirs of this process that are in use (never cleaned as "dead attempts"). */
const activeDirs = new Set<string>();

/** Same mapping as the streaming module serves (fMP4 under `audio/` is audio/mp4). */
function contentType(rel: string): string {
  const ext = path.extname(rel).toLowerCase();
  switch (ext) {
    case ".m3u8":
      return "application/vnd.apple.mpegurl";
    case ".ts":
      return "video/mp2t";
    case ".m4s":
    case ".mp4":
      return rel.startsWith("hls/audio/") ? "audio/mp4" : "video/mp4";
    case ".vtt":
      return "text/vtt; charset=utf-8";
    case ".jpg":
      return "image/jpeg";
    default:
      return "application/octet-stream";
  }
}

/** ids become directory names: keep them to a safe alphabet */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_").slice(0, 100) || "_";

async function storageOp<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TranscodeError) throw err;
    // A missing object (the source deleted meanwhile) will still be missing next attempt.
    throw new TranscodeError("storage_error", `storage failed while ${what}: ${(err as Error).message}`, { cause: err, retryable: !isNotFoundError(err) });
  }
}

function fromFfmpeg(err: unknown, what: string): TranscodeError {
  if (err instanceof TranscodeError) return err;
  if (err instanceof FfmpegError) {
    switch (err.code) {
      case "timeout":
        return new TranscodeError("timeout", `${what} timed out`, { cause: err });
      case "cancelled":
        return new TranscodeError("cancelled", `${what} cancelled`, { cause: err });
      case "ffmpeg_failed":
        // An exit code is ffmpeg refusing the input/arguments: deterministic. No exit code means
        // it was killed (OOM killer, a signal): worth another attempt.
        return new TranscodeError("transcode_failed", `${what} failed: ${err.message}`.slice(0, 1000), { cause: err, retryable: err.exitCode === null });
    }
  }
  return new TranscodeError("transcode_failed", `${what} failed: ${(err as Error).message}`, { cause: err });
}


function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Processes whose command line mentions `dir` (Linux /proc; none are found elsewhere). A worker
 * killed with SIGKILL leaves its ffmpeg running, reparented, still writing into its job dir:
 * every ffmpeg of an attempt names a file under that attempt's unique dir.
 */
async function processesUsing(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    // NUL-separated argv; empty for a zombie (already dead, only waiting to be reaped)
    const argv = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (argv.some((a) => a === dir || a.includes(`${dir}${path.sep}`))) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs the processes a dead attempt left running in `dir`, and waits (briefly) until they are gone. */
async function killOrphans(dir: string): Promise<void> {
  let pids = await processesUsing(dir);
  const deadline = Date.now() + 3000;
  while (pids.length > 0 && Date.now() < deadline) {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = await processesUsing(dir);
  }
}

/**
 * Removes temp dirs that earlier attempts left behind when their worker died (SIGKILL, OOM, power
 * loss: no `finally` ran), after killing the ffmpeg they left running on this host. With a
 * `videoId` (an attempt at that video is starting here): its dirs whose owner process is gone,
 * or ran on another host, or is this process without the dir in use. Without one (the first job
 * of this process): any dir owned by a dead process of this host.
 */
async function removeDeadAttempts(workDir: string, videoId: string | null): Promise<void> {
  const prefix = videoId === null ? "" : `${safeName(videoId)}-`;
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(workDir, name);
    if (!name.startsWith(prefix) || activeDirs.has(dir)) continue;
    let owner: { videoId?: unknown; pid?: unknown; host?: unknown };
    try {
      owner = JSON.parse(await readFile(path.join(dir, OWNER_FILE), "utf8")) as typeof owner;
    } catch {
      continue;
    }
    const here = owner.host === hostname();
    if (videoId === null ? !here : owner.videoId !== videoId) continue;
    const alive = typeof owner.pid === "number" && here && owner.pid !== process.pid && pidAlive(owner.pid);
    if (alive) continue;
    if (here) await killOrphans(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Like Promise.all, but waits for every task before rethrowing the first failure: no upload may
 * still be running once a pass has returned (the temp dir is removed right after a failure).
 */
async function settleAll(tasks: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Sends progress in order, at most every ~500 ms unless the step or playability changes. */
class ProgressReporter {
  private chain: Promise<void> = Promise.resolve();
  private lastAt = 0;
  private lastStep = "";
  private lastPercent = 0;
  playable = false;
  masterKey: string | undefined;

  constructor(private readonly ctx: JobContext) {}

  send(step: TranscodeProgress["step"], percent: number, etaS: number | null, force = false): void {
    const now = Date.now();
    if (!force && step === this.lastStep && now - this.lastAt < PROGRESS_INTERVAL_MS) return;
    // Overall percent never goes backwards (a per-rung restart, a late progress line).
    const pct = Math.max(this.lastPercent, Math.min(100, Math.round(percent * 10) / 10));
    this.lastAt = now;
    this.lastStep = step;
    this.lastPercent = pct;
    const p: TranscodeProgress = { step, percent: pct, eta_s: etaS, playable: this.playable };
    if (this.masterKey) p.masterKey = this.masterKey;
    this.chain = this.chain.then(() => this.ctx.progress({ ...p })).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

interface RenditionState {
  /** relative dir, e.g. `hls/720p` */
  dir: string;
  /** uploaded playlist text (to skip unchanged re-uploads) */
  lastPlaylist: string | null;
  segments: number;
}

/**
 * Mirrors the local HLS output dir to storage. Segments are uploaded before the playlist that
 * lists them, so a player never sees a URI that 404s; sizes are recorded for bandwidth figures.
 */
class HlsPublisher {
  /** relative path → bytes, of every segment/file uploaded */
  readonly sizes = new Map<string, number>();
  /** relative paths of every object written (files, playlists, master) */
  readonly written = new Set<string>();
  readonly renditions: RenditionState[];

  constructor(
    private readonly storage: Storage,
    private readonly outDir: string,
    private readonly prefix: string,
    dirs: string[],
  ) {
    this.renditions = dirs.map((dir) => ({ dir, lastPlaylist: null, segments: 0 }));
  }

  key(rel: string): string {
    return `${this.prefix}${rel}`;
  }

  async uploadFile(rel: string): Promise<void> {
    const local = path.join(this.outDir, rel);
    // Buffer + put rather than putFile: the file must stay in place (MP4s are made from it), and
    // segments are small (a few MB at most).
    const body = await readFile(local);
    await this.put(rel, body);
    this.sizes.set(rel, body.length);
  }

  async put(rel: string, body: Buffer | string): Promise<void> {
    await storageOp(`uploading ${rel}`, () => this.storage.put(this.key(rel), body, { contentType: contentType(rel) }));
    this.written.add(rel);
  }

  private async readPlaylist(r: RenditionState): Promise<string | null> {
    try {
      return await readFile(path.join(this.outDir, r.dir, PLAYLIST_NAME), "utf8");
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async uploadListed(r: RenditionState, text: string): Promise<number> {
    const pl = parseMediaPlaylist(text);
    if (pl.mapUri && !this.sizes.has(`${r.dir}/${pl.mapUri}`)) await this.uploadFile(`${r.dir}/${pl.mapUri}`);
    for (const s of pl.segments) {
      const rel = `${r.dir}/${s.uri}`;
      if (!this.sizes.has(rel)) await this.uploadFile(rel);
    }
    return pl.segments.length;
  }

  /** One pass while ffmpeg runs: new segments, then the EVENT playlists. True when every rendition has a segment. */
  async pass(): Promise<boolean> {
    await settleAll(
      this.renditions.map(async (r) => {
        const text = await this.readPlaylist(r);
        if (text === null) return;
        const count = await this.uploadListed(r, text);
        if (count === 0) return;
        const ev = eventPlaylistPrefix(text, count);
        if (ev !== r.lastPlaylist) {
          await this.put(`${r.dir}/${PLAYLIST_NAME}`, ev);
          r.lastPlaylist = ev;
        }
        r.segments = count;
      }),
    );
    return this.renditions.every((r) => r.segments > 0);
  }

  /** After ffmpeg: every remaining segment, then each playlist as VOD. Returns the final texts by dir. */
  async finalize(): Promise<Map<string, string>> {
    const finals = new Map<string, string>();
    await settleAll(
      this.renditions.map(async (r) => {
        const text = await this.readPlaylist(r);
        if (text === null) throw new TranscodeError("transcode_failed", `ffmpeg wrote no playlist for ${r.dir}`);
        r.segments = await this.uploadListed(r, text);
        if (r.segments === 0) throw new TranscodeError("transcode_failed", `ffmpeg wrote no segment for ${r.dir}`);
        const vod = finalizeVodPlaylist(text);
        await writeFile(path.join(this.outDir, r.dir, PLAYLIST_NAME), vod);
        await this.put(`${r.dir}/${PLAYLIST_NAME}`, vod);
        r.lastPlaylist = vod;
        finals.set(r.dir, vod);
      }),
    );
    return finals;
  }
}

/**
 * CODECS of a variant needs the real profile/level bytes (see avcCodecString); if the segment
 * cannot be read, the nominal ones x264 was asked for (High: 64 00, Main: 4d 40, x264 sets
 * constraint_set1 for Main).
 */
function nominalAvcCodec(r: Rung): string {
  const level = Math.round(Number(r.level) * 10).toString(16).padStart(2, "0");
  return r.profile === "high" ? `avc1.6400${level}` : `avc1.4d40${level}`;
}

async function rungCodec(tools: MediaTools, outDir: string, r: Rung, firstSegment: string | null): Promise<string> {
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

export function createTranscodeHandler(deps: TranscodeHandlerDeps): TranscodeHandler {
  const { storage, tools, workDir } = deps;
  const publishIntervalMs = deps.publishIntervalMs ?? 500;
  let sweptAtStart: Promise<void> | null = null;

  return async (job, ctx) => {
    // One dir per attempt: an attempt that lost its lease and is still winding down never
    // shares files with the attempt that took over.
    const jobDir = path.join(path.resolve(workDir), `${safeName(job.videoId)}-${safeName(ctx.jobId)}-${randomBytes(4).toString("hex")}`);
    const prefix = job.outputPrefix;
    const opts = job.options;
    const masterRel = "hls/master.m3u8";
    const masterKey = `${prefix}${masterRel}`;
    const reporter = new ProgressReporter(ctx);
    const throwIfCancelled = () => {
      if (ctx.signal.aborted) throw new TranscodeError("cancelled", "transcode cancelled");
    };

    activeDirs.add(jobDir);
    try {
      await mkdir(workDir, { recursive: true });
      // the first job of this process also clears what workers that died on this host left
      sweptAtStart ??= removeDeadAttempts(path.resolve(workDir), null);
      await sweptAtStart;
      await removeDeadAttempts(path.resolve(workDir), job.videoId);
      await mkdir(jobDir, { recursive: true });
      await writeFile(path.join(jobDir, OWNER_FILE), JSON.stringify({ videoId: job.videoId, jobId: ctx.jobId, pid: process.pid, host: hostname() }));
      throwIfCancelled();

      // ---- plan
      let rungs: Rung[];
      try {
        rungs = buildLadder(job.probe, opts);
      } catch (err) {
        throw new TranscodeError("transcode_failed", (err as Error).message, { cause: err, retryable: false });
      }
      const audio: AudioPlan[] = planAudio(job.probe, opts.defaultLanguage);
      const durationS = job.probe.durationS > 0 ? job.probe.durationS : null;

      // ---- download
      reporter.send("downloading", 0, null, true);
      const ext = (path.extname(job.sourceKey).toLowerCase().match(/^\.[a-z0-9]{1,8}$/) ?? [""])[0];
      // On local-disk storage ffmpeg reads the original in place (it only reads): copying a
      // multi-gigabyte file first would double the I/O for nothing. Other storages download.
      const local = storage.localPath(job.sourceKey);
      const input = local && (await stat(local).then((s) => s.isFile(), () => false)) ? local : path.join(jobDir, `source${ext}`);
      if (input !== local) await storageOp("downloading the source", () => storage.download(job.sourceKey, input));
      throwIfCancelled();

      const outDir = path.join(jobDir, "out");
      const dirs = [...rungs.map((r) => rungDir(r.quality)), ...audio.map((a) => audioDir(a.dir))];
      // ffmpeg 4.1's HLS muxer does not create the segment directories.
      for (const d of dirs) await mkdir(path.join(outDir, d), { recursive: true });
      const publisher = new HlsPublisher(storage, outDir, prefix, dirs);
      const codecs = new Map<string, string>();

      const transcodeShare = opts.mp4 ? 90 : 97;
      const masterAudio = (): MasterAudio[] =>
        audio.map((a) => ({ uri: `audio/${a.dir}/${PLAYLIST_NAME}`, language: a.language, name: a.name, isDefault: a.isDefault, channels: AUDIO_CHANNELS }));

      const writeEarlyMaster = async () => {
        for (const r of rungs) {
          const first = parseMediaPlaylist(publisher.renditions.find((s) => s.dir === rungDir(r.quality))?.lastPlaylist ?? "").segments[0]?.uri ?? null;
          codecs.set(r.quality, await rungCodec(tools, outDir, r, first));
        }
        // RFC 8216 §4.3.4.2: BANDWIDTH must be the measured peak only "if all the Media Segments
        // in a Variant Stream have already been created"; until then the encoder's limits
        // (maxrate + audio) are the honest estimate. The final master replaces this one.
        const variants: MasterVariant[] = rungs.map((r) => ({
          uri: `${r.quality}/${PLAYLIST_NAME}`,
          bandwidth: r.maxrate + (audio.length > 0 ? AUDIO_BITRATE : 0),
          averageBandwidth: r.videoBitrate + (audio.length > 0 ? AUDIO_BITRATE : 0),
          width: r.width,
          height: r.height,
          codecs: audio.length > 0 ? `${codecs.get(r.quality)},${AAC_CODEC}` : codecs.get(r.quality)!,
          fps: r.fps,
        }));
        const text = buildMasterPlaylist(variants, masterAudio(), [], { segmentType: opts.segmentType });
        await publisher.put(masterRel, text);
        reporter.playable = true;
        reporter.masterKey = masterKey;
      };

      // ---- encode + publish early
      const stopPublishing = new AbortController();
      const internal = new AbortController();
      const signal = AbortSignal.any([ctx.signal, internal.signal]);
      let publishError: unknown = null;
      let masterWritten = false;
      let lastPercent = 0;
      let lastEta: number | null = null;
      const publishOnce = async () => {
        const ready = await publisher.pass();
        if (ready && !masterWritten) {
          masterWritten = true;
          await writeEarlyMaster();
          reporter.send("transcoding", lastPercent, lastEta, true);
        }
      };
      const publishLoop = (async () => {
        while (!stopPublishing.signal.aborted) {
          await new Promise<void>((resolve) => {
            const onStop = () => {
              clearTimeout(t);
              resolve();
            };
            const t = setTimeout(() => {
              stopPublishing.signal.removeEventListener("abort", onStop);
              resolve();
            }, publishIntervalMs);
            stopPublishing.signal.addEventListener("abort", onStop, { once: true });
          });
          if (stopPublishing.signal.aborted) break;
          try {
            await publishOnce();
          } catch (err) {
            publishError = err;
            internal.abort();
            break;
          }
        }
      })();

      reporter.send("transcoding", 0, null, true);
      const deadline = Date.now() + opts.timeoutS * 1000;
      const remainingS = () => {
        const s = (deadline - Date.now()) / 1000;
        if (s <= 0) throw new TranscodeError("timeout", `transcode exceeded ${opts.timeoutS} s`);
        return s;
      };
      const onProgress = (base: number, span: number) => (p: FfmpegProgress) => {
        if (p.percent === null) return;
        lastPercent = (base + (span * p.percent) / 100) * (transcodeShare / 100);
        lastEta = p.eta_s;
        reporter.send("transcoding", lastPercent, lastEta);
      };
      try {
        const paths = { input, outDir };
        switch (opts.mode) {
          case "single":
            await runFfmpeg(tools, buildTranscodeArgs(job.probe, rungs, opts, paths), {
              timeoutS: remainingS(),
              signal,
              durationS,
              onProgress: onProgress(0, 100),
            });
            break;
          case "per-rung":
            for (const [i, r] of rungs.entries()) {
              await runFfmpeg(tools, buildRungArgs(job.probe, r, opts, paths, { withAudio: i === 0 }), {
                timeoutS: remainingS(),
                signal,
                durationS,
                onProgress: onProgress((100 * i) / rungs.length, 100 / rungs.length),
              });
            }
            break;
          default:
            assertNever(opts.mode);
        }
      } catch (err) {
        if (publishError) throw publishError;
        throw fromFfmpeg(err, "transcoding");
      } finally {
        stopPublishing.abort();
        await publishLoop;
      }
      if (publishError) throw publishError;
      throwIfCancelled();
      // Whatever the poller had not seen yet; also writes the early master when the encode was
      // faster than one poll, so `playable` is always reported before the final result.
      await publishOnce();

      // ---- finalize playlists
      reporter.send("packaging", transcodeShare, null, true);
      const finals = await publisher.finalize();
      throwIfCancelled();
      const measure = (dir: string): PlaylistMeasure =>
        measurePlaylist(parseMediaPlaylist(finals.get(dir) ?? ""), (uri) => publisher.sizes.get(`${dir}/${uri}`) ?? 0);
      const audioMeasures = audio.map((a) => measure(audioDir(a.dir)));
      const defaultAudioPos = audio.findIndex((a) => a.isDefault);
      const defaultAudio = defaultAudioPos >= 0 ? audioMeasures[defaultAudioPos]! : null;

      // ---- progressive MP4s
      const mp4Sizes = new Map<string, number>();
      if (opts.mp4) {
        await mkdir(path.join(jobDir, "mp4"), { recursive: true });
        for (const [i, r] of rungs.entries()) {
          const out = path.join(jobDir, "mp4", `${r.quality}.mp4`);
          const args = buildMp4Args(
            path.join(outDir, rungDir(r.quality), PLAYLIST_NAME),
            defaultAudioPos >= 0 ? path.join(outDir, audioDir(audio[defaultAudioPos]!.dir), PLAYLIST_NAME) : null,
            out,
            opts.segmentType,
          );
          const share = 100 - transcodeShare - 2;
          reporter.send("packaging", transcodeShare + (share * i) / rungs.length, null, true);
          try {
            await runFfmpeg(tools, args, { timeoutS: remainingS(), signal, durationS });
          } catch (err) {
            throw fromFfmpeg(err, `building the ${r.quality} MP4`);
          }
          const size = (await stat(out)).size;
          const rel = `mp4/${r.quality}.mp4`;
          await storageOp(`uploading ${rel}`, () => storage.putFile(`${prefix}${rel}`, out, { contentType: "video/mp4" }));
          publisher.written.add(rel);
          mp4Sizes.set(r.quality, size);
          // The MP4 is uploaded; free the disk space now rather than at the end of a long job.
          await rm(out, { force: true });
        }
      }
      throwIfCancelled();

      // ---- thumbnails and subtitles
      reporter.send("thumbnails", 98, null, true);
      const extras: ExtrasContext = {
        tools,
        publisher,
        probe: job.probe,
        input,
        workDir: path.join(jobDir, "extras"),
        signal,
        remainingS,
        log: deps.log,
        videoId: job.videoId,
      };
      await mkdir(extras.workDir, { recursive: true });
      const thumbnails = await makeThumbnails(extras, rungs[rungs.length - 1]!, durationS ?? 0);
      // The storyboard decodes the lowest rung (already upright and square-pixel, and by far the
      // cheapest stream to decode in full) over its measured duration.
      const lowestDir = rungDir(rungs[0]!.quality);
      Object.assign(
        thumbnails,
        await makeStoryboard(extras, rungs[0]!, path.join(outDir, lowestDir, PLAYLIST_NAME), measure(lowestDir).durationS || (durationS ?? 0)),
      );
      const topDir = rungDir(rungs[rungs.length - 1]!.quality);
      const firstTopSegment = parseMediaPlaylist(finals.get(topDir) ?? "").segments[0]?.uri;
      // Kept in the result: subtitles uploaded later need the same X-TIMESTAMP-MAP.
      let mpegtsStartPts: number | null = null;
      if (opts.segmentType === "mpegts" && firstTopSegment) mpegtsStartPts = mpegtsFirstPts(await readFile(path.join(outDir, topDir, firstTopSegment))) ?? 126_000;
      const subtitles = await makeSubtitles(extras, measure(topDir).durationS || (durationS ?? 0), mpegtsStartPts);
      throwIfCancelled();

      // ---- result + final master
      const maxAudioPeak = Math.max(0, ...audioMeasures.map((m) => m.peak));
      const maxAudioAvg = Math.max(0, ...audioMeasures.map((m) => m.average));
      const renditions: RenditionOutput[] = [];
      for (const r of rungs) {
        const dir = rungDir(r.quality);
        const v = measure(dir);
        if (!codecs.has(r.quality)) codecs.set(r.quality, await rungCodec(tools, outDir, r, parseMediaPlaylist(finals.get(dir) ?? "").segments[0]?.uri ?? null));
        const videoCodec = codecs.get(r.quality)!;
        const mp4Size = mp4Sizes.get(r.quality);
        renditions.push({
          quality: r.quality,
          width: r.width,
          height: r.height,
          bitrate: Math.round(v.average + (defaultAudio?.average ?? 0)),
          // §4.3.4.2: "the largest sum of peak segment bit rates that is produced by any playable
          // combination of Renditions": this video plus the heaviest audio track.
          bandwidth: Math.round(v.peak + maxAudioPeak),
          averageBandwidth: Math.round(v.average + maxAudioAvg),
          codecs: audio.length > 0 ? `${videoCodec},${AAC_CODEC}` : videoCodec,
          fps: r.fps,
          playlistKey: `${prefix}${dir}/${PLAYLIST_NAME}`,
          mp4Key: mp4Size !== undefined ? `${prefix}mp4/${r.quality}.mp4` : null,
          sizeBytes: mp4Size ?? v.bytes + (defaultAudio?.bytes ?? 0),
        });
      }
      const audioTracks: AudioTrackOutput[] = audio.map((a, i) => ({
        language: a.language,
        name: a.name,
        isDefault: a.isDefault,
        playlistKey: `${prefix}${audioDir(a.dir)}/${PLAYLIST_NAME}`,
        codecs: AAC_CODEC,
        bitrate: audioMeasures[i]!.average,
      }));
      // Same builder as the videos domain uses to rewrite it when subtitles are uploaded.
      const master = buildMasterFromResult({ masterKey, renditions, audioTracks }, subtitles, opts.segmentType);
      await publisher.put(masterRel, master);
      reporter.playable = true;
      reporter.masterKey = masterKey;

      // Objects an earlier run wrote under hls/ or mp4/ that this run did not (another ladder,
      // more segments): remove them so the prefix holds exactly this result. Best effort: a
      // leftover file is harmless, no playlist references it.
      await removeStale(storage, prefix, new Set([...publisher.written].map((rel) => `${prefix}${rel}`)), deps.log);

      const top = rungs[rungs.length - 1]!;
      const outDuration = measure(rungDir(top.quality)).durationS;
      reporter.send("uploading", 100, 0, true);
      await reporter.flush();
      return {
        masterKey,
        durationS: Math.round((outDuration > 0 ? outDuration : (durationS ?? 0)) * 1000) / 1000,
        renditions,
        audioTracks,
        subtitleTracks: subtitles,
        thumbnails,
        segmentType: opts.segmentType,
        mpegtsStartPts,
      };
    } catch (err) {
      await reporter.flush();
      if (err instanceof TranscodeError) throw err;
      if (ctx.signal.aborted) throw new TranscodeError("cancelled", "transcode cancelled", { cause: err });
      throw new TranscodeError("transcode_failed", (err as Error).message, { cause: err });
    } finally {
      await rm(jobDir, { recursive: true, force: true }).catch(() => undefined);
      activeDirs.delete(jobDir);
    }
  };
}

/**
 * Thumbnail names this handler writes under `thumbs/` (anything else there, such as an uploaded
 * custom poster, is not ours).
 */
const OWN_THUMB = /^thumbs\/(?:(?:c\d+|poster|storyboard)\.jpg|storyboard\.vtt)$/;

async function removeStale(storage: Storage, prefix: string, keep: Set<string>, log?: TranscodeLogger): Promise<void> {
  try {
    for (const sub of ["hls/", "mp4/", "thumbs/"]) {
      for (const key of await storage.list(`${prefix}${sub}`)) {
        if (keep.has(key)) continue;
        if (sub === "thumbs/" && !OWN_THUMB.test(key.slice(prefix.length))) continue;
        await storage.delete(key);
      }
    }
  } catch (err) {
    log?.warn({ err, prefix }, "could not remove stale transcode outputs");
  }
}

interface ExtrasContext {
  tools: MediaTools;
  publisher: HlsPublisher;
  probe: TranscodeJob["probe"];
  input: string;
  workDir: string;
  signal: AbortSignal;
  remainingS: () => number;
  log?: TranscodeLogger;
  videoId: string;
}

/**
 * Runs an ffmpeg for a secondary output. Cancellation and the job timeout fail the job; any other
 * ffmpeg failure only loses this output (a video without a poster still plays): null + a warning.
 */
async function runSecondary(x: ExtrasContext, args: string[], what: string, capS = 300): Promise<boolean> {
  try {
    await runFfmpeg(x.tools, args, { timeoutS: Math.min(x.remainingS(), capS), signal: x.signal });
    return true;
  } catch (err) {
    if (err instanceof FfmpegError && err.code === "ffmpeg_failed") {
      x.log?.warn({ videoId: x.videoId, err: err.message, stderr: err.stderrTail.slice(-500) }, `${what} failed`);
      return false;
    }
    throw fromFfmpeg(err, what);
  }
}

/**
 * Candidate thumbnails (`thumbs/c<N>.jpg`, see THUMBNAIL_FRACTIONS) and the poster
 * (`thumbs/poster.jpg`): the first candidate that is not near-black.
 */
async function makeThumbnails(x: ExtrasContext, top: Rung, durationS: number): Promise<ThumbnailsOutput> {
  const size = thumbnailSize(top);
  const shots = thumbnailTimes(durationS).map((timeS, i) => ({
    timeS,
    jpeg: path.join(x.workDir, `c${i}.jpg`),
    gray: path.join(x.workDir, `c${i}.gray`),
  }));
  // One ffmpeg for every candidate (process start-up dominates for small frames); if it fails
  // as a whole (one bad seek), each candidate alone, so one broken spot costs only its frame.
  if (!(await runSecondary(x, buildThumbnailArgs(x.probe, shots, size, x.input), "thumbnails"))) {
    for (const shot of shots) await runSecondary(x, buildThumbnailArgs(x.probe, [shot], size, x.input), `thumbnail at ${shot.timeS} s`);
  }
  const jpegs: Array<Buffer | null> = [];
  const grays: Array<Uint8Array | null> = [];
  for (const shot of shots) {
    const [j, g] = await Promise.all([readFile(shot.jpeg).catch(() => null), readFile(shot.gray).catch(() => null)]);
    // A seek past the last frame writes nothing.
    const usable = j !== null && j.length > 0 && g !== null && g.length > 0;
    jpegs.push(usable ? j : null);
    grays.push(usable ? g : null);
  }
  const candidateKeys: string[] = [];
  for (const j of jpegs) {
    if (!j) continue;
    const rel = `thumbs/c${candidateKeys.length}.jpg`;
    await x.publisher.put(rel, j);
    candidateKeys.push(x.publisher.key(rel));
  }
  const chosen = choosePoster(grays);
  let posterKey: string | null = null;
  if (chosen !== null && jpegs[chosen]) {
    await x.publisher.put("thumbs/poster.jpg", jpegs[chosen]!);
    posterKey = x.publisher.key("thumbs/poster.jpg");
  }
  return { posterKey, candidateKeys, storyboardKey: null, storyboardVttKey: null };
}

/**
 * The storyboard (`thumbs/storyboard.jpg` + `thumbs/storyboard.vtt`, see storyboard.ts) from the
 * local playlist of `rung`. Like the other secondary outputs, a failure only loses it.
 */
async function makeStoryboard(x: ExtrasContext, rung: Rung, playlist: string, durationS: number): Promise<Pick<ThumbnailsOutput, "storyboardKey" | "storyboardVttKey">> {
  const none = { storyboardKey: null, storyboardVttKey: null };
  const plan = planStoryboard(durationS, rung);
  if (!plan) return none;
  const out = path.join(x.workDir, STORYBOARD_IMAGE);
  // A full decode of the lowest rung runs at hundreds of times real time; the cap only has to
  // allow for very long videos.
  if (!(await runSecondary(x, buildStoryboardArgs(playlist, plan, out), "storyboard", Math.max(300, durationS / 20)))) return none;
  const jpeg = await readFile(out).catch(() => null);
  if (!jpeg || jpeg.length === 0) return none;
  await x.publisher.put(`thumbs/${STORYBOARD_IMAGE}`, jpeg);
  await x.publisher.put(`thumbs/${STORYBOARD_VTT}`, buildStoryboardVtt(plan));
  return { storyboardKey: x.publisher.key(`thumbs/${STORYBOARD_IMAGE}`), storyboardVttKey: x.publisher.key(`thumbs/${STORYBOARD_VTT}`) };
}

/**
 * Text subtitle streams as WebVTT renditions: `hls/subs/<lang-or-index>/subs.vtt` and its
 * one-segment playlist. With MPEG-TS media (`pts` not null) each file gets the X-TIMESTAMP-MAP
 * matching the first video segment's PTS (see withTimestampMap).
 */
async function makeSubtitles(x: ExtrasContext, durationS: number, pts: number | null): Promise<SubtitleTrackOutput[]> {
  const plans = planSubtitles(x.probe);
  if (plans.length === 0) return [];
  const out: SubtitleTrackOutput[] = [];
  for (const s of plans) {
    const file = path.join(x.workDir, `sub-${s.streamIndex}.vtt`);
    if (!(await runSecondary(x, buildSubtitleArgs(x.input, s.streamIndex, file), `subtitle stream ${s.streamIndex}`))) continue;
    let vtt = await readFile(file, "utf8");
    if (pts !== null) vtt = withTimestampMap(vtt, pts);
    const dir = `hls/subs/${s.dir}`;
    await x.publisher.put(`${dir}/${SUBTITLE_FILE}`, vtt);
    await x.publisher.put(`${dir}/${PLAYLIST_NAME}`, subtitlePlaylist(durationS));
    out.push({ language: s.language, name: s.name, vttKey: x.publisher.key(`${dir}/${SUBTITLE_FILE}`), playlistKey: x.publisher.key(`${dir}/${PLAYLIST_NAME}`) });
  }
  return out;
}
