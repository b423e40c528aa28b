/**
 * The tus protocol's state behind the handlers: the upload rows and their offsets. Creation
 * (limits, quota, the Video row), concatenation of partial uploads, appending bytes (lock,
 * offset, checksum, sniffing, live progress), completion, termination. HTTP-free: handlers
 * translate requests in and errors out.
 */
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { AppError, notFound, payloadTooLarge } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { AuthUser } from "../users/index.js";
import type { FailureCode, VideoRow, VideoService } from "../videos/index.js";
import { headSniffer, SNIFF_BYTES, UploadRefusedError } from "./container-sniffer.js";
import type { Lock, Locker } from "./locker.js";
import { uploadLockKey, type UploadLimits } from "./upload-limits.service.js";
import type { LiveProgress, UploadProgressPublisher } from "./upload-progress-publisher.js";
import type { UploadRecords } from "./upload-records.service.js";
import { ChecksumMismatchError, TooMuchDataError, type AppendResult, type UploadByteStore } from "./upload-store.js";
import { videoFields } from "./upload-metadata.js";
import type { UploadRepository, UploadRow } from "./upload.repository.js";
import { headerError, TusError, type UploadChecksum, type UploadConcat, type UploadMetadata } from "./tus-headers.js";

export interface CreateInput {
  length: number | undefined;
  deferLength: boolean;
  metadata: UploadMetadata | undefined;
  concat: UploadConcat | undefined;
}

export interface BodyInput {
  stream: Readable;
  contentLength: number | null;
  checksum: UploadChecksum | undefined;
}

export interface AppendOutcome {
  row: UploadRow;
  result: AppendResult;
}

export interface Created {
  row: UploadRow;
  video: VideoRow | null;
}

const REFUSAL_STATUS: Partial<Record<FailureCode, number>> = {
  not_a_video: 415,
  unsupported_container: 415,
  empty_file: 415,
  too_large: 413,
  quota_exceeded: 413,
};

export interface TusUploadDeps {
  config: Pick<Config, "upload">;
  logger: Logger;
  repo: Pick<UploadRepository, "find" | "findMany" | "update" | "delete" | "deleteMany">;
  videos: Pick<VideoService, "get" | "fail" | "remove">;
  /** for the locks on the partials of a concatenation (the write lock goes through `limits`) */
  locker: Locker;
  store: UploadByteStore;
  limits: UploadLimits;
  records: UploadRecords;
  progress: UploadProgressPublisher;
}

export class TusUploadService {
  constructor(private readonly d: TusUploadDeps) {}

