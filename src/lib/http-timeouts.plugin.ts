/**
 * How long a client may take to send a request, and a shutdown that does not wait for clients
 * that send nothing.
 *
 * Node bounds the headers itself (`headersTimeout`, HTTP_HEADERS_TIMEOUT, set on the server by
 * app.ts together with a short `connectionsCheckingInterval`: Node only looks every 30 s by
 * default, which is how 800 trickling connections sat for ~90 s). Its `requestTimeout` is one
 * value per server, though, and the bodies we take differ by orders of magnitude: a JSON body is
 * at most 1 MB, a tus PATCH may carry 10 GB over hours. So Node's requestTimeout is off and this
 * plugin bounds bodies per route:
 *
 * - every body: it must have arrived `bodyTimeoutMs` (HTTP_BODY_TIMEOUT) after the headers;
 * - routes that declare `config: { longBody: true }` (the uploads): no total, but no more than
 *   `uploadIdleTimeoutMs` (HTTP_UPLOAD_IDLE_TIMEOUT) without a byte; the tus handler keeps what
 *   arrived, as for any broken-off PATCH.
 *
 * Over the limit, a client that has no answer yet gets `408 request_timeout` (the body Node's
 * own timeouts answer through app.ts's clientErrorHandler) and the connection is closed.
 *
 * On close, the HTTP server stops accepting, and Node closes keep-alive connections that sit
 * between requests; but a connection that sent half its headers (or is still sending a body) is
 * "active" to Node, whose timeout checks stop with the server: app.close() waited for it forever.
 * So at close a connection is destroyed at once when it has no request, or its request has not
 * fully arrived (no handler can finish it without the client; an upload keeps what arrived, as
 * for any broken-off PATCH), and otherwise as soon as its response ends. Upgraded WebSockets are
 * left to their own close handshake.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyContextConfig {
    /** the body may legitimately take long (uploads): bounded by idle time, not in total */
    longBody?: boolean;
  }
}

export interface HttpTimeoutsOptions {
  bodyTimeoutMs: number;
  uploadIdleTimeoutMs: number;
}

const TIMEOUT_BODY = JSON.stringify({ error: { code: "request_timeout", message: "The request took too long to arrive.", details: null } });
const TIMEOUT_RESPONSE =
  "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n" +
  `Content-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\nConnection: close\r\n\r\n${TIMEOUT_BODY}`;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Ends a request whose body is late: 408 if nothing was answered yet, then the connection goes. */
function cutOff(req: FastifyRequest, res: ServerResponse, reason: string): void {
  const socket = req.raw.socket;
  if (socket.destroyed) return;
  req.log.info({ reason }, "request body timed out; connection closed");
  if (res.headersSent) {
    socket.destroy();
    return;
  }
  // Written to the socket as Node's own request timeout does: the response object is still
  // the handler's (its body parser is waiting), and the connection ends right after.
  socket.end(TIMEOUT_RESPONSE, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

interface Tracked {
  /** requests whose response is in progress on the connection */
  active: Set<IncomingMessage>;
  upgraded: boolean;
}

/** Nothing a handler could still finish: no request, or one whose body is still on its way. */
const abandonable = (t: Tracked) => !t.upgraded && [...t.active].every((req) => !req.complete);

export const httpTimeoutsPlugin = fp(
  async (app: FastifyInstance, opts: HttpTimeoutsOptions) => {
    app.addHook("onRequest", (req, reply, done) => {
      const raw = req.raw;
      // app.inject() has no socket to time out (light-my-request's mock).
      if (!(raw.socket instanceof Socket) || raw.complete || !hasBody(raw)) return done();
      if (req.routeOptions.config?.longBody) {
        const onIdle = () => cutOff(req, reply.raw, "upload_idle");
        // IncomingMessage#setTimeout is the socket's inactivity timer; its 'timeout' reaches the
        // request only while the request is incomplete, so it ends with the body.
        raw.setTimeout(opts.uploadIdleTimeoutMs, onIdle);
        raw.once("end", () => {
          raw.removeListener("timeout", onIdle);
          raw.socket?.setTimeout(0);
        });
      } else {
        const timer = setTimeout(() => cutOff(req, reply.raw, "body_timeout"), opts.bodyTimeoutMs);
        const clear = () => clearTimeout(timer);
        raw.once("end", clear);
        raw.once("close", clear);
      }
      done();
    });

    const server = app.server;
    const sockets = new Map<Socket, Tracked>();
    let closing = false;
    const onConnection = (socket: Socket) => {
      sockets.set(socket, { active: new Set(), upgraded: false });
      socket.once("close", () => sockets.delete(socket));
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const t = sockets.get(req.socket);
      if (!t) return;
      t.active.add(req);
      res.once("close", () => {
        t.active.delete(req);
        if (closing && t.active.size === 0 && !t.upgraded) req.socket.destroy();
      });
    };
    const onUpgrade = (req: IncomingMessage) => {
      const t = sockets.get(req.socket);
      if (t) t.upgraded = true;
    };
    server.on("connection", onConnection);
    server.on("request", onRequest);
    server.on("upgrade", onUpgrade);

    app.addHook("preClose", async () => {
      closing = true;
      // With no listener left, Node refuses upgrades that still arrive (the WebSocket plugin
      // removes its own in its preClose).
      server.removeListener("upgrade", onUpgrade);
      for (const [socket, t] of sockets) if (abandonable(t)) socket.destroy();
    });
  },
  { name: "vidflux-http-timeouts" },
);
