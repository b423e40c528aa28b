/**
 * Quotas and locks: the per-user creation lock (so two parallel POSTs cannot both pass the quota
 * check), the per-upload write lock, the concurrency limit (429 `too_many_uploads`), the cap on
 * conversions in flight (429 `conversion_queue_full`, VideoService.assertConversionSlot) and the
 * storage quota (413 `quota_exceeded`), which counts the user's videos (originals and generated
 * media) plus their unfinished partial uploads.
 */
import type { Config } from "../../config.js";
import { payloadTooLarge } from "../../lib/errors.js";
import { nowIso } from "../../lib/ids.js";
import type { AuthUser } from "../users/index.js";
import type { VideoService } from "../videos/index.js";
import { LockTimeoutError, type Lock, type Locker } from "./locker.js";
import { TusError } from "./tus-headers.js";
import type { UploadRepository } from "./upload.repository.js";

/** Partial uploads (parallel chunks of one file) get a roomier limit than whole uploads. */
const PARTIALS_PER_UPLOAD_SLOT = 8;

/** The lock one upload's writers (PATCH, DELETE, concatenation, sweep) share. */
export const uploadLockKey = (uploadId: string): string => `upload:${uploadId}`;

export class UploadLimits {
  constructor(
    private readonly config: Pick<Config, "upload">,
    private readonly repo: Pick<UploadRepository, "activeCounts">,
    private readonly videos: Pick<VideoService, "quotaUsed" | "assertConversionSlot">,
    private readonly locker: Locker,
  ) {}

  /** Serializes one user's creations so two parallel POSTs cannot both pass the quota check. */
  async withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const lock = await this.locker.acquire(`upload-create:${userId}`, { requestRelease: false, waitMs: 15_000 }).catch((err: unknown) => {
      if (err instanceof LockTimeoutError) throw new TusError(429, "too_many_uploads", "Too many uploads are being created at once; retry shortly.", { "Retry-After": "5" }, { retry_after_s: 5 });
      throw err;
    });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** The write lock of one upload for a request (PATCH, DELETE): asks the holder to let go, else 423. */
  async lockUpload(uploadId: string): Promise<Lock> {
    try {
      return await this.locker.acquire(uploadLockKey(uploadId));
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new TusError(423, "upload_locked", "Another request is writing to this upload; retry shortly.", { "Retry-After": "1" }, { retry_after_s: 1 });
      throw err;
    }
  }

  /**
   * Concurrency (429 `too_many_uploads`) and quota (413 `quota_exceeded`). `alreadyCounted`:
   * bytes of partial uploads that are about to become this upload.
   */
  async checkLimits(user: AuthUser, length: number, partial: boolean, alreadyCounted = 0): Promise<void> {
    const { upload } = this.config;
    const active = await this.repo.activeCounts(user.id, nowIso());
    const limit = partial ? upload.maxConcurrentPerUser * PARTIALS_PER_UPLOAD_SLOT : upload.maxConcurrentPerUser;
    if ((partial ? active.partial : active.whole) >= limit) {
      throw new TusError(429, "too_many_uploads", `At most ${limit} ${partial ? "partial uploads" : "uploads"} may be in progress at once; finish or delete one first.`, { "Retry-After": "60" }, { used: partial ? active.partial : active.whole, limit, retry_after_s: 60 });
    }
    // Partial uploads too: they exist only to become a video, so their bytes are not taken for
    // a final upload that would be refused.
    await this.videos.assertConversionSlot(user.id);
    const used = (await this.videos.quotaUsed(user.id)) + active.partialBytes - alreadyCounted;
    if (used + length > upload.userQuota) {
      throw payloadTooLarge("This upload would exceed your storage quota.", "quota_exceeded", { used, limit: upload.userQuota, requested: length });
    }
  }

  /** The simple upload's checks once its size is known (its bytes were never counted), under the user lock. */
  async checkQuota(user: AuthUser, size: number): Promise<void> {
    // again: another upload may have been created while this body streamed in
    await this.videos.assertConversionSlot(user.id);
    const used = await this.videos.quotaUsed(user.id);
    const { userQuota } = this.config.upload;
    if (used + size > userQuota) {
      throw payloadTooLarge("This upload would exceed your storage quota.", "quota_exceeded", { used, limit: userQuota, requested: size });
    }
  }

  /** Early refusal for the simple upload, before any byte is read. */
  async checkSimpleAllowed(user: AuthUser, contentLength: number | null): Promise<void> {
    const { upload } = this.config;
    const max = Math.min(upload.simpleMax, upload.maxSize);
    // Content-Length covers the multipart framing and fields too: only refuse when even the
    // framing-free file would be too large (64 KiB of slack for fields and boundaries).
    if (contentLength !== null && contentLength > max + 64 * 1024) {
      throw payloadTooLarge(`Simple uploads are limited to ${max} bytes; use the resumable (tus) upload for larger files.`, "too_large", { limit: max, requested: contentLength });
    }
    const active = await this.repo.activeCounts(user.id, nowIso());
    if (active.whole >= upload.maxConcurrentPerUser) {
      throw new TusError(429, "too_many_uploads", `At most ${upload.maxConcurrentPerUser} uploads may be in progress at once.`, { "Retry-After": "60" }, {
        used: active.whole,
        limit: upload.maxConcurrentPerUser,
        retry_after_s: 60,
      });
    }
    await this.videos.assertConversionSlot(user.id);
    const used = await this.videos.quotaUsed(user.id);
    if (used >= upload.userQuota) {
      throw payloadTooLarge("Your storage quota is used up.", "quota_exceeded", { used, limit: upload.userQuota });
    }
  }
}
