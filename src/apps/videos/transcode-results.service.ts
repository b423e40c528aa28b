/**
 * The backend half of the conversion boundary: applies the workers' messages (active, progress,
 * completed, failed) to the Video and republishes them as video events. Runs in every API
 * process; each update is conditional on the video's current status, so the same message
 * applied twice (every API instance hears every BullMQ event) or late (after a delete or a
 * reprocess) changes nothing. One video's messages are applied in order, one at a time.
 *
 * Messages can be missed: the embedded queue's events reach only its own process (a separate
 * `npm run start:worker` on the same database is never heard), and an API that stops between a
 * job's end and the result being applied never applies it. So a reconcile loop (`start()`, every
 * ~2 s) inspects the job of every queued/processing video and applies what the queue says
 * happened, as the message that would have said it; a video whose job is gone is re-enqueued.
 */
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { AppError } from "../../lib/errors.js";
import type { JobEvent, JobInspection, JobProgress, Queue } from "../../platform/queue/queue.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { TranscodeProgress, TranscodeResult } from "../../contracts/transcode.messages.js";
import { nowIso } from "../../lib/ids.js";
import type { ApiMetrics } from "../../lib/metrics.js";
import { VideoRepository, type VideoRow } from "./video.repository.js";
import { VideoService } from "./video.service.js";
import { parseJson } from "./video-serializer.js";
import type { FailureCode, VideoProgress } from "./video.types.js";

const JOB_FAILURE_CODES: Record<string, FailureCode> = {
  transcode_failed: "transcode_failed",
  timeout: "timeout",
  storage_error: "storage_error",
  limit_exceeded: "limit_exceeded",
};

export const videoIdOfJob = (jobId: string): string | null => (jobId.startsWith("transcode-") ? jobId.slice("transcode-".length) : null);
export const transcodeJobId = (videoId: string): string => `transcode-${videoId}`;

const TRANSCODE = "video.transcode" as const;
/** videos reconciled per pass at most; a larger backlog is walked over several passes */
const RECONCILE_BATCH = 500;

export interface TranscodeResultsOptions {
  /** period of the reconcile loop started by start() (default 2 s) */
  reconcileIntervalMs?: number;
  /**
   * How long a queued/processing video must stay without a job (or with a cancelled one), its row
   * unchanged, before it is re-enqueued: longer than a delete or a reprocess takes between
   * cancelling the job and removing the row or enqueueing anew (default 30 s).
   */
  lostJobGraceMs?: number;
  /**
   * What people uploaded to the video (subtitle tracks), carried into each new result: writes
   * their renditions and master next to the new outputs and returns the media JSON to store.
   */
  uploads?: { attachUploads(videoId: string, result: TranscodeResult): Promise<TranscodeResult> };
  /** conversions, encode seconds by rung and time to playable, as this process applies them */
  metrics?: ApiMetrics;
}

/**
 * What a conversion stored, for the quota: the worker's count, or for a result from before it
 * counted, the renditions' bytes (the bulk of it).
 */
export function storedBytesOf(result: TranscodeResult): number {
  return result.storedBytes ?? result.renditions.reduce((n, r) => n + r.sizeBytes, 0);
}

/** True when the job's progress says more than the stored one: another step, percent or playability. */
function progressDiffers(v: VideoRow, p: JobProgress): boolean {
  if (p.playable === true && v.playable === 0) return true;
  const stored = parseJson<VideoProgress>(v.progress);
  return !stored || stored.step !== p.step || stored.percent !== Math.round(p.percent * 10) / 10;
}

export class TranscodeResultsService {
  private unsubscribe: (() => void) | null = null;
  /** ETA smoothing and progress throttling per video */
  private lastProgressAt = new Map<string, number>();
  /** per video, the tail of its applications: its messages apply in order, one at a time */
  private readonly chains = new Map<string, Promise<void>>();
  /** videos last seen without a live job: since when, and their row's updated_at then */
  private readonly suspects = new Map<string, { since: number; updatedAt: string }>();
  private readonly intervalMs: number;
  private readonly lostJobGraceMs: number;
  private readonly uploads: TranscodeResultsOptions["uploads"];
  private readonly metrics: ApiMetrics | undefined;
  /**
   * When this process queued a video's conversion, and when its job started: the time to
   * playable is observed only by the process that queued it (every API hears every BullMQ
   * event; counting in each would count each video once per API), the duration logged at the end.
   */
  private readonly enqueuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  /** where the next pass starts when more videos are in flight than one pass takes */
  private cursor = "";

