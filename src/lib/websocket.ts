/**
 * Plumbing shared by every WebSocket endpoint (live video events, player control): JSON text
 * frames, keep-alive, slow-consumer protection, and errors reported as close codes.
 *
 * Browsers cannot read the HTTP status of a refused upgrade (the page only sees close code
 * 1006), so endpoints accept the upgrade and report auth failures as close codes in the
 * application range (RFC 6455 §7.4.2, 4000-4999) that mirror HTTP: 4401, 4403, 4404. The
 * close reason is the API error code, and an `{"type":"error","error":{…}}` frame precedes it.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { RawData, WebSocket } from "ws";
import { Type } from "@sinclair/typebox";
import { AppError, badRequest, fieldError } from "./errors.js";
import { errors } from "./schemas.js";

/**
 * The HTTP side of a WebSocket route (`handler` beside `wsHandler`): a GET without the upgrade
 * headers is a client that does not speak WebSocket, told so in the error format (RFC 9110
 * §15.5.22 426 with `Upgrade`) instead of an empty 404.
 */
export async function upgradeRequired(_req: FastifyRequest, reply: FastifyReply): Promise<never> {
  reply.header("upgrade", "websocket");
  throw new AppError(426, "upgrade_required", "This URL speaks WebSocket: send Connection: Upgrade and Upgrade: websocket.");
}

/** What a WebSocket route answers over HTTP, for its OpenAPI operation. */
export const WS_UPGRADE_RESPONSES = {
  101: Type.Null({ description: "Switching Protocols: the WebSocket is open (frames and close codes in the operation's and the tag's descriptions)" }),
  ...errors(
    [401, "The `Authorization` header is malformed or its token refused (other refusals come as close codes after the upgrade)"],
    [426, "Not a WebSocket upgrade request (`upgrade_required`, `Upgrade: websocket`)"],
  ),
};

export const WsClose = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  internalError: 1011,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
} as const;

/** An API error as a close code: 4xx statuses map to 4000 + status, everything else to 1011. */
export function closeCodeFor(err: unknown): number {
  if (err instanceof AppError && err.status >= 400 && err.status < 500) return 4000 + err.status;
  return WsClose.internalError;
}

