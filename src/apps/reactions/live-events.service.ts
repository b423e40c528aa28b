/**
 * The viewers' live channel of a video: `comment` (created, edited, deleted) and `reactions`
 * (counts) events on the second event bus (`ctx.liveEvents`: in-process, or Redis pub/sub with
 * a replay list across API processes). It is a bus of its own so the owner's conversion events
 * keep their channel, seq and replay buffer to themselves.
 *
 * A stream resumes like the owner's events (video-events.service.ts): subscribe first and buffer,
 * read the replay buffer, send what the client missed (or a `snapshot` of the counts on a fresh
 * connection or a gap), then flush the buffered events the client has not seen.
 */
import type { Logger } from "pino";
import type { EventBus, EventPayload, VideoEvent } from "../../platform/events/events.js";
import { nowIso } from "../../lib/ids.js";

export type LiveSnapshot = () => Promise<Record<string, unknown>>;

export class LiveEventsService {
  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  /**
   * Publishes without failing the request that caused it: the change is committed, and a client
   * that missed the event still sees the change on its next read or after a reconnect.
   */
  async publish(videoId: string, payload: EventPayload): Promise<void> {
    try {
      await this.bus.publish(videoId, payload);
    } catch (err) {
      this.logger.warn({ err, videoId, type: payload.type }, "live event not published");
    }
  }

  async open(videoId: string, snapshot: LiveSnapshot, deliver: (e: VideoEvent) => void): Promise<LiveStream> {
    const s = new LiveStream(videoId, this.bus, snapshot, deliver);
    await s.attach();
    return s;
  }
}

export class LiveStream {
  private buffer: VideoEvent[] | null = [];
  private lastSent = 0;
  private unsubscribe: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(
    private readonly videoId: string,
    private readonly bus: EventBus,
    private readonly snapshot: LiveSnapshot,
    private readonly deliver: (e: VideoEvent) => void,
  ) {}

  async attach(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(this.videoId, (e) => {
      if (this.closed) return;
      if (this.buffer) this.buffer.push(e);
      else this.emitNew(e);
    });
  }

  /** Replays from `afterSeq` (null: a fresh connection gets a snapshot), then goes live. */
  async sync(afterSeq: number | null): Promise<void> {
    const history = await this.bus.history(this.videoId, 0);
    if (this.closed) return;
    const latest = history.length > 0 ? history[history.length - 1]!.seq : 0;
    let needSnapshot = afterSeq === null;
    if (afterSeq !== null) {
      if (afterSeq > latest) needSnapshot = true; // the sequence restarted: the client's numbering is stale
      else {
        if (history.length > 0 && history[0]!.seq > afterSeq + 1) needSnapshot = true; // the buffer lost some
        for (const e of history) if (e.seq > afterSeq) this.deliver(e);
      }
    }
    if (needSnapshot) {
      const state = await this.snapshot();
      if (this.closed) return;
      this.deliver({ ...state, type: "snapshot", video_id: this.videoId, seq: latest, at: nowIso() });
    }
    this.lastSent = latest;
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const e of buffered) this.emitNew(e);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    const u = this.unsubscribe;
    this.unsubscribe = null;
    if (u) await u();
  }

  private emitNew(e: VideoEvent): void {
    if (e.seq <= this.lastSent) return;
    this.lastSent = e.seq;
    this.deliver(e);
  }
}