  constructor(
    private readonly repo: VideoRepository,
    private readonly videos: VideoService,
    private readonly queue: Queue,
    private readonly storage: Storage,
    private readonly config: Config,
    private readonly logger: Logger,
    opts: TranscodeResultsOptions = {},
  ) {
    this.intervalMs = opts.reconcileIntervalMs ?? 2000;
    this.lostJobGraceMs = opts.lostJobGraceMs ?? 30_000;
    this.uploads = opts.uploads;
    this.metrics = opts.metrics;
    videos.onEnqueued((id) => this.enqueuedAt.set(id, Date.now()));
  }

  /** Listens to the queue's events and starts the reconcile loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.queue.onEvent((e) => {
      const id = e.name === TRANSCODE ? videoIdOfJob(e.jobId) : null;
      if (id) void this.serially(id, () => this.apply(e), e.jobId);
    });
    this.schedule();
  }

  /** Stops listening and the loop; resolves once the pass and the applications under way are done. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass;
    await Promise.all([...this.chains.values()]);
    this.suspects.clear();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass = this.reconcile()
        .catch((err: unknown) => this.logger.error({ err }, "reconciling conversions failed"))
        .finally(() => {
          this.pass = null;
          this.schedule();
        });
    }, this.intervalMs);
    // the loop never keeps a process alive on its own
    this.timer.unref();
  }

  /** Runs `fn` after every earlier application for this video; never rejects (failures are logged). */
  private serially(videoId: string, fn: () => Promise<void>, jobId = transcodeJobId(videoId)): Promise<void> {
    const next = (this.chains.get(videoId) ?? Promise.resolve())
      .then(fn)
      .catch((err: unknown) => this.logger.error({ err, jobId }, "applying a job event failed"));
    this.chains.set(videoId, next);
    void next.then(() => {
      if (this.chains.get(videoId) === next) this.chains.delete(videoId);
    });
    return next;
  }

  /**
   * One pass: for each queued/processing video, what its job's state says the events may have
   * missed (start, progress, playability, the result, a final failure), applied through apply();
   * a video whose job is gone is re-enqueued after `lostJobGraceMs`.
   */
  async reconcile(): Promise<void> {
    const all = (await this.repo.idsByStatus(["queued", "processing"])).sort();
    const inFlight = new Set(all);
    for (const id of this.suspects.keys()) if (!inFlight.has(id)) this.suspects.delete(id);
    // a video deleted mid-conversion never gets a final message here (another process ran it)
    for (const key of this.lastProgressAt.keys()) if (!inFlight.has(key.slice(0, key.lastIndexOf(":")))) this.lastProgressAt.delete(key);
    for (const times of [this.enqueuedAt, this.startedAt]) for (const id of times.keys()) if (!inFlight.has(id)) times.delete(id);
    let batch = all;
    if (all.length > RECONCILE_BATCH) {
      const from = all.findIndex((id) => id > this.cursor);
      batch = [...all.slice(Math.max(0, from)), ...(from > 0 ? all.slice(0, from) : [])].slice(0, RECONCILE_BATCH);
      this.cursor = batch[batch.length - 1]!;
    }
    for (const id of batch) await this.serially(id, () => this.reconcileVideo(id));
  }

  private async reconcileVideo(id: string): Promise<void> {
    const v = await this.repo.find(id);
    if (!v || (v.status !== "queued" && v.status !== "processing")) {
      this.suspects.delete(id);
      return;
    }
    const jobId = transcodeJobId(id);
    const job = await this.queue.inspect(jobId);
    if (!job || job.name !== TRANSCODE || (job.state === "failed" && job.failure?.code === "cancelled")) {
      await this.recoverLostJob(v, job);
      return;
    }
    this.suspects.delete(id);
    switch (job.state) {
      case "waiting":
        // (a processing video whose job waits again was requeued: it shows its last progress until it restarts)
        if (v.status === "queued") await this.updateQueuePosition(v, await this.queue.position(jobId));
        return;
      case "active":
        if (v.status === "queued") await this.apply({ kind: "active", name: TRANSCODE, jobId, attempt: job.attempt });
        // only a change is applied (and published), at most once per pass
        if (job.progress && progressDiffers(v, job.progress)) await this.apply({ kind: "progress", name: TRANSCODE, jobId, progress: job.progress });
        return;
      case "completed":
        if (job.result) await this.apply({ kind: "completed", name: TRANSCODE, jobId, result: job.result });
        return;
      case "failed":
        await this.apply({ kind: "failed", name: TRANSCODE, jobId, failure: job.failure ?? { code: "job_failed", message: "The conversion failed." }, final: true });
        return;
    }
  }

