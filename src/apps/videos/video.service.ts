/**
 * The Video's lifecycle: creation at upload start, the status machine
 * (uploading → validating → queued → processing → ready, or failed), progress, deletion and
 * quota. Every change is published on the event bus so SSE/WebSocket clients follow it live.
 */
import type { Config } from "../../config.js";
import type { EventBus, EventPayload } from "../../platform/events/events.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { Queue } from "../../platform/queue/queue.js";
import { AppError, fieldError, forbidden, notFound } from "../../lib/errors.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import { newId, nowIso } from "../../lib/ids.js";
import { can, type Role, type AuthUser } from "../users/index.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { VideoRepository, type VideoRow } from "./video.repository.js";
import { CUSTOM_POSTER_REL, objectContentType, UPLOADED_POSTER_REL, uploadedSubtitleRel, videoKeys } from "../../contracts/media-layout.js";
import { storedFromRendition } from "./subtitles-convert.js";
import type { FailureCode, VideoProgress, VideoStatus, Visibility } from "./video.types.js";

/**
 * How long a delete or reprocess waits for a cancelled conversion to stop. A live worker stops
 * within a heartbeat (embedded queue, ≤ 2 s) or at once (BullMQ pub/sub); a dead one holds its job
 * until the lease lapses, which is not worth holding the request for.
 */
const CANCEL_SETTLE_MS = 10_000;

/** What a client refused for the conversion cap is told to wait: about one short conversion. */
const CONVERSION_RETRY_AFTER_S = 60;

export interface NewVideo {
  ownerId: string;
  title: string;
  description: string;
  visibility: Visibility;
  language: string | null;
  originalFilename: string;
  sizeBytes: number;
}

export class VideoService {
  private readonly enqueuedListeners = new Set<(videoId: string) => void>();

  constructor(
    private readonly videos: VideoRepository,
    private readonly events: EventBus,
    private readonly storage: Storage,
    private readonly queue: Queue,
    private readonly config: Config,
  ) {}

  /** Called after this process queued a conversion (the result applier times it to playable). */
  onEnqueued(listener: (videoId: string) => void): () => void {
    this.enqueuedListeners.add(listener);
    return () => this.enqueuedListeners.delete(listener);
  }

  async create(v: NewVideo): Promise<VideoRow> {
    const now = nowIso();
    const row: VideoRow = {
      id: newId(),
      owner_id: v.ownerId,
      title: v.title,
      description: v.description,
      visibility: v.visibility,
      language: v.language,
      original_filename: v.originalFilename,
      size_bytes: v.sizeBytes,
      status: "uploading",
      playable: 0,
      failure_code: null,
      failure_message: null,
      progress: JSON.stringify({ step: "uploading", percent: 0, bytes_received: 0, eta_s: null, queue_position: null } satisfies VideoProgress),
      source_key: null,
      probe: null,
      duration_s: null,
      media: null,
      media_bytes: 0,
      playback_epoch: 0,
      chapters: null,
      poster_choice: null,
      custom_poster_key: null,
      views: 0,
      likes: 0,
      dislikes: 0,
      comments_enabled: 1,
      pinned_comment_id: null,
      created_at: now,
      updated_at: now,
      published_at: null,
    };
    await this.videos.insert(row);
    return row;
  }

  async get(id: string): Promise<VideoRow> {
    const v = await this.videos.find(id);
    if (!v) throw notFound("Video not found.", "video_not_found");
    return v;
  }

  /** Who may see a video: public/unlisted to anyone with the id; private to owner, moderators, admins. */
  static canView(v: Pick<VideoRow, "owner_id" | "visibility">, user: AuthUser | null, role: Role): boolean {
    if (v.visibility !== "private") return true;
    if (!user) return false;
    return user.id === v.owner_id || can(role, "video:moderate");
  }

  static canManage(v: Pick<VideoRow, "owner_id">, user: AuthUser | null, role: Role): boolean {
    return !!user && (user.id === v.owner_id || can(role, "video:moderate"));
  }

  /** Loads a video the caller may see; hides private videos' existence (404, not 403). */
  async getVisible(id: string, user: AuthUser | null, role: Role): Promise<VideoRow> {
    const v = await this.videos.find(id);
    if (!v || !VideoService.canView(v, user, role)) throw notFound("Video not found.", "video_not_found");
    return v;
  }

  async getManageable(id: string, user: AuthUser | null, role: Role): Promise<VideoRow> {
    const v = await this.getVisible(id, user, role);
    if (!VideoService.canManage(v, user, role)) throw forbidden();
    return v;
  }

  async publish(id: string, payload: EventPayload): Promise<void> {
    await this.events.publish(id, payload);
  }

  async setProgress(id: string, progress: VideoProgress, event?: EventPayload): Promise<void> {
    await this.videos.update(id, { progress: JSON.stringify(progress) });
    if (event) await this.events.publish(id, event);
  }

