/**
 * A `ws` client for tests of the WebSocket endpoints: frames are collected as they arrive and
 * taken in order with `next()`, or searched with `waitFor()`; `closed` resolves with the close
 * code and reason.
 */
import WebSocket from "ws";

export type Frame = Record<string, unknown> & { type?: string };

export interface WsClient {
  ws: WebSocket;
  frames: Frame[];
  /** the next frame not yet taken */
  next(timeoutMs?: number): Promise<Frame>;
  /** the next frame (not yet taken) that matches, skipping the others */
  nextOf(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
  send(msg: unknown): void;
  close(): Promise<void>;
}

export function openWs(url: string, options: WebSocket.ClientOptions = {}): WsClient {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  let taken = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const opened = new Promise<void>((resolve) => ws.once("open", () => resolve()));
  ws.on("message", (data, isBinary) => {
    // The protocol is JSON in text frames: a binary one is a server bug a browser would see as a Blob.
    if (isBinary) throw new Error(`binary frame received: ${String(data).slice(0, 80)}`);
    frames.push(JSON.parse(String(data)) as Frame);
  });
  ws.on("error", () => undefined);
  const wait = async (timeoutMs: number, ready: () => boolean, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames.slice(taken)).slice(0, 800)}`);
      if (ws.readyState === WebSocket.CLOSED && !ready()) throw new Error(`socket closed while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    ws,
    frames,
    closed,
    opened,
    async next(timeoutMs = 5000) {
      await wait(timeoutMs, () => frames.length > taken, "a WebSocket frame");
      return frames[taken++]!;
    },
    async nextOf(match, timeoutMs = 5000) {
      let found: Frame | undefined;
      await wait(
        timeoutMs,
        () => {
          while (taken < frames.length) {
            const f = frames[taken++]!;
            if (match(f)) {
              found = f;
              return true;
            }
          }
          return false;
        },
        "a matching WebSocket frame",
      );
      return found!;
    },
    send(msg) {
      const go = () => ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
      if (ws.readyState === WebSocket.OPEN) go();
      else ws.once("open", go);
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