/** Close reasons are limited to 123 bytes of UTF-8 (RFC 6455 §5.5). */
function reason(s: string): string {
  let out = s;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

export type ClientMessage = { type: string } & Record<string, unknown>;

export interface SocketSessionOptions {
  log: FastifyBaseLogger;
  /** Protocol-level ping interval; a peer that has not answered the previous ping is dropped. */
  pingIntervalMs?: number;
  /** Unsent bytes beyond which a client that does not read is disconnected. */
  maxBufferedBytes?: number;
}

/**
 * Wraps one server-side socket. Create it synchronously at the start of the route handler:
 * messages that arrive while the handler is still authenticating are queued until a handler is
 * installed with `onMessage`, then handled one at a time, in order.
 */
export class SocketSession {
  private readonly log: FastifyBaseLogger;
  private readonly maxBufferedBytes: number;
  private readonly pending: ClientMessage[] = [];
  private readonly closers: (() => void | Promise<void>)[] = [];
  private handler: ((msg: ClientMessage) => void | Promise<void>) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pinger: NodeJS.Timeout | undefined;
  private alive = true;
  private ended = false;

  constructor(
    private readonly socket: WebSocket,
    opts: SocketSessionOptions,
  ) {
    this.log = opts.log;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    socket.on("pong", () => {
      this.alive = true;
    });
    socket.on("close", () => this.finish());
    socket.on("error", (err) => {
      this.log.debug({ err }, "websocket error");
      this.finish();
    });
    this.pinger = setInterval(() => {
      if (!this.alive) {
        this.log.debug("websocket peer missed a pong; terminating");
        socket.terminate();
        this.finish();
        return;
      }
      this.alive = false;
      socket.ping();
    }, opts.pingIntervalMs ?? 30_000);
    this.pinger.unref();
  }

  get closed(): boolean {
    return this.ended || this.socket.readyState !== this.socket.OPEN;
  }

  /** Sends one JSON text frame; returns false if the socket is gone. */
  send(msg: unknown): boolean {
    return this.sendRaw(JSON.stringify(msg));
  }

  /**
   * Sends an already serialized JSON frame: a fan-out to many sockets serializes once, not once
   * per socket.
   */
  sendRaw(text: string | Buffer): boolean {
    if (this.closed) return false;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.log.debug("websocket client too slow; terminating");
      this.socket.terminate();
      this.finish();
      return false;
    }
    // ws sends a Buffer as a binary frame unless told otherwise; JSON frames are text (RFC 6455
    // §5.6, opcode 0x1), which browsers hand over as strings. The bytes are valid UTF-8 already.
    this.socket.send(text, { binary: false });
    return true;
  }

  /** Reports an error without closing (a bad message from an otherwise healthy client). */
  sendError(err: AppError): void {
    this.send({ type: "error", error: { code: err.code, message: err.message, details: err.details } });
  }

  /** Reports the error, then closes with its code (4401/4403/4404…, 1011 for server faults). */
  fail(err: unknown): void {
    const code = closeCodeFor(err);
    if (err instanceof AppError && code !== WsClose.internalError) {
      this.sendError(err);
      this.close(code, err.code);
      return;
    }
    this.log.error({ err }, "websocket handler failed");
    this.send({ type: "error", error: { code: "internal_error", message: "A server error occurred.", details: null } });
    this.close(WsClose.internalError, "internal_error");
  }

  /** Runs the endpoint's setup, turning any thrown error into an error frame and a close code. */
  run(fn: () => Promise<void>): Promise<void> {
    return fn().catch((err: unknown) => this.fail(err));
  }

  close(code: number = WsClose.normal, why = ""): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason(why));
    }
    this.finish();
  }

  /** Installs the message handler and drains what arrived before it. */
  onMessage(fn: (msg: ClientMessage) => void | Promise<void>): void {
    this.handler = fn;
    for (const msg of this.pending.splice(0)) this.dispatch(msg);
  }

  /** Runs when the socket closes for any reason; at once if it already has. */
  onClose(fn: () => void | Promise<void>): void {
    if (this.ended) void Promise.resolve().then(fn).catch((err: unknown) => this.log.warn({ err }, "websocket cleanup failed"));
    else this.closers.push(fn);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    if (isBinary) {
      this.close(WsClose.unsupportedData, "binary frames are not supported");
      return;
    }
    let msg: unknown;
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
      msg = JSON.parse(text);
    } catch {
      this.sendError(badRequest("bad_message", "Messages must be JSON objects with a string `type`."));
      return;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg) || typeof (msg as { type?: unknown }).type !== "string") {
      this.sendError(fieldError("bad_message", "Messages must be JSON objects with a string `type`.", "message", "type", { entryMessage: "must be a string" }));
      return;
    }
    const m = msg as ClientMessage;
    // Browsers cannot send protocol pings; an application-level ping lets them probe the link,
    // and estimate their clock offset as SyncPlay does (NTP-style: offset = server_time −
    // (sent + received) / 2), so the client can turn a state's `server_time` into its own clock.
    if (m.type === "ping") {
      const clientTime = typeof m.client_time === "number" && Number.isFinite(m.client_time) ? m.client_time : undefined;
      this.send({ type: "pong", server_time: Date.now(), ...(clientTime !== undefined ? { client_time: clientTime } : {}) });
      return;
    }
    if (this.handler) this.dispatch(m);
    else if (this.pending.length < 32) this.pending.push(m);
    else this.close(WsClose.policyViolation, "too many messages before the session was ready");
  }

  private dispatch(msg: ClientMessage): void {
    const handler = this.handler;
    if (!handler) return;
    this.chain = this.chain
      .then(async () => {
        if (!this.ended) await handler(msg);
      })
      .catch((err: unknown) => {
        if (err instanceof AppError && err.status < 500) this.sendError(err);
        else this.fail(err);
      });
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.pinger);
    for (const fn of this.closers.splice(0)) {
      void Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.log.warn({ err }, "websocket cleanup failed"));
    }
  }
}
