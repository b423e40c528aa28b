/**
 * What the app does once it starts closing (SIGTERM: server.ts closes it within SHUTDOWN_TIMEOUT).
 * Fastify stops accepting connections and waits for the requests in flight; the long-lived ones
 * would hold that wait until the bound cuts them (an SSE stream never ends, a long poll waits
 * 25 s), and a cut connection is an error at the client or a 502 at the proxy. So they end now,
 * cleanly, and their clients reconnect through the load balancer to another process:
 *
 * - `app.drainSignal` aborts: SSE streams end (EventSource reconnects with Last-Event-ID), long
 *   polls answer with the state they have, `/api/health/ready/` answers 503 `shutting_down` to
 *   requests still arriving on open connections;
 * - WebSockets get close frame 1001 "going away" (RFC 6455 §7.4.1), which the clients treat as
 *   "reconnect", not as an error (`closeWebSockets`, the WebSocket plugin's preClose).
 *
 * Requests that still arrive on a connection that was busy when the close began are served (with
 * `Connection: close`), not refused: app.ts turns off Fastify's return503OnClosing, whose body
 * is not the API's error format and which a proxy would pass on as an error.
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { WsClose } from "./websocket.js";

declare module "fastify" {
  interface FastifyInstance {
    /** aborted when the app starts closing (SIGTERM): long-lived responses end on it */
    drainSignal: AbortSignal;
  }
}

export const drainPlugin = fp(
  async (app: FastifyInstance) => {
    const drain = new AbortController();
    app.decorate("drainSignal", drain.signal);
    app.addHook("preClose", async () => {
      drain.abort();
    });
  },
  { name: "vidflux-drain" },
);

/**
 * The WebSocket plugin's preClose: a close frame to every client, without waiting for the
 * answers (a client that never answers would hold the close for ws's 30 s closing timeout; the
 * server's close waits for the sockets anyway, and server.ts cuts what is left at the bound).
 */
export function closeWebSockets(this: FastifyInstance, done: () => void): void {
  for (const client of this.websocketServer.clients) client.close(WsClose.goingAway, "server shutting down");
  this.websocketServer.close();
  done();
}

/** At the shutdown bound: the WebSockets that did not complete their closing handshake. */
export function terminateWebSockets(app: FastifyInstance): number {
  let n = 0;
  for (const client of app.websocketServer.clients) {
    client.terminate();
    n++;
  }
  return n;
}
