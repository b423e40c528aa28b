/**
 * In-process event bus: the default when REDIS_URL is unset (single instance, embedded worker).
 * Events never leave the process, so a second API instance would not see them; use Redis then.
 */
import { EventEmitter } from "node:events";
import { REPLAY_BUFFER_SIZE, type EventBus, type EventPayload, type VideoEvent } from "./events.js";

export interface MemoryEventBusOptions {
  /** Replay buffer length per video. */
  bufferSize?: number;
  /**
   * Per-video state idle this long is dropped, mirroring the Redis adapter's key TTL so a
   * long-running process does not keep every video it ever saw.
   */
  idleTtlMs?: number;
  /** Receives exceptions thrown by listeners (they must not break the publisher or other listeners). */
  onListenerError?: (err: unknown) => void;
}

/** Fixed-capacity ring buffer: O(1) push, the oldest entry is overwritten when full. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(item: T): void {
    this.items[(this.head + this.count) % this.capacity] = item;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }
  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }
}

interface VideoState {
  seq: number;
  buffer: Ring<VideoEvent>;
  lastUsed: number;
}

const DEFAULT_IDLE_TTL_MS = 24 * 3600 * 1000;
/** Idle state is swept at most this often, lazily on publish, so no timer keeps the process alive. */
const SWEEP_INTERVAL_MS = 60 * 1000;

/** Builds the stored event; adapter-owned fields win over same-named payload fields. */
export function buildEvent(videoId: string, seq: number, payload: EventPayload): VideoEvent {
  return { ...payload, type: payload.type, video_id: videoId, seq, at: new Date().toISOString() };
}

export class MemoryEventBus implements EventBus {
  private readonly videos = new Map<string, VideoState>();
  private readonly emitter = new EventEmitter();
  private readonly bufferSize: number;
  private readonly idleTtlMs: number;
  private readonly onListenerError: (err: unknown) => void;
  private lastSweep = Date.now();
  private closed = false;

  constructor(opts: MemoryEventBusOptions = {}) {
    this.bufferSize = opts.bufferSize ?? REPLAY_BUFFER_SIZE;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) throw new RangeError("bufferSize must be a positive integer");
    this.idleTtlMs = opts.idleTtlMs ?? DEFAULT_IDLE_TTL_MS;
    this.onListenerError = opts.onListenerError ?? ((err) => console.error("event listener failed", err));
    // Every open SSE connection is one listener; the default cap of 10 would only print false leak warnings.
    this.emitter.setMaxListeners(0);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("EventBus is closed");
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [videoId, state] of this.videos) {
      if (now - state.lastUsed > this.idleTtlMs && this.emitter.listenerCount(videoId) === 0) this.videos.delete(videoId);
    }
  }

  async publish(videoId: string, payload: EventPayload): Promise<VideoEvent> {
    this.assertOpen();
    const now = Date.now();
    this.sweep(now);
    let state = this.videos.get(videoId);
    if (!state) {
      state = { seq: 0, buffer: new Ring<VideoEvent>(this.bufferSize), lastUsed: now };
      this.videos.set(videoId, state);
    }
    state.lastUsed = now;
    const event = buildEvent(videoId, ++state.seq, payload);
    state.buffer.push(event);
    this.emitter.emit(videoId, event);
    return event;
  }

  async history(videoId: string, afterSeq: number): Promise<VideoEvent[]> {
    this.assertOpen();
    const state = this.videos.get(videoId);
    if (!state) return [];
    return state.buffer.toArray().filter((e) => e.seq > afterSeq);
  }

  async subscribe(videoId: string, listener: (e: VideoEvent) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    // EventEmitter calls listeners synchronously inside emit(); an exception would propagate into
    // publish() and skip the remaining listeners, so each one is isolated.
    const wrapped = (e: VideoEvent): void => {
      try {
        listener(e);
      } catch (err) {
        this.onListenerError(err);
      }
    };
    this.emitter.on(videoId, wrapped);
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      this.emitter.off(videoId, wrapped);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emitter.removeAllListeners();
    this.videos.clear();
  }
}
