/**
 * The upload pipeline behind the tus handlers and the simple multipart POST: creation (limits,
 * quota, the Video row), appending bytes (lock, offset, checksum, sniffing, live progress),
 * completion (status `validating`, then asynchronous validation and hand-over to the queue),
 * termination, and the sweep of expired uploads. HTTP-free: handlers translate requests in and
 * errors out.
 */
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { AppError, notFound, payloadTooLarge } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { MediaTools } from "../../platform/media/media.tools.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { AuthUser } from "../users/auth.plugin.js";
import type { VideoRow } from "../videos/video.repository.js";
import type { VideoService } from "../videos/video.service.js";
import { videoKeys, type FailureCode, type VideoProgress } from "../videos/video.types.js";
import { SNIFF_BYTES, sniffContainer, type SniffVerdict } from "./container.sniffer.js";
import { LockTimeoutError, type Lock, type Locker } from "./locker.js";
import { ProgressTracker, type UploadProgressEvent } from "./progress.tracker.js";
import { videoFields, type VideoFields } from "./upload.metadata.js";
import { UploadRepository, type UploadRow } from "./upload.repository.js";
import { ChecksumMismatchError, TooMuchDataError, UploadStore, type AppendResult } from "./upload.store.js";
import { TusError, type UploadChecksum, type UploadConcat, type UploadMetadata } from "./tus.headers.js";
import { validateVideoFile } from "./upload.validator.js";

/** The first bytes were judged: the upload is terminated with this code. */
export class UploadRefusedError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = "UploadRefusedError";
  }
}

export interface UploadServiceDeps {
  config: Config;
  logger: Logger;
  repo: UploadRepository;
  videos: VideoService;
  storage: Storage;
  media: MediaTools;
  locker: Locker;
  store: UploadStore;
}

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

/** Partial uploads (parallel chunks of one file) get a roomier limit than whole uploads. */
const PARTIALS_PER_UPLOAD_SLOT = 8;
/** ffprobe/ffmpeg validations at once in this process; more wait their turn. */
const VALIDATION_CONCURRENCY = 2;
/** Progress is published at most this often; the progress column is written less often. */
const EVENT_INTERVAL_MS = 250;
const DB_PROGRESS_INTERVAL_MS = 1_000;

const REFUSAL_STATUS: Partial<Record<FailureCode, number>> = {
  not_a_video: 415,
  unsupported_container: 415,
  empty_file: 415,
  too_large: 413,
  quota_exceeded: 413,
};

interface LiveProgress {
  tracker: ProgressTracker;
  publishing: boolean;
  lastDbWrite: number;
}

export class UploadService {
  private readonly progress = new Map<string, LiveProgress>();
  private readonly validations = new Map<string, Promise<void>>();
  private readonly validationQueue: (() => void)[] = [];
  private runningValidations = 0;
  private readonly shutdown = new AbortController();

  constructor(private readonly d: UploadServiceDeps) {}

  get store(): UploadStore {
    return this.d.store;
  }

  // ------------------------------------------------------------------------------------------
  // Lookup

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

  async create(user: AuthUser, input: CreateInput): Promise<{ row: UploadRow; video: VideoRow | null }> {
    const { config } = this.d;
    if (input.concat?.kind === "final") return this.createFinal(user, input);
    // We do not offer creation-defer-length: the size limits and the quota are enforced at creation.
    if (input.deferLength) throw new TusError(400, "defer_length_unsupported", "Upload-Defer-Length is not supported: send Upload-Length.");
    // "The request MUST include one of the following headers: a) Upload-Length [...] b) Upload-Defer-Length: 1"
    if (input.length === undefined) throw new TusError(400, "missing_upload_length", "Upload-Length is required.");
    const length = input.length;
    // "If the length of the upload exceeds the maximum, which MAY be specified using the
    // Tus-Max-Size header, the Server MUST respond with the 413 Request Entity Too Large status."
    if (length > config.upload.maxSize) {
      throw payloadTooLarge(`The file is larger than the ${config.upload.maxSize} bytes allowed.`, "too_large", { max_bytes: config.upload.maxSize, length });
    }
    const partial = input.concat?.kind === "partial";
    // Partial uploads carry no video metadata ("the partial uploads' metadata SHALL NOT be
    // transferred to the new final upload").
    const fields = partial ? null : videoFields(input.metadata?.values ?? {}, "metadata");

    return this.withUserLock(user.id, async () => {
      await this.checkLimits(user, length, partial);
      const video = fields ? await this.createVideo(user, fields, length) : null;
      const row = await this.insertRow(user, {
        videoId: video?.id ?? null,
        length,
        offset: 0,
        metadata: input.metadata,
        partial,
        concatHeader: partial ? "partial" : null,
      });
      // "The Upload-Length header MAY be set to 0 [...] Such an upload is immediately complete
      // after its creation without transferring data using PATCH requests."
      if (length === 0) return { row: await this.complete(row), video };
      return { row, video };
    });
  }

