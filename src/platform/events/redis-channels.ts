/**
 * Pub/sub fan-in for the Redis adapters of the events port (the event bus and the state hub): one
 * subscriber connection for all of an adapter's channels (a connection in subscribe mode can do
 * nothing else), SUBSCRIBE once per channel whatever the number of listeners (ref-counted by a
 * set), and "subscribed" meaning live: `subscribe` resolves once Redis confirmed the SUBSCRIBE.
 * ioredis re-subscribes every channel after a reconnect (autoResubscribe), so entries stay valid.
 */
import type { Redis } from "ioredis";

interface ChannelEntry {
  listeners: Set<(message: string) => void>;
  ready: Promise<void>;
}

export class RedisChannels {
  private sub: Redis | undefined;
  private readonly channels = new Map<string, ChannelEntry>();
  private closed = false;

  /**
   * `base`: the adapter's command connection, duplicated on first use; `name`: the subscriber
   * connection's name (CLIENT LIST shows who holds it); `onError`: listener exceptions and
   * connection errors.
   */
  constructor(
    private readonly base: Redis,
    private readonly name: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  private subscriber(): Redis {
    if (this.sub) return this.sub;
    const sub = this.base.duplicate({ connectionName: this.name });
    // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt.
    sub.on("error", (err) => this.onError(err));
    sub.on("message", (channel: string, message: string) => this.dispatch(channel, message));
    this.sub = sub;
    return sub;
  }

  private dispatch(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    // Copy: a listener may unsubscribe (mutating the set) while we iterate.
    for (const listener of [...entry.listeners]) listener(message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    const wrapped = (message: string) => {
      try {
        listener(message);
      } catch (err) {
        this.onError(err);
      }
    };
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), ready: this.subscriber().subscribe(channel).then(() => undefined) };
      this.channels.set(channel, entry);
    }
    const current = entry;
    current.listeners.add(wrapped);

    const release = async (): Promise<void> => {
      current.listeners.delete(wrapped);
      if (current.listeners.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      // Commands on one connection run in order, so a SUBSCRIBE issued after this UNSUBSCRIBE
      // (a new listener arriving now) still wins and the channel ends up subscribed.
      if (!this.closed && this.sub) await this.sub.unsubscribe(channel);
    };

    try {
      await current.ready;
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      await release();
    };
  }

  /** Closes the subscriber connection (the adapter closes its own command connection). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    if (!this.sub) return;
    try {
      await this.sub.quit();
    } catch {
      this.sub.disconnect();
    }
  }
}

/** QUIT lets in-flight replies arrive first; a connection that is already down is just dropped. */
export async function quitRedis(conn: Redis): Promise<void> {
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  }
}
