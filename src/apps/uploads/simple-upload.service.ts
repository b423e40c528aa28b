/**
 * The simple (multipart) upload: the whole file in one request, staged through the same byte
 * path as tus (limit, sniffing), then the same record and validation as a completed tus upload.
 * No live progress: there is no video until the body is in.
 */
import type { Readable } from "node:stream";
import type { Config } from "../../config.js";
import { badRequest, payloadTooLarge } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import type { AuthUser } from "../users/index.js";
import type { VideoRow, VideoService } from "../videos/index.js";
import { headSniffer, UploadRefusedError } from "./container-sniffer.js";
import type { UploadLimits } from "./upload-limits.service.js";
import type { UploadRecords } from "./upload-records.service.js";
import { TooMuchDataError, type UploadByteStore } from "./upload-store.js";
import type { VideoFields } from "./upload-metadata.js";
import { TusError } from "./tus-headers.js";

const REFUSAL_STATUS: Record<string, number> = { not_a_video: 415, unsupported_container: 415, empty_file: 415 };

/** Bytes staged for a simple upload, not yet an upload record. */
export interface StagedFile {
  id: string;
  size: number;
}

export class SimpleUploadService {
  constructor(
    private readonly config: Pick<Config, "upload">,
    private readonly limits: UploadLimits,
    private readonly records: UploadRecords,
    private readonly store: UploadByteStore,
    private readonly videos: Pick<VideoService, "get">,
  ) {}

  /** Early refusal, before any byte is read. */
  async checkAllowed(user: AuthUser, contentLength: number | null): Promise<void> {
    await this.limits.checkSimpleAllowed(user, contentLength);
  }

  /**
   * Streams the file part into the store, sniffing its first bytes; at most `maxBytes`. On a
   * refusal the file stream is destroyed and nothing stays staged; on success the caller owns
   * the staged bytes until `create` adopts them (else `discard`).
   */
  async stage(file: Readable, maxBytes: number): Promise<StagedFile> {
    const id = newId();
    await this.store.create(id);
    try {
      const { written, interrupted } = await this.store.append(id, file, { offset: 0, limit: maxBytes, inspect: headSniffer(Buffer.alloc(0), this.config.upload.acceptedContainers) });
      if (interrupted) throw badRequest("upload_interrupted", "The upload ended before the whole file was received.");
      return { id, size: written };
    } catch (err) {
      file.destroy();
      await this.store.remove(id);
      if (err instanceof TooMuchDataError) {
        throw payloadTooLarge(`Simple uploads are limited to ${maxBytes} bytes; use the resumable (tus) upload for larger files.`, "too_large", { limit: maxBytes });
      }
      if (err instanceof UploadRefusedError) throw new TusError(REFUSAL_STATUS[err.code] ?? 415, err.code, err.message);
      throw err;
    }
  }

  async discard(staged: StagedFile): Promise<void> {
    await this.store.remove(staged.id);
  }

  /** The video and its completed upload record for staged bytes; validation starts in the background. */
  async create(user: AuthUser, fields: VideoFields, staged: StagedFile): Promise<VideoRow> {
    return this.limits.withUserLock(user.id, async () => {
      await this.limits.checkQuota(user, staged.size);
      const video = await this.records.createVideo(user, fields, staged.size);
      const row = await this.records.insert(user, {
        id: staged.id,
        videoId: video.id,
        length: staged.size,
        offset: staged.size,
        metadata: undefined,
        partial: false,
        concatHeader: null,
        createFile: false,
      });
      await this.records.complete(row);
      return this.videos.get(video.id);
    });
  }
}