  /**
   * A queued/processing video with no job, or a cancelled one: lost (Redis emptied, a crash
   * between the row and the queue) unless a delete or reprocess is under way. Those change or
   * remove the row within the grace period, so only a video seen that way on passes at least
   * `lostJobGraceMs` apart, its row unchanged, is re-enqueued.
   */
  private async recoverLostJob(v: VideoRow, job: JobInspection | null): Promise<void> {
    const now = Date.now();
    const seen = this.suspects.get(v.id);
    if (!seen || seen.updatedAt !== v.updated_at) {
      this.suspects.set(v.id, { since: now, updatedAt: v.updated_at });
      return;
    }
    if (now - seen.since < this.lostJobGraceMs) return;
    this.suspects.delete(v.id);
    this.logger.warn({ videoId: v.id, job: job ? "cancelled" : "missing" }, "re-enqueueing a video whose conversion job was lost");
    try {
      await this.videos.enqueueTranscode(v.id);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code === "video_not_found") return;
      if (err.code !== "original_missing") throw err;
      // nothing left to convert from: it ends like any conversion that cannot succeed
      const message = "The conversion job was lost and the original is no longer available.";
      await this.apply({ kind: "failed", name: TRANSCODE, jobId: transcodeJobId(v.id), failure: { code: "transcode_failed", message }, final: true });
    }
  }

  /** Stores and publishes a queued video's place in line when it changed. */
  private async updateQueuePosition(v: VideoRow, position: number | null): Promise<void> {
    const stored = parseJson<VideoProgress>(v.progress);
    if (stored && stored.step === "queued" && stored.queue_position === position) return;
    const progress: VideoProgress = { step: "queued", percent: 0, bytes_received: null, eta_s: null, queue_position: position };
    if (await this.repo.updateProgressIfChanged(v.id, "queued", JSON.stringify(progress))) {
      await this.videos.publish(v.id, { type: "queued", queue_position: position });
    }
  }

  async apply(e: JobEvent): Promise<void> {
    if (e.name !== TRANSCODE) return;
    const id = videoIdOfJob(e.jobId);
    if (!id) return;
    switch (e.kind) {
      case "active": {
        const progress: VideoProgress = { step: "starting", percent: 0, bytes_received: null, eta_s: null, queue_position: null };
        const patch = { status: "processing", progress: JSON.stringify(progress) };
        // queued → processing happens once (the other APIs hearing the same event find it processing)
        const started = await this.repo.updateIfStatus(id, ["queued"], patch);
        if (started || (await this.repo.updateIfStatus(id, ["processing"], patch))) {
          if (started || !this.startedAt.has(id)) this.startedAt.set(id, Date.now());
          if (started) this.logger.info({ video: id, attempt: e.attempt }, "conversion started");
          else if (e.attempt > 1) this.logger.info({ video: id, attempt: e.attempt }, "conversion attempt started");
          await this.videos.publish(id, { type: "status", status: "processing", playable: false, attempt: e.attempt });
          await this.refreshQueuePositions();
        }
        return;
      }
      case "progress": {
        const p = e.progress as unknown as TranscodeProgress;
        const progress: VideoProgress = { step: p.step, percent: Math.round(p.percent * 10) / 10, bytes_received: null, eta_s: p.eta_s, queue_position: null };
        const patch: Parameters<VideoRepository["update"]>[1] = { status: "processing", progress: JSON.stringify(progress) };
        const becomesPlayable = p.playable === true;
        let firstPlayable = false;
        if (becomesPlayable) {
          patch.playable = 1;
          const v = await this.repo.find(id);
          firstPlayable = v !== undefined && v.playable === 0;
          if (v && v.playable === 0) patch.published_at = v.published_at ?? nowIso();
        }
        if (!(await this.repo.updateIfStatus(id, ["queued", "processing"], patch))) return;
        if (firstPlayable) this.becamePlayable(id);
        if (becomesPlayable && !this.lastProgressAt.has(`${id}:playable`)) {
          this.lastProgressAt.set(`${id}:playable`, Date.now());
          await this.videos.publish(id, { type: "playable", playable: true, hls_url: `/api/videos/${id}/hls/master.m3u8` });
        }
        await this.videos.publish(id, { type: "processing", step: p.step, percent: progress.percent, eta_s: p.eta_s });
        return;
      }
      case "completed": {
        const result = e.result as TranscodeResult;
        const v = await this.repo.find(id);
        if (!v || (v.status !== "processing" && v.status !== "queued")) return;
        // Before the video turns ready, so its first ready master already lists the uploaded
        // tracks. A failure here fails this application; the reconcile loop applies the
        // completed job again on its next pass (the kept uploads are untouched).
        const media = this.uploads ? await this.uploads.attachUploads(id, result) : result;
        const applied = await this.repo.updateIfStatus(id, ["queued", "processing"], {
          status: "ready",
          playable: 1,
          media: JSON.stringify(media),
          media_bytes: storedBytesOf(result),
          duration_s: result.durationS || v.duration_s,
          progress: null,
          published_at: v.published_at ?? nowIso(),
          failure_code: null,
          failure_message: null,
          ...(this.config.media.keepOriginals ? {} : { source_key: null }),
        });
        this.lastProgressAt.delete(`${id}:playable`);
        if (!applied) return;
        // a result applied before any playable progress was (a reconcile pass that found the job done)
        if (v.playable === 0) this.becamePlayable(id);
        this.finished(id, "ready", { encode_s: result.encodeSeconds ?? null });
        this.metrics?.observeTranscode(result);
        if (!this.config.media.keepOriginals && v.source_key) await this.storage.delete(v.source_key).catch(() => undefined);
        await this.videos.publish(id, { type: "status", status: "ready", playable: true, failure_code: null, failure_message: null });
        return;
      }
      case "failed": {
        this.lastProgressAt.delete(`${id}:playable`);
        if (!e.final) {
          await this.videos.publish(id, { type: "retrying", failure_code: e.failure.code, message: e.failure.message });
          return;
        }
        if (e.failure.code === "cancelled") return;
        const code = JOB_FAILURE_CODES[e.failure.code] ?? "transcode_failed";
        const v = await this.repo.find(id);
        if (!v || (v.status !== "processing" && v.status !== "queued")) return;
        // No half-published outputs: everything but the kept original goes.
        await this.videos.removeOutputs(id, v.source_key, v.custom_poster_key);
        const applied = await this.repo.updateIfStatus(id, ["queued", "processing"], {
          status: "failed",
          playable: 0,
          media: null,
          media_bytes: 0,
          progress: null,
          failure_code: code,
          failure_message: e.failure.message.slice(0, 500),
        });
        if (applied) {
          this.finished(id, "failed", { code, job_code: e.failure.code, message: e.failure.message.slice(0, 200) });
          await this.videos.publish(id, { type: "status", status: "failed", playable: false, failure_code: code, failure_message: e.failure.message.slice(0, 500) });
        }
        await this.refreshQueuePositions();
        return;
      }
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  /** The first playable state of a conversion: its time since this process queued it, and a line. */
  private becamePlayable(id: string): void {
    const queuedAt = this.enqueuedAt.get(id);
    this.enqueuedAt.delete(id);
    const sinceQueuedS = queuedAt === undefined ? null : (Date.now() - queuedAt) / 1000;
    if (sinceQueuedS !== null) this.metrics?.timeToPlayable.observe(sinceQueuedS);
    this.logger.info({ video: id, since_queued_s: sinceQueuedS }, "conversion playable");
  }

  /** One info line and one count per conversion that ended here (ready or failed), with its duration. */
  private finished(id: string, outcome: "ready" | "failed", fields: Record<string, unknown>): void {
    const startedAt = this.startedAt.get(id);
    this.startedAt.delete(id);
    this.enqueuedAt.delete(id);
    const durationS = startedAt === undefined ? null : (Date.now() - startedAt) / 1000;
    this.metrics?.conversions.inc({ outcome });
    if (outcome === "ready") this.logger.info({ video: id, duration_s: durationS, ...fields }, "conversion finished");
    else this.logger.info({ video: id, duration_s: durationS, ...fields }, "conversion failed");
  }

  /** Queued videos learn their new place in line when one ahead of them starts or leaves. */
  async refreshQueuePositions(): Promise<void> {
    const queued = await this.repo.idsByStatus(["queued"]);
    for (const id of queued.slice(0, 200)) {
      const v = await this.repo.find(id);
      if (v) await this.updateQueuePosition(v, await this.queue.position(transcodeJobId(id)));
    }
  }
}
