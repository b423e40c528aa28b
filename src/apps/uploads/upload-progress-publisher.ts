/**
 * Live upload progress: one ProgressTracker per unfinished upload, kept across its PATCHes (so
 * the rate does not restart at every chunk), published as video events while bytes arrive and
 * written to the video's progress column now and then. In memory: the PATCHes of one upload may
 * reach another instance, which then starts its own tracker.
 */
import type { Logger } from "pino";
import type { VideoProgress, VideoService } from "../videos/index.js";
import { ProgressTracker, type UploadProgressEvent } from "./progress-tracker.js";
import type { UploadRow } from "./upload.repository.js";

/** Progress is published at most this often; the progress column is written less often. */
const EVENT_INTERVAL_MS = 250;
const DB_PROGRESS_INTERVAL_MS = 1_000;

/** One upload's progress state; obtained from `resume` at the start of a PATCH. */
export interface LiveProgress {
  readonly tracker: ProgressTracker;
  publishing: boolean;
  lastDbWrite: number;
}

export class UploadProgressPublisher {
  private readonly live = new Map<string, LiveProgress>();

  constructor(
    private readonly videos: Pick<VideoService, "publish" | "setProgress">,
    private readonly logger: Logger,
  ) {}

  /** A PATCH starts at `row.offset`: the upload's tracker, with a new rate window. */
  resume(row: UploadRow): LiveProgress {
    let live = this.live.get(row.id);
    if (!live) {
      live = { tracker: new ProgressTracker(row.length, EVENT_INTERVAL_MS), publishing: false, lastDbWrite: 0 };
      this.live.set(row.id, live);
    }
    live.tracker.resume(row.offset);
    return live;
  }

  /**
   * `bytes` (absolute offset) have arrived. Fire-and-forget from the byte path: a slow event bus
   * must never stall the upload.
   */
  received(row: UploadRow, live: LiveProgress, bytes: number): void {
    const ev = live.tracker.sample(bytes);
    if (!ev || !row.video_id || live.publishing) return;
    const videoId = row.video_id;
    live.publishing = true;
    const writeDb = performance.now() - live.lastDbWrite >= DB_PROGRESS_INTERVAL_MS;
    if (writeDb) live.lastDbWrite = performance.now();
    const job = writeDb ? this.videos.setProgress(videoId, toVideoProgress(ev), { ...ev }) : this.videos.publish(videoId, { ...ev });
    job
      .catch((err: unknown) => this.logger.warn({ err, video: videoId }, "progress event failed"))
      .finally(() => {
        live.publishing = false;
      });
  }

  /**
   * The end of a PATCH: the committed offset as an event and in the progress column, when one is
   * due (still at most every 250 ms, however many small PATCHes arrive), and always at the end.
   */
  async flush(row: UploadRow, live: LiveProgress): Promise<void> {
    if (!row.video_id) return;
    const ev = live.tracker.sample(row.offset, row.offset === row.length);
    if (!ev) return;
    live.lastDbWrite = performance.now();
    await this.videos.setProgress(row.video_id, toVideoProgress(ev), { ...ev }).catch((err: unknown) => this.logger.warn({ err }, "progress update failed"));
  }

  /** The upload is complete, refused or gone. */
  forget(uploadId: string): void {
    this.live.delete(uploadId);
  }
}

function toVideoProgress(ev: UploadProgressEvent): VideoProgress {
  return { step: "uploading", percent: ev.percent, bytes_received: ev.bytes_received, eta_s: ev.eta_s, queue_position: null };
}
