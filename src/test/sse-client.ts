/**
 * The tests' SSE client (the live-event suites of the videos and reactions domains): real HTTP
 * through fetch, parsed as it arrives; `next()` hands out messages in order with their JSON.
 */
import type { VideoEvent } from "../platform/events/events.js";

export interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** A minimal EventSource over fetch: parses the stream as it arrives (WHATWG HTML §9.2.6). */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  ended = false;
  private readonly waiters: (() => void)[] = [];
  private taken = 0;

  private constructor(
    readonly res: Response,
    private readonly abort: AbortController,
  ) {}

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(url, { headers, signal: abort.signal });
    const client = new SseClient(res, abort);
    if (res.ok && res.body) void client.pump(res.body);
    else client.ended = true;
    return client;
  }

  get status(): number {
    return this.res.status;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const msg: SseMessage = { data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) {
              this.comments.push(line.slice(1).trim());
              continue;
            }
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "event") msg.event = value;
            else if (field === "id") msg.id = value;
            else if (field === "data") data.push(value);
            else if (field === "retry") this.retry = Number(value);
          }
          if (data.length > 0) {
            msg.data = data.join("\n");
            this.messages.push(msg);
          }
          this.wake();
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The next message not yet returned. */
  async next(timeoutMs = 5000): Promise<SseMessage & { json: VideoEvent }> {
    await this.until(() => this.messages.length > this.taken || this.ended, timeoutMs, "an SSE message");
    const m = this.messages[this.taken++];
    if (!m) throw new Error("stream ended");
    return { ...m, json: JSON.parse(m.data) as VideoEvent };
  }

  async waitEnd(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.ended, timeoutMs, "the end of the stream");
  }

  async waitComments(n: number, timeoutMs = 5000): Promise<void> {
    await this.until(() => this.comments.length >= n, timeoutMs, `${n} comments`);
  }

  close(): void {
    this.abort.abort();
  }
}