  /** Concatenation: a final upload made of complete partial uploads of this user, in order. */
  private async createFinal(user: AuthUser, input: CreateInput): Promise<{ row: UploadRow; video: VideoRow | null }> {
    const concat = input.concat as Extract<UploadConcat, { kind: "final" }>;
    // "The Client MUST NOT include the Upload-Length header in the final upload creation."
    if (input.length !== undefined) throw new TusError(400, "invalid_upload_concat", "A final upload must not carry Upload-Length.");
    const ids = concat.urls.map((u) => {
      const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?(?:[?#].*)?$/i.exec(u);
      if (!m) throw new TusError(400, "invalid_upload_concat", `Not a partial upload URL: ${u.slice(0, 200)}`);
      return m[1]!.toLowerCase();
    });
    if (new Set(ids).size !== ids.length) throw new TusError(400, "invalid_upload_concat", "A partial upload is listed twice.");
    const fields = videoFields(input.metadata?.values ?? {}, "metadata");
    const locks: Lock[] = [];
    try {
      // Sorted acquisition: two finals naming the same partials in another order cannot deadlock.
      for (const id of [...ids].sort()) locks.push(await this.d.locker.acquire(`upload:${id}`, { requestRelease: false }));
      const parts = await this.d.repo.findMany(ids);
      const byId = new Map(parts.map((p) => [p.id, p]));
      const now = nowIso();
      for (const id of ids) {
        const p = byId.get(id);
        if (!p || p.user_id !== user.id || p.partial !== 1) throw new TusError(400, "invalid_upload_concat", `Unknown partial upload ${id}.`);
        this.assertLive(p, now);
        // We do not announce concatenation-unfinished: "This concatenation request SHOULD happen
        // after all of the corresponding partial uploads are completed."
        if (p.offset !== p.length) throw new TusError(400, "partial_upload_incomplete", `Partial upload ${id} is not complete.`);
      }
      const length = ids.reduce((n, id) => n + byId.get(id)!.length, 0);
      if (length > this.d.config.upload.maxSize) {
        throw payloadTooLarge(`The file is larger than the ${this.d.config.upload.maxSize} bytes allowed.`, "too_large", { max_bytes: this.d.config.upload.maxSize, length });
      }
      const video = await this.withUserLock(user.id, async () => {
        // The partials' bytes already count against the quota; they become the video's.
        await this.checkLimits(user, length, false, length);
        return this.createVideo(user, fields, length);
      });
      let created: UploadRow;
      try {
        const id = newId();
        await this.d.store.concat(id, ids);
        created = await this.insertRow(user, {
          id,
          videoId: video.id,
          length,
          offset: length,
          metadata: input.metadata,
          partial: false,
          concatHeader: concat.raw,
          concatParts: ids,
          createFile: false,
        });
      } catch (err) {
        await this.d.videos.fail(video.id, "storage_error", "The parts could not be assembled; please upload again.").catch(() => undefined);
        throw err;
      }
      for (const id of ids) await this.d.store.remove(id);
      await this.d.repo.deleteMany(ids);
      const row = await this.complete(created);
      return { row, video };
    } finally {
      for (const l of locks) await l.release();
    }
  }

  private async withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    // Serializes one user's creations so two parallel POSTs cannot both pass the quota check.
    const lock = await this.d.locker.acquire(`upload-create:${userId}`, { requestRelease: false, waitMs: 15_000 }).catch((err: unknown) => {
      if (err instanceof LockTimeoutError) throw new TusError(429, "too_many_uploads", "Too many uploads are being created at once; retry shortly.", { "Retry-After": "5" });
      throw err;
    });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /**
   * Concurrency (429 `too_many_uploads`) and quota (413 `quota_exceeded`). `alreadyCounted`:
   * bytes of partial uploads that are about to become this upload.
   */
  private async checkLimits(user: AuthUser, length: number, partial: boolean, alreadyCounted = 0): Promise<void> {
    const { upload } = this.d.config;
    const active = await this.d.repo.activeCounts(user.id, nowIso());
    const limit = partial ? upload.maxConcurrentPerUser * PARTIALS_PER_UPLOAD_SLOT : upload.maxConcurrentPerUser;
    if ((partial ? active.partial : active.whole) >= limit) {
      throw new TusError(429, "too_many_uploads", `At most ${limit} ${partial ? "partial uploads" : "uploads"} may be in progress at once; finish or delete one first.`, { "Retry-After": "60" }, { limit });
    }
    const used = (await this.d.videos.quotaUsed(user.id)) + active.partialBytes - alreadyCounted;
    if (used + length > upload.userQuota) {
      throw payloadTooLarge("This upload would exceed your storage quota.", "quota_exceeded", { used_bytes: used, limit_bytes: upload.userQuota, requested_bytes: length });
    }
  }

  private async createVideo(user: AuthUser, f: VideoFields, sizeBytes: number): Promise<VideoRow> {
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

  private async insertRow(
    user: AuthUser,
    r: {
      id?: string;
      videoId: string | null;
      length: number;
      offset: number;
      metadata: UploadMetadata | undefined;
      partial: boolean;
      concatHeader: string | null;
      concatParts?: string[];
      createFile?: boolean;
    },
  ): Promise<UploadRow> {
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

  private expiry(from = new Date()): string {
    return new Date(from.getTime() + this.d.config.upload.expiryS * 1000).toISOString();
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
    let lock: Lock;
    try {
      lock = await this.d.locker.acquire(`upload:${first.id}`);
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new TusError(423, "upload_locked", "Another request is writing to this upload; retry shortly.", { "Retry-After": "1" });
      throw err;
    }
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
      const live = this.liveProgress(row);
      live.tracker.resume(row.offset);
      // Still inside the sniff window (tiny chunks): judge the stored bytes plus the new ones.
      const stored = row.partial === 0 && row.offset < SNIFF_BYTES ? await this.d.store.readHead(row.id, row.offset) : null;
      const inspect = this.inspector(row, live, stored);
      let result: AppendResult;
      try {
        result = await this.d.store.append(row.id, body.stream, {
          offset: row.offset,
          limit: room,
          checksum: body.checksum,
          signal: lock.signal,
          inspect: (chunk, received) => inspect(chunk, received),
        });
      } catch (err) {
        throw await this.appendError(row, err);
      }
      // The video may have been deleted meanwhile (its upload row goes with it): drop the bytes.
      if (!(await this.d.repo.find(row.id))) {
        await this.d.store.remove(row.id);
        this.progress.delete(row.id);
        throw notFound("Upload not found.", "upload_not_found");
      }
      const newOffset = row.offset + result.written;
      const done = newOffset === row.length;
      const patch = { offset: newOffset, expires_at: done ? row.expires_at : this.expiry() };
      await this.d.repo.update(row.id, patch);
      const updated: UploadRow = { ...row, ...patch };
      await this.flushProgress(updated, live);
      if (done) return { row: await this.complete(updated), result };
      return { row: updated, result };
    } finally {
      await lock.release();
    }
  }

  /**
   * Sniffs the first bytes of a whole upload as they arrive (`head`: the bytes already stored
   * before this request, when it resumes inside the sniff window) and feeds the live progress.
   */
  private inspector(row: UploadRow, live: LiveProgress, stored: Buffer | null): (chunk: Buffer, received: number) => void {
    let head: Buffer | null = stored;
    const base = row.offset;
    const accepted = this.d.config.upload.acceptedContainers;
    return (chunk, received) => {
      if (head !== null) {
        head = Buffer.concat([head, chunk.subarray(0, Math.max(0, SNIFF_BYTES - head.length))]);
        const verdict = sniffContainer(head, base + received === row.length, accepted);
        if (verdict) {
          head = null;
          if (!verdict.ok) throw new UploadRefusedError(verdict.code, verdict.message);
        }
      }
      const ev = live.tracker.sample(base + received);
      if (ev && row.video_id) this.publishProgress(row.video_id, live, ev);
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

  /** Terminates an upload the server will not take: file gone, record kept (refused), video failed. */
  private async refuse(row: UploadRow, code: FailureCode, message: string): Promise<void> {
    this.d.logger.info({ upload: row.id, video: row.video_id, code }, "upload refused");
    await this.d.store.remove(row.id);
    this.progress.delete(row.id);
    await this.d.repo.update(row.id, { state: "refused", failure_code: code, failure_message: message, expires_at: this.expiry() });
    if (row.video_id) await this.d.videos.fail(row.video_id, code, message);
  }

  // ------------------------------------------------------------------------------------------
  // Progress

  private liveProgress(row: UploadRow): LiveProgress {
    let live = this.progress.get(row.id);
    if (!live) {
      live = { tracker: new ProgressTracker(row.length, EVENT_INTERVAL_MS), publishing: false, lastDbWrite: 0 };
      this.progress.set(row.id, live);
    }
    return live;
  }

  /** Fire-and-forget from the byte path: a slow event bus must never stall the upload. */
  private publishProgress(videoId: string, live: LiveProgress, ev: UploadProgressEvent): void {
    if (live.publishing) return;
    live.publishing = true;
    const writeDb = performance.now() - live.lastDbWrite >= DB_PROGRESS_INTERVAL_MS;
    if (writeDb) live.lastDbWrite = performance.now();
    const job = writeDb ? this.d.videos.setProgress(videoId, toVideoProgress(ev), { ...ev }) : this.d.videos.publish(videoId, { ...ev });
    job
      .catch((err: unknown) => this.d.logger.warn({ err, video: videoId }, "progress event failed"))
      .finally(() => {
        live.publishing = false;
      });
  }

  /**
   * The end of a PATCH: the committed offset as an event and in the progress column, when one is
   * due (still at most every 250 ms, however many small PATCHes arrive), and always at the end.
   */
  private async flushProgress(row: UploadRow, live: LiveProgress): Promise<void> {
    if (!row.video_id) return;
    const ev = live.tracker.sample(row.offset, row.offset === row.length);
    if (!ev) return;
    live.lastDbWrite = performance.now();
    await this.d.videos.setProgress(row.video_id, toVideoProgress(ev), { ...ev }).catch((err: unknown) => this.d.logger.warn({ err }, "progress update failed"));
  }

  // ------------------------------------------------------------------------------------------
  // Completion and validation

  /** Every byte is in: `validating`, and the validation starts in the background. */
  private async complete(row: UploadRow): Promise<UploadRow> {
    const now = new Date();
    const patch = { state: "completed", completed_at: now.toISOString(), expires_at: this.expiry(now) };
    await this.d.repo.update(row.id, patch);
    this.progress.delete(row.id);
    const done: UploadRow = { ...row, ...patch };
    if (row.partial === 1 || !row.video_id) return done;
    const progress: VideoProgress = { step: "validating", percent: 0, bytes_received: row.length, eta_s: null, queue_position: null };
    await this.d.videos.setStatus(row.video_id, "validating", { progress: JSON.stringify(progress) });
    this.scheduleValidation(done);
    return done;
  }

  private scheduleValidation(row: UploadRow): void {
    if (this.validations.has(row.id) || this.shutdown.signal.aborted) return;
    const task = this.runValidation(row)
      .catch((err: unknown) => this.d.logger.error({ err, upload: row.id }, "upload validation crashed"))
      .finally(() => this.validations.delete(row.id));
    this.validations.set(row.id, task);
  }

  private async slot(): Promise<() => void> {
    if (this.runningValidations >= VALIDATION_CONCURRENCY) await new Promise<void>((r) => this.validationQueue.push(r));
    this.runningValidations++;
    return () => {
      this.runningValidations--;
      this.validationQueue.shift()?.();
    };
  }

  private async runValidation(row: UploadRow): Promise<void> {
    const videoId = row.video_id!;
    const release = await this.slot();
    const file = this.d.store.path(row.id);
    try {
      if (this.shutdown.signal.aborted) return;
      const video = await this.d.videos.get(videoId).catch(() => null);
      if (!video || video.status !== "validating") {
        await this.d.store.remove(row.id);
        return;
      }
      const outcome = await validateVideoFile(file, row.length, { config: this.d.config, media: this.d.media }, this.shutdown.signal);
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
        await this.moveToStorage(row.id, key);
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
    } finally {
      release();
    }
  }

  /**
   * Disk storage on the same filesystem: a rename (no copy of gigabytes). Otherwise, and for
   * S3, the storage adapter uploads the staged file, which is removed afterwards.
   */
  private async moveToStorage(uploadId: string, key: string): Promise<void> {
    const file = this.d.store.path(uploadId);
    const dest = this.d.storage.localPath(key);
    if (dest) {
      try {
        await mkdir(path.dirname(dest), { recursive: true });
        await rename(file, dest);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      }
    }
    await this.d.storage.putFile(key, file, { contentType: "application/octet-stream" });
    await this.d.store.remove(uploadId);
  }

  /** Resumes validations a restart interrupted (videos left `validating`). */
  async recover(): Promise<number> {
    const rows = await this.d.repo.pendingValidation();
    for (const row of rows) {
      if ((await this.d.store.size(row.id)) === row.length) this.scheduleValidation(row);
      else if (row.video_id) await this.d.videos.fail(row.video_id, "storage_error", "The uploaded file was lost; please upload it again.");
    }
    return rows.length;
  }

  /** Resolves when no validation is running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.validations.size > 0) await Promise.allSettled([...this.validations.values()]);
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
    const lock = await this.d.locker.acquire(`upload:${row.id}`).catch((err: unknown) => {
      if (err instanceof LockTimeoutError) throw new TusError(423, "upload_locked", "Another request is writing to this upload; retry shortly.", { "Retry-After": "1" });
      throw err;
    });
    try {
      const current = await this.d.repo.find(row.id);
      if (!current) throw notFound("Upload not found.", "upload_not_found");
      if (current.state !== "completed") await this.d.store.remove(current.id);
      await this.d.repo.delete(current.id);
      this.progress.delete(current.id);
      if (current.state === "uploading" && current.video_id) {
        const video = await this.d.videos.get(current.video_id).catch(() => null);
        if (video && video.status === "uploading") await this.d.videos.remove(current.video_id);
      }
    } finally {
      await lock.release();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Simple (multipart) upload: the whole file in one request, then the same validation.

  async createSimple(user: AuthUser, fields: VideoFields, stagedId: string, size: number): Promise<VideoRow> {
    return this.withUserLock(user.id, async () => {
      const used = await this.d.videos.quotaUsed(user.id);
      const { userQuota } = this.d.config.upload;
      if (used + size > userQuota) {
        throw payloadTooLarge("This upload would exceed your storage quota.", "quota_exceeded", { used_bytes: used, limit_bytes: userQuota, requested_bytes: size });
      }
      const video = await this.createVideo(user, fields, size);
      const row = await this.insertRow(user, { id: stagedId, videoId: video.id, length: size, offset: size, metadata: undefined, partial: false, concatHeader: null, createFile: false });
      await this.complete(row);
      return this.d.videos.get(video.id);
    });
  }

  /** Early refusal for the simple upload, before any byte is read. */
  async checkSimpleAllowed(user: AuthUser, contentLength: number | null): Promise<void> {
    const { upload } = this.d.config;
    const max = Math.min(upload.simpleMax, upload.maxSize);
    // Content-Length covers the multipart framing and fields too: only refuse when even the
    // framing-free file would be too large (64 KiB of slack for fields and boundaries).
    if (contentLength !== null && contentLength > max + 64 * 1024) {
      throw payloadTooLarge(`Simple uploads are limited to ${max} bytes; use the resumable (tus) upload for larger files.`, "too_large", { max_bytes: max });
    }
    const active = await this.d.repo.activeCounts(user.id, nowIso());
    if (active.whole >= upload.maxConcurrentPerUser) {
      throw new TusError(429, "too_many_uploads", `At most ${upload.maxConcurrentPerUser} uploads may be in progress at once.`, { "Retry-After": "60" });
    }
    const used = await this.d.videos.quotaUsed(user.id);
    if (used >= upload.userQuota) {
      throw payloadTooLarge("Your storage quota is used up.", "quota_exceeded", { used_bytes: used, limit_bytes: upload.userQuota });
    }
  }

  /** A sniffing inspector for a stream that starts at byte 0 (multipart file part). */
  sniffer(): (chunk: Buffer) => void {
    let head: Buffer | null = Buffer.alloc(0);
    return (chunk) => {
      if (head === null) return;
      head = Buffer.concat([head, chunk.subarray(0, Math.max(0, SNIFF_BYTES - head.length))]);
      const verdict: SniffVerdict | null = sniffContainer(head, false, this.d.config.upload.acceptedContainers);
      if (verdict) {
        head = null;
        if (!verdict.ok) throw new UploadRefusedError(verdict.code, verdict.message);
      }
    };
  }

  // ------------------------------------------------------------------------------------------
  // Expiry

  /**
   * Deletes what expired: unfinished uploads (their partial files; their video fails with
   * `upload_expired`), partial uploads never concatenated, old finished and refused records, and
   * staging files without a record. Uploads locked by a running request are left for next time.
   */
  async sweepExpired(now = new Date()): Promise<{ uploads: number; orphanFiles: number }> {
    const nowS = now.toISOString();
    let uploads = 0;
    for (;;) {
      const rows = await this.d.repo.expired(nowS);
      let progressed = 0;
      for (const row of rows) {
        let lock: Lock;
        try {
          lock = await this.d.locker.acquire(`upload:${row.id}`, { waitMs: 0, requestRelease: false });
        } catch {
          continue;
        }
        try {
          const current = await this.d.repo.find(row.id);
          if (!current || current.expires_at > nowS) continue;
          if (current.state === "completed" && this.validations.has(current.id)) continue;
          if (current.state !== "completed") await this.d.store.remove(current.id);
          await this.d.repo.delete(current.id);
          this.progress.delete(current.id);
              if (current.state === "uploading" && current.video_id) {
            const video = await this.d.videos.get(current.video_id).catch(() => null);
            if (video && video.status === "uploading") {
              await this.d.videos.fail(current.video_id, "upload_expired", "The upload was not finished in time and expired.");
            }
          }
          uploads++;
          progressed++;
        } finally {
          await lock.release();
        }
      }
      if (rows.length < 500 || progressed === 0) break;
    }
    let orphanFiles = 0;
    const cutoff = now.getTime() - this.d.config.upload.expiryS * 1000;
    const files = (await this.d.store.list()).filter((f) => f.mtimeMs < cutoff);
    for (let i = 0; i < files.length; i += 200) {
      const batch = files.slice(i, i + 200);
      const known = new Set((await this.d.repo.findMany(batch.map((f) => f.id))).map((r) => r.id));
      for (const f of batch) {
        if (known.has(f.id) || this.validations.has(f.id)) continue;
        await this.d.store.remove(f.id);
        orphanFiles++;
      }
    }
    return { uploads, orphanFiles };
  }

  /** Account deletion: every upload of the user and its staged bytes (their videos go with the videos domain). */
  async removeUserContent(userId: string): Promise<void> {
    for (const row of await this.d.repo.byUser(userId)) {
      const lock = await this.d.locker.acquire(`upload:${row.id}`).catch(() => null);
      try {
        if (!this.validations.has(row.id)) await this.d.store.remove(row.id);
        await this.d.repo.delete(row.id);
        this.progress.delete(row.id);
      } finally {
        await lock?.release();
      }
    }
  }

  // ------------------------------------------------------------------------------------------

  /** Stops validations (their videos stay `validating` for `recover()`), releases locks. */
  async close(): Promise<void> {
    this.shutdown.abort();
    for (const r of this.validationQueue.splice(0)) r();
    await Promise.allSettled([...this.validations.values()]);
    await this.d.locker.close();
  }
}

function toVideoProgress(ev: UploadProgressEvent): VideoProgress {
  return { step: "uploading", percent: ev.percent, bytes_received: ev.bytes_received, eta_s: ev.eta_s, queue_position: null };
}