  /** An upload of this user; another user's upload does not exist for them (404, not 403). */
  async load(user: AuthUser, id: string): Promise<UploadRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.d.repo.find(id.toLowerCase()) : undefined;
    if (!row || row.user_id !== user.id) throw notFound("Upload not found.", "upload_not_found");
    return row;
  }

  /** What a request to a refused or expired upload gets. */
  assertLive(row: UploadRow, now = nowIso()): void {
    if (row.state === "refused") {
      const code = (row.failure_code ?? "not_a_video") as FailureCode;
      throw new TusError(REFUSAL_STATUS[code] ?? 410, code, row.failure_message ?? "This upload was refused.", {}, { video_id: row.video_id });
    }
    // "If a Client does attempt to resume an upload which has since been removed by the Server,
    // the Server SHOULD respond with the 404 Not Found or 410 Gone status. The latter one SHOULD
    // be used if the Server is keeping track of expired uploads."
    if (row.state === "uploading" && row.expires_at <= now) {
      throw new TusError(410, "upload_expired", "This upload expired; start a new one.", {}, { video_id: row.video_id });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Creation

  async create(user: AuthUser, input: CreateInput): Promise<Created> {
    if (input.concat?.kind === "final") return this.createFinal(user, input);
    // We do not offer creation-defer-length: the size limits and the quota are enforced at creation.
    if (input.deferLength) throw headerError("upload-defer-length", 400, "defer_length_unsupported", "Upload-Defer-Length is not supported: send Upload-Length.");
    // "The request MUST include one of the following headers: a) Upload-Length [...] b) Upload-Defer-Length: 1"
    if (input.length === undefined) throw headerError("upload-length", 400, "missing_upload_length", "Upload-Length is required.", "is required");
    const length = input.length;
    // "If the length of the upload exceeds the maximum, which MAY be specified using the
    // Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large status."
    this.checkMaxSize(length);
    const partial = input.concat?.kind === "partial";
    // Partial uploads carry no video metadata ("the partial uploads' metadata SHALL NOT be
    // transferred to the new final upload").
    const fields = partial ? null : videoFields(input.metadata?.values ?? {}, "metadata");

    return this.d.limits.withUserLock(user.id, async () => {
      await this.d.limits.checkLimits(user, length, partial);
      const video = fields ? await this.d.records.createVideo(user, fields, length) : null;
      const row = await this.d.records.insert(user, {
        videoId: video?.id ?? null,
        length,
        offset: 0,
        metadata: input.metadata,
        partial,
        concatHeader: partial ? "partial" : null,
      });
      // "The Upload-Length header MAY be set to 0 [...] Such an upload is immediately complete
      // after its creation without transferring data using PATCH requests."
      if (length === 0) return { row: await this.d.records.complete(row), video };
      return { row, video };
    });
  }

  private checkMaxSize(length: number): void {
    const { maxSize } = this.d.config.upload;
    if (length > maxSize) throw payloadTooLarge(`The file is larger than the ${maxSize} bytes allowed.`, "too_large", { limit: maxSize, requested: length });
  }

  /** Concatenation: a final upload made of complete partial uploads of this user, in order. */
  private async createFinal(user: AuthUser, input: CreateInput): Promise<Created> {
    const concat = input.concat as Extract<UploadConcat, { kind: "final" }>;
    // "The Client MUST NOT include the Upload-Length header in the final upload creation."
    if (input.length !== undefined) throw headerError("upload-length", 400, "invalid_upload_concat", "A final upload must not carry Upload-Length.");
    const ids = partialIds(concat);
    const fields = videoFields(input.metadata?.values ?? {}, "metadata");
    const locks: Lock[] = [];
    try {
      // Sorted acquisition: two finals naming the same partials in another order cannot deadlock.
      for (const id of [...ids].sort()) locks.push(await this.d.locker.acquire(uploadLockKey(id), { requestRelease: false }));
      const length = await this.completePartialsLength(user, ids);
      this.checkMaxSize(length);
      const video = await this.d.limits.withUserLock(user.id, async () => {
        // The partials' bytes already count against the quota; they become the video's.
        await this.d.limits.checkLimits(user, length, false, length);
        return this.d.records.createVideo(user, fields, length);
      });
      const created = await this.assembleFinal(user, video, ids, length, input.metadata, concat.raw);
      for (const id of ids) await this.d.store.remove(id);
      await this.d.repo.deleteMany(ids);
      const row = await this.d.records.complete(created);
      return { row, video };
    } finally {
      for (const l of locks) await l.release();
    }
  }

  /** The partial uploads of a final, all this user's, live and complete: their total length. */
  private async completePartialsLength(user: AuthUser, ids: string[]): Promise<number> {
    const parts = await this.d.repo.findMany(ids);
    const byId = new Map(parts.map((p) => [p.id, p]));
    const now = nowIso();
    for (const id of ids) {
      const p = byId.get(id);
      if (!p || p.user_id !== user.id || p.partial !== 1) throw headerError("upload-concat", 400, "invalid_upload_concat", `Unknown partial upload ${id}.`);
      this.assertLive(p, now);
      // We do not announce concatenation-unfinished: "This concatenation request SHOULD happen
      // after all of the corresponding partial uploads are completed."
      if (p.offset !== p.length) throw headerError("upload-concat", 400, "partial_upload_incomplete", `Partial upload ${id} is not complete.`);
    }
    return ids.reduce((n, id) => n + byId.get(id)!.length, 0);
  }

  /** The final upload's bytes and row; its video fails when they cannot be assembled. */
  private async assembleFinal(user: AuthUser, video: VideoRow, ids: string[], length: number, metadata: UploadMetadata | undefined, header: string): Promise<UploadRow> {
    try {
      const id = newId();
      await this.d.store.concat(id, ids);
      return await this.d.records.insert(user, {
        id,
        videoId: video.id,
        length,
        offset: length,
        metadata,
        partial: false,
        concatHeader: header,
        concatParts: ids,
        createFile: false,
      });
    } catch (err) {
      await this.d.videos.fail(video.id, "storage_error", "The parts could not be assembled; please upload again.").catch(() => undefined);
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Appending bytes (PATCH, and the body of creation-with-upload)

  /**
   * Appends one request body at `offset` under the upload's lock. Returns the updated row;
   * throws TusError for protocol errors, UploadRefusedError-derived TusErrors after terminating
   * a refused upload.
   */
  async append(user: AuthUser, id: string, offset: number, body: BodyInput): Promise<AppendOutcome> {
    const first = await this.load(user, id);
    this.assertLive(first);
    // "The Server MUST respond with the 403 Forbidden status to PATCH requests against a final
    // upload URL and MUST NOT modify the final or its partial uploads."
    if (first.concat_parts !== null) throw new TusError(403, "final_upload_immutable", "A final (concatenated) upload cannot be modified.");
    const lock = await this.d.limits.lockUpload(first.id);
    try {
      const row = await this.d.repo.find(first.id);
      if (!row) throw notFound("Upload not found.", "upload_not_found");
      this.assertLive(row);
      // "The Upload-Offset header's value MUST be equal to the current offset of the resource.
      // [...] If the offsets do not match, the Server MUST respond with the 409 Conflict status
      // without modifying the upload resource."
      if (offset !== row.offset) {
        throw new TusError(409, "offset_mismatch", `Upload-Offset ${offset} does not match the upload's offset ${row.offset}.`, { "Upload-Offset": String(row.offset) }, { offset: row.offset });
      }
      const room = row.length - row.offset;
      if (body.contentLength !== null && body.contentLength > room) {
        throw payloadTooLarge(`This request carries ${body.contentLength} bytes but only ${room} remain in the upload.`, "upload_length_exceeded", { remaining: room });
      }
      if (row.state === "completed") {
        // Every byte is already in: only an empty body (a client re-sending its last request) is fine.
        if (body.contentLength) throw payloadTooLarge("This upload is already complete.", "upload_length_exceeded", { remaining: 0 });
        return { row, result: { written: 0, interrupted: null } };
      }
      return await this.write(row, body, lock.signal);
    } finally {
      await lock.release();
    }
  }

  /** Streams the body into the store, then commits the new offset (and completes a full upload). */
  private async write(row: UploadRow, body: BodyInput, signal: AbortSignal): Promise<AppendOutcome> {
    const live = this.d.progress.resume(row);
    // Still inside the sniff window (tiny chunks): judge the stored bytes plus the new ones.
    const stored = row.partial === 0 && row.offset < SNIFF_BYTES ? await this.d.store.readHead(row.id, row.offset) : null;
    const inspect = this.inspector(row, live, stored);
    let result: AppendResult;
    try {
      result = await this.d.store.append(row.id, body.stream, { offset: row.offset, limit: row.length - row.offset, checksum: body.checksum, signal, inspect });
    } catch (err) {
      throw await this.appendError(row, err);
    }
    // The video may have been deleted meanwhile (its upload row goes with it): drop the bytes.
    if (!(await this.d.repo.find(row.id))) {
      await this.d.store.remove(row.id);
      this.d.progress.forget(row.id);
      throw notFound("Upload not found.", "upload_not_found");
    }
    const newOffset = row.offset + result.written;
    const done = newOffset === row.length;
    const patch = { offset: newOffset, expires_at: done ? row.expires_at : this.d.records.expiry() };
    await this.d.repo.update(row.id, patch);
    const updated: UploadRow = { ...row, ...patch };
    await this.d.progress.flush(updated, live);
    if (done) return { row: await this.d.records.complete(updated), result };
    return { row: updated, result };
  }

  /**
   * Sniffs the first bytes of a whole upload as they arrive (`stored`: the bytes already stored
   * before this request, when it resumes inside the sniff window) and feeds the live progress.
   */
  private inspector(row: UploadRow, live: LiveProgress, stored: Buffer | null): (chunk: Buffer, received: number) => void {
    const base = row.offset;
    const sniff = stored === null ? null : headSniffer(stored, this.d.config.upload.acceptedContainers, (received) => base + received === row.length);
    return (chunk, received) => {
      sniff?.(chunk, received);
      this.d.progress.received(row, live, base + received);
    };
  }

  private async appendError(row: UploadRow, err: unknown): Promise<Error> {
    if (err instanceof TooMuchDataError) {
      return payloadTooLarge(`More bytes were sent than the ${row.length} declared in Upload-Length; the chunk was discarded.`, "upload_length_exceeded", { remaining: err.limit });
    }
    if (err instanceof ChecksumMismatchError) {
      // "2) 460 Checksum Mismatch if the checksums mismatch [...] the uploaded chunk MUST be
      // discarded, and the upload and its offset MUST NOT be updated."
      return new TusError(460, "checksum_mismatch", "The chunk does not match its Upload-Checksum; it was discarded.", { "Upload-Offset": String(row.offset) });
    }
    if (err instanceof UploadRefusedError) {
      await this.refuse(row, err.code, err.message);
      return new TusError(REFUSAL_STATUS[err.code] ?? 415, err.code, err.message, {}, { video_id: row.video_id });
    }
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") {
      return new AppError(507, "insufficient_storage", "The server is out of space; retry later.", null, { "Retry-After": "300" });
    }
    return err as Error;
  }

  /** Terminates an upload the server will not take: bytes gone, record kept (refused), video failed. */
  private async refuse(row: UploadRow, code: FailureCode, message: string): Promise<void> {
    this.d.logger.info({ upload: row.id, video: row.video_id, code }, "upload refused");
    await this.d.store.remove(row.id);
    this.d.progress.forget(row.id);
    await this.d.repo.update(row.id, { state: "refused", failure_code: code, failure_message: message, expires_at: this.d.records.expiry() });
    if (row.video_id) await this.d.videos.fail(row.video_id, code, message);
  }

  // ------------------------------------------------------------------------------------------
  // Termination

  /**
   * DELETE: "the Server SHOULD free associated resources and MUST respond with the 204 No
   * Content status". An unfinished upload takes its Video with it (it never became one); a
   * finished one only loses its upload record (the video lives on, deleted through its own API).
   */
  async terminate(user: AuthUser, id: string): Promise<void> {
    const row = await this.load(user, id);
    const lock = await this.d.limits.lockUpload(row.id);
    try {
      const current = await this.d.repo.find(row.id);
      if (!current) throw notFound("Upload not found.", "upload_not_found");
      if (current.state !== "completed") await this.d.store.remove(current.id);
      await this.d.repo.delete(current.id);
      this.d.progress.forget(current.id);
      if (current.state === "uploading" && current.video_id) {
        const video = await this.d.videos.get(current.video_id).catch(() => null);
        if (video && video.status === "uploading") await this.d.videos.remove(current.video_id);
      }
    } finally {
      await lock.release();
    }
  }
}

/** The upload ids named by a final's Upload-Concat URLs (each listed once). */
function partialIds(concat: Extract<UploadConcat, { kind: "final" }>): string[] {
  const ids = concat.urls.map((u) => {
    const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?(?:[?#].*)?$/i.exec(u);
    if (!m) throw headerError("upload-concat", 400, "invalid_upload_concat", `Not a partial upload URL: ${u.slice(0, 200)}`);
    return m[1]!.toLowerCase();
  });
  if (new Set(ids).size !== ids.length) throw headerError("upload-concat", 400, "invalid_upload_concat", "A partial upload is listed twice.");
  return ids;
}
