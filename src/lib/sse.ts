/**
 * Server-Sent Events over a hijacked Fastify reply (WHATWG HTML §9.2 "Server-sent events").
 * The stream is written to `reply.raw` directly, so it does not go through Fastify's onSend
 * hooks; headers that onRequest hooks already put on the reply (CORS via @fastify/cors) are
 * copied onto the raw response, and helmet writes its headers to the raw response itself.
 */
import type { OutgoingHttpHeaders } from "node:http";
import type { FastifyReply } from "fastify";

export interface SseOptions {
  /** Reconnection delay sent to the client (`retry:` field), ms. */
  retryMs?: number;
  /** Interval of `: ping` comment lines that keep proxies and load balancers from timing out, ms. */
  heartbeatMs?: number;
  /**
   * A client that does not read its stream makes the socket buffer grow; past this many
   * unsent bytes the connection is dropped (it reconnects with Last-Event-ID and loses nothing).
   */
  maxBufferedBytes?: number;
}

export interface SseMessage {
  event?: string;
  id?: string | number;
  data: string;
}

/** One field per line; CR and LF would end the field early, so they never appear in a value. */
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, " ");

/** Encodes one SSE message; multi-line data becomes several `data:` lines (the client rejoins them with LF). */
export function formatSse(msg: SseMessage): string {
  let out = "";
  if (msg.event !== undefined) out += `event: ${oneLine(msg.event)}\n`;
  if (msg.id !== undefined) out += `id: ${oneLine(String(msg.id))}\n`;
  for (const line of msg.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * Parses a Last-Event-ID value as a non-negative integer sequence number; anything else (an id
 * this server never sent) is treated as absent, so the client simply starts afresh.
 */
export function parseEventId(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\s*\d{1,15}\s*$/.test(v)) return null;
  return Number(v);
}

export class SseStream {
  private readonly closers: (() => void | Promise<void>)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly onDrain = () => this.close();

  private constructor(
    private readonly reply: FastifyReply,
    private readonly maxBufferedBytes: number,
  ) {}

  /**
   * Takes the response over from Fastify and sends the headers and the `retry:` field. Everything
   * that may still fail with a proper HTTP error (auth, lookups, subscribing) must run before this.
   */
  static open(reply: FastifyReply, opts: SseOptions = {}): SseStream {
    const stream = new SseStream(reply, opts.maxBufferedBytes ?? 1024 * 1024);
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: compressing proxies would otherwise buffer the stream.
      "cache-control": "no-cache, no-transform",
      // nginx buffers proxied responses unless told otherwise.
      "x-accel-buffering": "no",
    });
    res.on("close", () => stream.finish());
    // The client may have left while the handler was awaiting: then 'close' has already fired.
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      stream.finish();
      return stream;
    }
    res.write(`retry: ${opts.retryMs ?? 3000}\n\n`);
    const every = opts.heartbeatMs ?? 15_000;
    stream.heartbeat = setInterval(() => stream.write(": ping\n\n"), every);
    stream.heartbeat.unref();
    // The app is closing (SIGTERM, lib/drain.plugin.ts): end the stream, or it would hold the
    // shutdown until its bound; the client reconnects to another process with Last-Event-ID.
    const drain = reply.server.drainSignal;
    if (drain.aborted) stream.close();
    else drain.addEventListener("abort", stream.onDrain, { once: true });
    return stream;
  }

  get closed(): boolean {
    return this.ended;
  }

  send(msg: SseMessage): void {
    this.write(formatSse(msg));
  }

  /** Runs when the stream ends for any reason (client gone, server close, slow consumer). */
  onClose(fn: () => void | Promise<void>): void {
    if (this.ended) void Promise.resolve().then(fn).catch(() => undefined);
    else this.closers.push(fn);
  }

  /** Ends the response; the client's EventSource reconnects after `retry` unless it is closed. */
  close(): void {
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
    this.finish();
  }

  private write(chunk: string): void {
    if (this.ended) return;
    const res = this.reply.raw;
    if (res.writableLength > this.maxBufferedBytes) {
      res.destroy();
      this.finish();
      return;
    }
    res.write(chunk);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.reply.server.drainSignal.removeEventListener("abort", this.onDrain);
    // Each cleanup runs on its own: one failing must not prevent the others.
    for (const fn of this.closers.splice(0)) void Promise.resolve().then(fn).catch(() => undefined);
  }
}

/**
 * The OpenAPI answer of an SSE route: `text/event-stream` (the stream is written on the hijacked
 * reply, so this is documentation only; the route's errors stay JSON).
 */
export function sseResponse(description: string, example: string) {
  return { description, content: { "text/event-stream": { schema: { type: "string", description: "an endless stream of `event:`/`id:`/`data:` messages", examples: [example] } } } };
}
