/**
 * The upload record's life shared by the tus and the simple upload: the Video row an upload
 * creates (status `uploading`), the upload row with its expiry, and completion (every byte is in:
 * the row is `completed` and a whole upload goes to validation).
 */
import type { Config } from "../../config.js";
import { newId } from "../../lib/ids.js";
import type { AuthUser } from "../users/index.js";
import type { VideoRow, VideoService } from "../videos/index.js";
import type { VideoFields } from "./upload-metadata.js";
import type { UploadProgressPublisher } from "./upload-progress-publisher.js";
import type { UploadByteStore } from "./upload-store.js";
import type { UploadValidationService } from "./upload-validation.service.js";
import type { UploadRepository, UploadRow } from "./upload.repository.js";
import type { UploadMetadata } from "./tus-headers.js";

export interface NewUploadRow {
  id?: string;
  videoId: string | null;
  length: number;
  offset: number;
  metadata: UploadMetadata | undefined;
  partial: boolean;
  concatHeader: string | null;
  concatParts?: string[];
  /** false when the bytes are already in the store (concatenation, simple upload) */
  createFile?: boolean;
}

export interface UploadRecordsDeps {
  config: Pick<Config, "upload">;
  repo: Pick<UploadRepository, "insert" | "update">;
  videos: Pick<VideoService, "create" | "publish">;
  store: Pick<UploadByteStore, "create" | "remove">;
  progress: Pick<UploadProgressPublisher, "forget">;
  validation: Pick<UploadValidationService, "submit">;
}

export class UploadRecords {
  constructor(private readonly d: UploadRecordsDeps) {}

  async createVideo(user: AuthUser, f: VideoFields, sizeBytes: number): Promise<VideoRow> {
    const video = await this.d.videos.create({
      ownerId: user.id,
      title: f.title,
      description: f.description,
      visibility: f.visibility,
      language: f.language,
      originalFilename: f.originalFilename,
      sizeBytes,
    });
    await this.d.videos.publish(video.id, { type: "status", status: "uploading", playable: false, failure_code: null, failure_message: null });
    return video;
  }

  /** The upload row (and, unless `createFile: false`, its empty entry in the byte store). */
  async insert(user: AuthUser, r: NewUploadRow): Promise<UploadRow> {
    const now = new Date();
    const row: UploadRow = {
      id: r.id ?? newId(),
      user_id: user.id,
      video_id: r.videoId,
      length: r.length,
      offset: r.offset,
      metadata: r.metadata ? JSON.stringify(r.metadata.values) : null,
      metadata_header: r.metadata?.raw ?? null,
      partial: r.partial ? 1 : 0,
      concat_header: r.concatHeader,
      concat_parts: r.concatParts ? JSON.stringify(r.concatParts) : null,
      state: "uploading",
      failure_code: null,
      failure_message: null,
      expires_at: this.expiry(now),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      completed_at: null,
    };
    if (r.createFile !== false) await this.d.store.create(row.id);
    try {
      await this.d.repo.insert(row);
    } catch (err) {
      if (r.createFile !== false) await this.d.store.remove(row.id);
      throw err;
    }
    return row;
  }

  /** Every byte is in: `completed`; a whole upload's video goes `validating` and validation starts in the background. */
  async complete(row: UploadRow): Promise<UploadRow> {
    const now = new Date();
    const patch = { state: "completed", completed_at: now.toISOString(), expires_at: this.expiry(now) };
    await this.d.repo.update(row.id, patch);
    this.d.progress.forget(row.id);
    const done: UploadRow = { ...row, ...patch };
    if (row.partial === 1 || !row.video_id) return done;
    await this.d.validation.submit(done);
    return done;
  }

  /** When an upload touched now expires (UPLOAD_EXPIRY). */
  expiry(from = new Date()): string {
    return new Date(from.getTime() + this.d.config.upload.expiryS * 1000).toISOString();
  }
}
