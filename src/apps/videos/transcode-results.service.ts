/**
 * The backend half of the conversion boundary: applies the workers' messages (active, progress,
 * completed, failed) to the Video and republishes them as video events. Runs in every API
 * process; each update is conditional on the video's current status, so the same message
 * applied twice (every API instance hears every BullMQ event) or late (after a delete or a
 * reprocess) changes nothing.
 */
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { JobEvent, Queue } from "../../platform/queue/queue.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { TranscodeProgress, TranscodeResult } from "../../services/transcoder/transcoder.types.js";
import { nowIso } from "../../lib/ids.js";
import { VideoRepository } from "./video.repository.js";
import { VideoService } from "./video.service.js";
import type { FailureCode, VideoProgress } from "./video.types.js";

const JOB_FAILURE_CODES: Record<string, FailureCode> = {
  transcode_failed: "transcode_failed",
  timeout: "timeout",
  storage_error: "storage_error",
};

export const videoIdOfJob = (jobId: string): string | null => (jobId.startsWith("transcode-") ? jobId.slice("transcode-".length) : null);

export class TranscodeResultsService {
  private unsubscribe: (() => void) | null = null;
  /** ETA smoothing and progress throttling per video */
  private lastProgressAt = new Map<string, number>();

  constructor(
    private readonly repo: VideoRepository,
    private readonly videos: VideoService,
    private readonly queue: Queue,
    private readonly storage: Storage,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.queue.onEvent((e) => {
      this.apply(e).catch((err: unknown) => this.logger.error({ err, jobId: e.jobId }, "applying a job event failed"));
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  async apply(e: JobEvent): Promise<void> {
    if (e.name !== "video.transcode") return;
    const id = videoIdOfJob(e.jobId);
    if (!id) return;
    switch (e.kind) {
      case "active": {
        const progress: VideoProgress = { step: "starting", percent: 0, bytes_received: null, eta_s: null, queue_position: null };
        if (await this.repo.updateIfStatus(id, ["queued", "processing"], { status: "processing", progress: JSON.stringify(progress) })) {
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
        if (becomesPlayable) {
          patch.playable = 1;
          const v = await this.repo.find(id);
          if (v && v.playable === 0) patch.published_at = v.published_at ?? nowIso();
        }
        if (!(await this.repo.updateIfStatus(id, ["queued", "processing"], patch))) return;
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
        const applied = await this.repo.updateIfStatus(id, ["queued", "processing"], {
          status: "ready",
          playable: 1,
          media: JSON.stringify(result),
          duration_s: result.durationS || v.duration_s,
          progress: null,
          published_at: v.published_at ?? nowIso(),
          failure_code: null,
          failure_message: null,
          ...(this.config.media.keepOriginals ? {} : { source_key: null }),
        });
        this.lastProgressAt.delete(`${id}:playable`);
        if (!applied) return;
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
        await this.videos.removeOutputs(id, v.source_key);
        const applied = await this.repo.updateIfStatus(id, ["queued", "processing"], {
          status: "failed",
          playable: 0,
          media: null,
          progress: null,
          failure_code: code,
          failure_message: e.failure.message.slice(0, 500),
        });
        if (applied) await this.videos.publish(id, { type: "status", status: "failed", playable: false, failure_code: code, failure_message: e.failure.message.slice(0, 500) });
        await this.refreshQueuePositions();
        return;
      }
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  /** Queued videos learn their new place in line when one ahead of them starts or leaves. */
  async refreshQueuePositions(): Promise<void> {
    const queued = await this.repo.idsByStatus(["queued"]);
    for (const id of queued.slice(0, 200)) {
      const position = await this.queue.position(`transcode-${id}`);
      const progress: VideoProgress = { step: "queued", percent: 0, bytes_received: null, eta_s: null, queue_position: position };
      if (await this.repo.updateIfStatus(id, ["queued"], { progress: JSON.stringify(progress) })) {
        await this.videos.publish(id, { type: "queued", queue_position: position });
      }
    }
  }
}
