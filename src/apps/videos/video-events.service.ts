/**
 * Live events of one video for its owner (and moderators/admins), shared by the SSE and the
 * WebSocket endpoints. The hard part is resuming without gaps or duplicates: a stream
 * subscribes first and buffers live events, then reads the replay buffer, sends what the client
 * missed, and only then flushes the buffered events newer than the last one sent.
 */
import type { EventBus, VideoEvent } from "../../platform/events/events.js";
import { forbidden, notFound } from "../../lib/errors.js";
import { nowIso } from "../../lib/ids.js";
import type { Role, AuthUser } from "../users/index.js";
import type { VideoRepository, VideoRow } from "./video.repository.js";
import { VideoService } from "./video.service.js";
import type { VideoProgress } from "./video.types.js";

/** Sent first on a fresh connection, and after a resume that could not be gap-free. */
export interface SnapshotEvent extends VideoEvent {
  type: "snapshot";
  status: string;
  playable: boolean;
  progress: VideoProgress | null;
  failure_code: string | null;
  failure_message: string | null;
}

/** Event types after which the stream ends: the video is gone. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(["deleted"]);

export class VideoEventsService {
  constructor(
    private readonly videos: VideoRepository,
    private readonly events: EventBus,
  ) {}

  /**
   * The events of a video (progress, failure details) are for its owner, moderators and admins.
   * A private video of someone else does not exist for the caller (404, as everywhere); a video
   * the caller may watch but not manage answers 403.
   */
  async authorize(videoId: string, user: AuthUser | null, role: Role): Promise<VideoRow> {
    const v = await this.videos.find(videoId);
    if (!v || !VideoService.canView(v, user, role)) throw notFound("Video not found.", "video_not_found");
    if (!VideoService.canManage(v, user, role)) {
      throw forbidden("Only the video's owner, moderators and admins may follow its events.");
    }
    return v;
  }

  /**
   * Subscribes to a video's events. Nothing is delivered until `sync()` runs; live events are
   * buffered meanwhile, so the caller can finish its handshake (HTTP headers) first.
   */
  async open(videoId: string, deliver: (e: VideoEvent) => void): Promise<VideoEventStream> {
    const stream = new VideoEventStream(videoId, this.events, this.videos, deliver);
    await stream.attach();
    return stream;
  }
}

export function snapshotOf(row: VideoRow, seq: number): SnapshotEvent {
  return {
    type: "snapshot",
    video_id: row.id,
    seq,
    at: nowIso(),
    status: row.status,
    playable: row.playable === 1,
    progress: row.progress ? (JSON.parse(row.progress) as VideoProgress) : null,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
  };
}

export class VideoEventStream {
  /** Live events received while a sync is reading history; null when delivering directly. */
  private buffer: VideoEvent[] | null = [];
  private lastSent = 0;
  private unsubscribe: (() => Promise<void>) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly videoId: string,
    private readonly bus: EventBus,
    private readonly videos: VideoRepository,
    private readonly deliver: (e: VideoEvent) => void,
  ) {}

  /** @internal called once by VideoEventsService.open */
  async attach(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(this.videoId, (e) => this.onLive(e));
  }

  /** The seq of the last event delivered (what a client would resume from). */
  get lastSeq(): number {
    return this.lastSent;
  }

  /**
   * Brings the client up to date, then switches to live delivery.
   * - `afterSeq === null` (fresh connection): a snapshot of the current state, then live events.
   * - `afterSeq = N`: the buffered events with seq > N, then live events. If the replay buffer
   *   no longer reaches back to N+1 (bounded buffer), or the bus's sequence restarted (seq key
   *   expired), a snapshot follows the replay so the client ends in the current state.
   * Calls are serialized; a WebSocket client may ask to resume at any time.
   */
  sync(afterSeq: number | null): Promise<void> {
    const run = this.chain.then(() => this.doSync(afterSeq));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe();
  }

  private onLive(e: VideoEvent): void {
    if (this.closed) return;
    if (this.buffer) this.buffer.push(e);
    else this.emitNew(e);
  }

  /** Delivers an event unless the client already has it. */
  private emitNew(e: VideoEvent): void {
    if (e.seq <= this.lastSent) return;
    this.lastSent = e.seq;
    this.deliver(e);
  }

  private async doSync(afterSeq: number | null): Promise<void> {
    if (this.closed) return;
    this.buffer ??= [];
    try {
      await this.catchUp(afterSeq);
    } catch (err) {
      // A stream that could not catch up must not go live: flushing newer events would move the
      // client's last seq past the ones it missed. It is closed; the client reconnects and resumes.
      await this.close().catch(() => undefined);
      throw err;
    }
    if (this.closed) return;
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const e of buffered) this.emitNew(e);
  }

  private async catchUp(afterSeq: number | null): Promise<void> {
    // The whole (bounded) buffer, not only seq > afterSeq: its newest seq tells a gap or a
    // restarted sequence apart from "nothing missed".
    const history = await this.bus.history(this.videoId, 0);
    if (this.closed) return;
    const latest = history.length > 0 ? history[history.length - 1]!.seq : 0;
    let snapshot = afterSeq === null;
    if (afterSeq !== null) {
      if (afterSeq > latest) {
        // The client saw events the bus no longer knows of: the sequence restarted (keys expired,
        // in-process bus after a restart). Its numbering is stale; the snapshot resets it.
        snapshot = true;
        this.lastSent = 0;
      } else {
        // The bounded buffer no longer reaches back to afterSeq + 1: some events are lost.
        if (history.length > 0 && history[0]!.seq > afterSeq + 1) snapshot = true;
        // Explicitly requested: sent even if this stream delivered them before (a WebSocket resume).
        for (const e of history) if (e.seq > afterSeq) this.deliver(e);
      }
    }
    if (snapshot) {
      // Read after the history, so the snapshot is at least as new as every replayed event.
      const row = await this.videos.find(this.videoId);
      if (this.closed) return;
      this.deliver(row ? snapshotOf(row, latest) : { type: "deleted", video_id: this.videoId, seq: latest, at: nowIso() });
    }
    this.lastSent = Math.max(this.lastSent, latest);
  }
}
