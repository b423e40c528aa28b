/**
 * Per-video event stream (upload progress, status changes, conversion progress). The adapter
 * assigns a monotonically increasing `seq` per video and keeps a bounded replay buffer so an SSE
 * client reconnecting with Last-Event-ID gets what it missed. In-process by default; Redis pub/sub
 * (+ a capped list for replay) when REDIS_URL is set, so instance B sees instance A's events.
 */
export interface VideoEvent {
  type: string;
  video_id: string;
  seq: number;
  at: string;
  [field: string]: unknown;
}

export type EventPayload = { type: string } & Record<string, unknown>;

export interface EventBus {
  /** Publishes an event for a video; returns it with its seq and timestamp. */
  publish(videoId: string, payload: EventPayload): Promise<VideoEvent>;
  /** Events with seq > afterSeq still in the replay buffer, oldest first. */
  history(videoId: string, afterSeq: number): Promise<VideoEvent[]>;
  /** Live events for one video; returns an unsubscribe function. */
  subscribe(videoId: string, listener: (e: VideoEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const REPLAY_BUFFER_SIZE = 200;