  async setStatus(id: string, status: VideoStatus, patch: Partial<VideoRow> = {}, extra: Record<string, unknown> = {}): Promise<void> {
    await this.videos.update(id, { ...patch, status });
    const v = await this.videos.find(id);
    await this.events.publish(id, {
      type: "status",
      status,
      playable: v ? v.playable === 1 : false,
      failure_code: v?.failure_code ?? null,
      failure_message: v?.failure_message ?? null,
      ...extra,
    });
  }

  /**
   * Ends a video in `failed` with a machine-readable code. The original is deleted (a refused
   * file is never kept), which also gives its bytes back to the quota.
   */
  async fail(id: string, code: FailureCode, message: string): Promise<void> {
    const v = await this.videos.find(id);
    if (!v) return;
    await this.storage.delete(videoKeys.original(id)).catch(() => undefined);
    await this.setStatus(id, "failed", { failure_code: code, failure_message: message, progress: null, source_key: null });
  }

  /** A validated original: store its probe and hand it to the conversion queue. */
  async accept(id: string, probe: ProbeResult, sourceKey: string, sizeBytes: number): Promise<void> {
    await this.videos.update(id, {
      probe: JSON.stringify(probe),
      duration_s: probe.durationS,
      source_key: sourceKey,
      size_bytes: sizeBytes,
      chapters: probe.chapters.length ? JSON.stringify(probe.chapters.map((c) => ({ title: c.title, start: c.start }))) : null,
    });
    await this.enqueueTranscode(id);
  }

  /** (Re)queues the conversion; the job id is the video id so enqueueing twice is a no-op. */
  async enqueueTranscode(id: string): Promise<void> {
    const v = await this.get(id);
    if (!v.probe || !v.source_key) throw notFound("The original of this video is gone.", "original_missing");
    const probe = JSON.parse(v.probe) as ProbeResult;
    const m = this.config.media;
    await this.queue.enqueue(
      "video.transcode",
      {
        videoId: id,
        ownerId: v.owner_id,
        sourceKey: v.source_key,
        outputPrefix: videoKeys.prefix(id),
        probe,
        options: {
          ladder: m.ladder,
          maxFps: m.maxFps,
          segmentS: m.hlsSegmentS,
          segmentType: m.hlsSegmentType,
          mp4: m.mp4Renditions,
          preset: m.preset,
          mode: m.transcodeMode,
          timeoutS: m.transcodeTimeoutS,
          defaultLanguage: v.language,
        },
      },
      // per owner, not per video: an owner's videos (and a video's jobs) take one turn at a time
      { jobId: `transcode-${id}`, fairnessKey: v.owner_id },
    );
    const position = await this.queue.position(`transcode-${id}`);
    const progress: VideoProgress = { step: "queued", percent: 0, bytes_received: null, eta_s: null, queue_position: position };
    await this.setStatus(id, "queued", { progress: JSON.stringify(progress), failure_code: null, failure_message: null }, { queue_position: position });
    for (const l of this.enqueuedListeners) l(id);
  }

  /** Owner/staff edits: title, description, visibility, language, poster choice, comments on/off. */
  async edit(id: string, patch: { title?: string; description?: string; visibility?: Visibility; language?: string | null; poster_candidate?: number; comments_enabled?: boolean }): Promise<void> {
    const v = await this.get(id);
    const update: Partial<VideoRow> = {};
    if (patch.title !== undefined) {
      const t = patch.title.trim();
      if (!t) throw fieldError("title_blank", "The title may not be blank.", "body", "title");
      update.title = t;
    }
    if (patch.description !== undefined) update.description = patch.description;
    if (patch.visibility !== undefined) update.visibility = patch.visibility;
    // Every playback token (a shared link) issued before a visibility change dies with it.
    if (patch.visibility !== undefined && patch.visibility !== v.visibility) update.playback_epoch = v.playback_epoch + 1;
    if (patch.language !== undefined) update.language = patch.language;
    if (patch.comments_enabled !== undefined) update.comments_enabled = patch.comments_enabled ? 1 : 0;
    if (patch.poster_candidate !== undefined) {
      const media = v.media ? (JSON.parse(v.media) as TranscodeResult) : null;
      const n = media?.thumbnails.candidateKeys.length ?? 0;
      if (patch.poster_candidate >= n) {
        throw fieldError("invalid_poster_candidate", `poster_candidate must be between 0 and ${Math.max(0, n - 1)}.`, "body", "poster_candidate");
      }
      update.poster_choice = patch.poster_candidate;
      update.custom_poster_key = null;
    }
    await this.videos.update(id, update);
    await this.events.publish(id, { type: "updated", fields: Object.keys(patch) });
  }

