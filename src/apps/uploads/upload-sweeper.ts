/**
 * What removes uploads without a request for them: the periodic sweep of expired uploads (and of
 * staged bytes without a record), and account deletion. Both take each upload's lock, so they
 * never cut bytes from under a running PATCH, and leave bytes a validation is reading.
 */
import type { Config } from "../../config.js";
import type { VideoService } from "../videos/index.js";
import type { Lock, Locker } from "./locker.js";
import { uploadLockKey } from "./upload-limits.service.js";
import type { UploadProgressPublisher } from "./upload-progress-publisher.js";
import type { UploadByteStore } from "./upload-store.js";
import type { UploadValidationService } from "./upload-validation.service.js";
import type { UploadRepository, UploadRow } from "./upload.repository.js";

/** Rows per `expired()` query (a full page means: look again); staged uploads per `findMany`. */
const EXPIRED_PAGE = 500;
const ORPHAN_BATCH = 200;

export interface SweepResult {
  uploads: number;
  orphanFiles: number;
}

export interface UploadSweeperDeps {
  config: Pick<Config, "upload">;
  repo: Pick<UploadRepository, "expired" | "find" | "findMany" | "delete" | "byUser">;
  videos: Pick<VideoService, "get" | "fail">;
  locker: Locker;
  store: Pick<UploadByteStore, "remove" | "list">;
  progress: Pick<UploadProgressPublisher, "forget">;
  validation: Pick<UploadValidationService, "isRunning">;
}

export class UploadSweeper {
  constructor(private readonly d: UploadSweeperDeps) {}

  /**
   * Deletes what expired: unfinished uploads (their partial files; their video fails with
   * `upload_expired`), partial uploads never concatenated, old finished and refused records, and
   * staging files without a record. Uploads locked by a running request are left for next time.
   */
  async sweepExpired(now = new Date()): Promise<SweepResult> {
    const uploads = await this.sweepRecords(now.toISOString());
    const orphanFiles = await this.sweepOrphans(now.getTime() - this.d.config.upload.expiryS * 1000);
    return { uploads, orphanFiles };
  }

  /** Account deletion: every upload of the user and its staged bytes (their videos go with the videos domain). */
  async removeUserContent(userId: string): Promise<void> {
    for (const row of await this.d.repo.byUser(userId)) {
      const lock = await this.d.locker.acquire(uploadLockKey(row.id)).catch(() => null);
      try {
        if (!this.d.validation.isRunning(row.id)) await this.d.store.remove(row.id);
        await this.d.repo.delete(row.id);
        this.d.progress.forget(row.id);
      } finally {
        await lock?.release();
      }
    }
  }

  private async sweepRecords(nowS: string): Promise<number> {
    let uploads = 0;
    for (;;) {
      const rows = await this.d.repo.expired(nowS, EXPIRED_PAGE);
      let progressed = 0;
      for (const row of rows) {
        if (await this.expireOne(row, nowS)) progressed++;
      }
      uploads += progressed;
      if (rows.length < EXPIRED_PAGE || progressed === 0) break;
    }
    return uploads;
  }

  /** One expired upload, unless a request holds its lock or it changed meanwhile; true when removed. */
  private async expireOne(row: UploadRow, nowS: string): Promise<boolean> {
    let lock: Lock;
    try {
      lock = await this.d.locker.acquire(uploadLockKey(row.id), { waitMs: 0, requestRelease: false });
    } catch {
      return false;
    }
    try {
      const current = await this.d.repo.find(row.id);
      if (!current || current.expires_at > nowS) return false;
      if (current.state === "completed" && this.d.validation.isRunning(current.id)) return false;
      if (current.state !== "completed") await this.d.store.remove(current.id);
      await this.d.repo.delete(current.id);
      this.d.progress.forget(current.id);
      if (current.state === "uploading" && current.video_id) {
        const video = await this.d.videos.get(current.video_id).catch(() => null);
        if (video && video.status === "uploading") {
          await this.d.videos.fail(current.video_id, "upload_expired", "The upload was not finished in time and expired.");
        }
      }
      return true;
    } finally {
      await lock.release();
    }
  }

  /** Staged bytes without an upload record, last written before `cutoffMs` (a crash, a lost insert). */
  private async sweepOrphans(cutoffMs: number): Promise<number> {
    let orphans = 0;
    const staged = (await this.d.store.list()).filter((f) => f.mtimeMs < cutoffMs);
    for (let i = 0; i < staged.length; i += ORPHAN_BATCH) {
      const batch = staged.slice(i, i + ORPHAN_BATCH);
      const known = new Set((await this.d.repo.findMany(batch.map((f) => f.id))).map((r) => r.id));
      for (const f of batch) {
        if (known.has(f.id) || this.d.validation.isRunning(f.id)) continue;
        await this.d.store.remove(f.id);
        orphans++;
      }
    }
    return orphans;
  }
}
