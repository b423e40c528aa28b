/**
 * Redis-backed event bus, used when REDIS_URL is set so every API instance and worker shares one
 * per-video event stream. Per video:
 *   `${prefix}:ev:${videoId}:seq`  INCR counter (the event `seq`)
 *   `${prefix}:ev:${videoId}:buf`  capped list, newest first, for Last-Event-ID replay
 *   `${prefix}:ev:${videoId}`      pub/sub channel for live delivery
 * Both keys carry a TTL refreshed on every publish, so finished videos leave nothing behind.
 */
import { Redis } from "ioredis";
import { RedisChannels, quitRedis } from "./redis-channels.js";
import { REPLAY_BUFFER_SIZE, type EventBus, type EventPayload, type VideoEvent } from "./events.js";

export interface RedisEventBusOptions {
  /** Key and channel namespace; tests use a unique one per run. */
  prefix?: string;
  /** Replay buffer length per video. */
  bufferSize?: number;
  /**
   * Lifetime of a video's keys after its last event. After it, seq restarts at 1, which is harmless:
   * no SSE client reconnects with a day-old Last-Event-ID to a video that has gone quiet.
   */
  ttlS?: number;
  /** Receives listener exceptions, malformed messages and Redis connection errors. */
  onError?: (err: unknown) => void;
}

const DEFAULT_TTL_S = 24 * 3600;

/**
 * Seq, buffer and PUBLISH in one script: Redis runs scripts atomically, so two instances
 * publishing for the same video cannot interleave as "INCR a, INCR b, PUBLISH b, PUBLISH a";
 * subscribers always receive events in seq order. The event JSON is spliced rather than
 * cjson-encoded because cjson turns `[]` into `{}` and rounds large integers.
 * KEYS: seq key, buffer key. ARGV: event JSON without its opening brace, buffer size, TTL, channel.
 */
const PUBLISH_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
local ev = '{"seq":' .. seq .. ',' .. ARGV[1]
redis.call('LPUSH', KEYS[2], ev)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ev)
return seq
`;

export class RedisEventBus implements EventBus {
  private readonly prefix: string;
  private readonly bufferSize: number;
  private readonly ttlS: number;
  private readonly onError: (err: unknown) => void;
  private readonly pub: Redis;
  private readonly channels: RedisChannels;
  private closed = false;

  constructor(redisUrl: string, opts: RedisEventBusOptions = {}) {
    this.prefix = opts.prefix ?? "vidflux";
    this.bufferSize = opts.bufferSize ?? REPLAY_BUFFER_SIZE;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) throw new RangeError("bufferSize must be a positive integer");
    this.ttlS = opts.ttlS ?? DEFAULT_TTL_S;
    this.onError = opts.onError ?? ((err) => console.error("event bus error", err));
    // Named connections make `CLIENT LIST` show who holds them (and let tests prove close() released them).
    this.pub = new Redis(redisUrl, { connectionName: `${this.prefix}:events` });
    // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt.
    this.pub.on("error", (err) => this.onError(err));
    this.channels = new RedisChannels(this.pub, `${this.prefix}:events-sub`, this.onError);
  }

  private keyBase(videoId: string): string {
    return `${this.prefix}:ev:${videoId}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("EventBus is closed");
  }

  async publish(videoId: string, payload: EventPayload): Promise<VideoEvent> {
    this.assertOpen();
    // Adapter-owned fields win over same-named payload fields; `seq` is added by the script.
    const { seq: _seq, video_id: _videoId, at: _at, ...rest } = payload;
    const body = JSON.stringify({ ...rest, type: payload.type, video_id: videoId, at: new Date().toISOString() });
    const base = this.keyBase(videoId);
    const seq = Number(
      await this.pub.eval(PUBLISH_SCRIPT, 2, `${base}:seq`, `${base}:buf`, body.slice(1), this.bufferSize, this.ttlS, base),
    );
    // Rebuild from the exact JSON subscribers receive, so the returned event equals theirs.
    return JSON.parse(`{"seq":${seq},${body.slice(1)}`) as VideoEvent;
  }

  async history(videoId: string, afterSeq: number): Promise<VideoEvent[]> {
    this.assertOpen();
    const raw = await this.pub.lrange(`${this.keyBase(videoId)}:buf`, 0, -1);
    const out: VideoEvent[] = [];
    // The list is newest first (LPUSH); walk it backwards for oldest first.
    for (let i = raw.length - 1; i >= 0; i--) {
      const e = JSON.parse(raw[i]!) as VideoEvent;
      if (e.seq > afterSeq) out.push(e);
    }
    return out;
  }

  async subscribe(videoId: string, listener: (e: VideoEvent) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    return this.channels.subscribe(this.keyBase(videoId), (message) => {
      let event: VideoEvent;
      try {
        event = JSON.parse(message) as VideoEvent;
      } catch (err) {
        this.onError(err);
        return;
      }
      listener(event);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.channels.close(), quitRedis(this.pub)]);
  }
}
