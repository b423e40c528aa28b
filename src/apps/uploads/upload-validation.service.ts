/**
 * Validation of complete uploads, in the background: the video goes `validating`, the file is
 * judged (upload-validator.ts: sniff, ffprobe, limits, a short decode) in one of a few slots, and
 * a good file is moved to storage and handed to the videos domain, which queues its conversion.
 * Validations a restart interrupted are resumed by `recover()`.
 */
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { ApiMetrics } from "../../lib/metrics.js";
import type { MediaTools } from "../../platform/media/media-tools.js";
import type { Storage } from "../../platform/storage/storage.js";
import { videoKeys, type VideoProgress, type VideoService } from "../videos/index.js";
import type { LocalFile, UploadByteStore } from "./upload-store.js";
import type { UploadRepository, UploadRow } from "./upload.repository.js";
import { validateVideoFile } from "./upload-validator.js";

/** ffprobe/ffmpeg validations at once in this process; more wait their turn. */
const VALIDATION_CONCURRENCY = 2;

export interface UploadValidationDeps {
  config: Pick<Config, "upload">;
  logger: Logger;
  repo: Pick<UploadRepository, "pendingValidation">;
  videos: Pick<VideoService, "get" | "setStatus" | "fail" | "accept">;
  store: UploadByteStore;
  storage: Pick<Storage, "localPath" | "putFile" | "delete">;
  media: MediaTools;
  metrics?: ApiMetrics | undefined;
}

export class UploadValidationService {
  private readonly validations = new Map<string, Promise<void>>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private readonly shutdown = new AbortController();

  constructor(private readonly d: UploadValidationDeps) {}

  /** Every byte of a whole upload is in (row `completed`): `validating`, and validation starts in the background. */
  async submit(row: UploadRow): Promise<void> {
    this.d.logger.info({ upload: row.id, video: row.video_id, bytes: row.length }, "upload completed");
    this.d.metrics?.uploadsCompleted.inc();
    const progress: VideoProgress = { step: "validating", percent: 0, bytes_received: row.length, eta_s: null, queue_position: null };
    await this.d.videos.setStatus(row.video_id!, "validating", { progress: JSON.stringify(progress) });
    this.schedule(row);
  }

  /** A validation of this upload is scheduled or running (its bytes must stay). */
  isRunning(uploadId: string): boolean {
    return this.validations.has(uploadId);
  }

  /** Resumes validations a restart interrupted (videos left `validating`). */
  async recover(): Promise<number> {
    const rows = await this.d.repo.pendingValidation();
    for (const row of rows) {
      if ((await this.d.store.size(row.id)) === row.length) this.schedule(row);
      else if (row.video_id) await this.d.videos.fail(row.video_id, "storage_error", "The uploaded file was lost; please upload it again.");
    }
    return rows.length;
  }

  /** Resolves when no validation is running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.validations.size > 0) await Promise.allSettled([...this.validations.values()]);
  }

  /** Stops validations; their videos stay `validating` for `recover()`. */
  async close(): Promise<void> {
    this.shutdown.abort();
    for (const r of this.queue.splice(0)) r();
    await Promise.allSettled([...this.validations.values()]);
  }

  private schedule(row: UploadRow): void {
    if (this.validations.has(row.id) || this.shutdown.signal.aborted) return;
    const task = this.run(row)
      .catch((err: unknown) => this.d.logger.error({ err, upload: row.id }, "upload validation crashed"))
      .finally(() => this.validations.delete(row.id));
    this.validations.set(row.id, task);
  }

  private async slot(): Promise<() => void> {
    if (this.running >= VALIDATION_CONCURRENCY) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    return () => {
      this.running--;
      this.queue.shift()?.();
    };
  }

  private async run(row: UploadRow): Promise<void> {
    const release = await this.slot();
    try {
      if (this.shutdown.signal.aborted) return;
      const video = await this.d.videos.get(row.video_id!).catch(() => null);
      if (!video || video.status !== "validating") {
        await this.d.store.remove(row.id);
        return;
      }
      const file = await this.d.store.localFile(row.id);
      try {
        await this.validateAndAccept(row, file);
      } finally {
        await file.release();
      }
    } finally {
      release();
    }
  }

  private async validateAndAccept(row: UploadRow, file: LocalFile): Promise<void> {
    const videoId = row.video_id!;
    const outcome = await validateVideoFile(file.path, row.length, { config: this.d.config, media: this.d.media }, this.shutdown.signal);
    // Interrupted by shutdown: the video stays `validating` and `recover()` resumes it.
    if (this.shutdown.signal.aborted) return;
    if (!outcome.ok) {
      this.d.logger.info({ video: videoId, code: outcome.code }, "upload failed validation");
      await this.d.videos.fail(videoId, outcome.code, outcome.message);
      await this.d.store.remove(row.id);
      return;
    }
    const key = videoKeys.original(videoId);
    try {
      await this.moveToStorage(row.id, file, key);
    } catch (err) {
      this.d.logger.error({ err, video: videoId }, "storing the original failed");
      await this.d.videos.fail(videoId, "storage_error", "The file could not be stored; please upload it again.");
      await this.d.store.remove(row.id);
      return;
    }
    const still = await this.d.videos.get(videoId).catch(() => null);
    if (!still || still.status !== "validating") {
      // Deleted while we validated: do not resurrect it.
      if (!still) await this.d.storage.delete(key).catch(() => undefined);
      return;
    }
    await this.d.videos.accept(videoId, outcome.probe, key, row.length);
  }

  /**
   * Disk storage on the same filesystem: a rename (no copy of gigabytes). Otherwise, and for
   * S3, the storage adapter uploads the local file. Then the store drops the upload's bytes
   * (nothing left to drop after a rename of a disk-staged file).
   */
  private async moveToStorage(uploadId: string, file: LocalFile, key: string): Promise<void> {
    const dest = this.d.storage.localPath(key);
    let moved = false;
    if (dest) {
      try {
        await mkdir(path.dirname(dest), { recursive: true });
        await rename(file.path, dest);
        moved = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      }
    }
    if (!moved) await this.d.storage.putFile(key, file.path, { contentType: "application/octet-stream" });
    await this.d.store.remove(uploadId);
  }
}