  /**
   * Re-runs the conversion from the kept original: the old outputs are removed first so no
   * half-old, half-new ladder is ever served. What people uploaded (subtitle tracks, the custom
   * poster) lives under `uploads/` and stays; the result applier gives the new conversion the
   * uploaded tracks again (SubtitlesService.attachUploads).
   */
  async reprocess(id: string): Promise<void> {
    const v = await this.get(id);
    // refused before anything is cancelled or removed; the video's own conversion, if still in
    // flight, is replaced rather than added
    await this.assertConversionSlot(v.owner_id, id);
    // a job still running would make the new enqueue a no-op and write over the clean-up
    await this.cancelAndSettle(id);
    const posterKey = await this.keepUploads(v);
    await this.removeOutputs(id, v.source_key, posterKey);
    await this.videos.update(id, { playable: 0, media: null, media_bytes: 0, published_at: v.published_at, custom_poster_key: posterKey });
    await this.enqueueTranscode(id);
  }

  /**
   * Videos from before `uploads/` (lazy migration, at the one moment it matters: their HLS tree is
   * about to go): each uploaded track listed in the media JSON whose file is not under `uploads/`
   * is copied there from its rendition (without the X-TIMESTAMP-MAP), and a custom poster under
   * `thumbs/` moves to `uploads/poster.jpg`. Returns the custom poster's key to keep.
   */
  private async keepUploads(v: VideoRow): Promise<string | null> {
    const media = v.media ? (JSON.parse(v.media) as { uploadedSubtitles?: Array<{ lang: string; vttKey: string }> }) : null;
    for (const u of media?.uploadedSubtitles ?? []) {
      const kept = videoKeys.uploadedSubtitle(v.id, u.lang);
      if (await this.storage.exists(kept)) continue;
      const rendition = await this.storage.getBuffer(u.vttKey).catch(() => null);
      if (rendition) await this.storage.put(kept, storedFromRendition(rendition), { contentType: objectContentType(uploadedSubtitleRel(u.lang)) });
    }
    const legacyPoster = `${videoKeys.prefix(v.id)}${CUSTOM_POSTER_REL}`;
    if (v.custom_poster_key !== legacyPoster) return v.custom_poster_key;
    const poster = await this.storage.getBuffer(legacyPoster).catch(() => null);
    if (!poster) return v.custom_poster_key;
    await this.storage.put(videoKeys.uploadedPoster(v.id), poster, { contentType: objectContentType(UPLOADED_POSTER_REL) });
    return videoKeys.uploadedPoster(v.id);
  }

  /**
   * Deletes every stored file of a video except the ones named (the original, a custom poster
   * from before `uploads/`) and what people uploaded (`uploads/`).
   */
  async removeOutputs(id: string, ...keep: (string | null)[]): Promise<void> {
    const uploads = videoKeys.uploads(id);
    for (const key of await this.storage.list(videoKeys.prefix(id))) {
      if (!keep.includes(key) && !key.startsWith(uploads)) await this.storage.delete(key);
    }
  }

  /** Bytes the owner stores: originals and what their conversions generated (see the repository). */
  async quotaUsed(ownerId: string): Promise<number> {
    return this.videos.quotaUsed(ownerId);
  }

  /**
   * The per-owner cap on conversions in flight (MAX_QUEUED_CONVERSIONS): 429
   * `conversion_queue_full` when the owner already has that many uploading, validating, queued
   * or processing, counted without `exceptVideoId` (a reprocess replaces its own). Uploads on
   * their way count, so the cap is checked when an upload is created, before any byte is sent,
   * and a finished upload is never refused for it. 429 like `too_many_uploads`: nothing is wrong
   * with the request, it can be sent again once a conversion finished.
   */
  async assertConversionSlot(ownerId: string, exceptVideoId?: string): Promise<void> {
    const limit = this.config.upload.maxQueuedConversions;
    const queued = await this.videos.countConversions(ownerId, exceptVideoId);
    if (queued >= limit) {
      throw new AppError(
        429,
        "conversion_queue_full",
        `You have ${queued} videos waiting for or in conversion; at most ${limit} may be at once. Try again once one is ready.`,
        { queued, limit, retry_after_s: CONVERSION_RETRY_AFTER_S },
        { "retry-after": String(CONVERSION_RETRY_AFTER_S) },
      );
    }
  }

  /**
   * Cancels the video's conversion and waits (at most CANCEL_SETTLE_MS) until no attempt runs: a
   * running attempt may still be uploading segments when the cancel reaches it, and a file written
   * after a clean-up would never be removed.
   */
  private async cancelAndSettle(id: string): Promise<void> {
    const jobId = `transcode-${id}`;
    await this.queue.cancel(jobId).catch(() => undefined);
    const deadline = Date.now() + CANCEL_SETTLE_MS;
    while (Date.now() < deadline) {
      const job = await this.queue.inspect(jobId).catch(() => null);
      if (job?.state !== "active") return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Removes a video: cancels its job (ffmpeg is killed) and lets it stop, deletes every file, then
   * the row (which also gives the quota back). Late worker messages find no row to change.
   */
  async remove(id: string): Promise<void> {
    await this.cancelAndSettle(id);
    await this.storage.deletePrefix(videoKeys.prefix(id));
    await this.videos.delete(id);
    await this.events.publish(id, { type: "deleted" });
  }

  async removeAllOf(ownerId: string): Promise<void> {
    for (const id of await this.videos.idsByOwner(ownerId)) await this.remove(id);
  }
}
