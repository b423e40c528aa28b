/**
 * The API's metrics, collected where every request passes (the app's hooks) rather than in each
 * route: request durations by route pattern and status, bytes of media responses, and the
 * WebSocket routes' connections and messages (their `wsHandler` is wrapped as each such route is
 * declared). `metricsRoutes` serves them at `GET /metrics`, behind METRICS_TOKEN when it is set.
 *
 * Registered before @fastify/websocket and before any route: its `onRoute` hook must see a
 * WebSocket route's `wsHandler` before @fastify/websocket takes it over.
 */
import fp from "fastify-plugin";
import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { WebSocket } from "ws";
import { AppError } from "./errors.js";
import { bearerMatches, type ApiMetrics } from "./metrics.js";
import { errors } from "./schemas.js";
import type { App } from "./app.types.js";

/** Set by the streaming domain's offload (src/apps/streaming/offload.ts) on answers nginx completes. */
const OFFLOAD_HEADER = "x-accel-redirect";

export interface MetricsPluginOptions {
  metrics: ApiMetrics;
  /** METRICS_TOKEN: when set, `/metrics` answers 401 without `Authorization: Bearer <token>` */
  token: string | undefined;
}

/** Media types whose bytes count as media served (video, audio, HLS, images, subtitles). */
const MEDIA_TYPE = /^(video\/|audio\/|image\/|text\/vtt|application\/(vnd\.apple\.mpegurl|x-mpegurl|dash\+xml|mp4|octet-stream))/i;

/** The route pattern, never the raw URL: ids and queries would make a series per video. */
const routeOf = (req: FastifyRequest): string => (req.is404 || req.routeOptions.url === undefined ? "unmatched" : req.routeOptions.url);

/**
 * What a response's body carried, counted as it is written: media routes answer on the raw
 * response (hijacked, `writeHead` with the headers), so neither Fastify's reply nor
 * `getHeader` knows their type or length, and a transfer the client dropped sent less than its
 * Content-Length. Counts the bytes handed to the socket, body only.
 */
interface BodyMeter {
  bytes: number;
  type: string | undefined;
}

const chunkBytes = (chunk: unknown): number =>
  typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0;

function meterBody(res: ServerResponse): BodyMeter {
  const meter: BodyMeter = { bytes: 0, type: undefined };
  const { write, end, writeHead } = res;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const headers = args.find((a, i) => i > 0 && typeof a === "object" && a !== null && !Array.isArray(a)) as Record<string, unknown> | undefined;
    const type = headers?.["content-type"] ?? headers?.["Content-Type"];
    if (typeof type === "string") meter.type = type;
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse["writeHead"];
  // some `end`s write their chunk through `write` (light-my-request's does): counted once
  let ending = false;
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    if (!ending) meter.bytes += chunkBytes(args[0]);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as ServerResponse["write"];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (typeof args[0] !== "function") meter.bytes += chunkBytes(args[0]);
    ending = true;
    try {
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } finally {
      ending = false;
    }
  } as ServerResponse["end"];
  return meter;
}

function mediaBytesOf(req: FastifyRequest, reply: FastifyReply, meter: BodyMeter | undefined): number {
  if (!meter || req.method === "HEAD") return 0;
  const type = meter.type ?? String(reply.raw.getHeader("content-type") ?? reply.getHeader("content-type") ?? "");
  return MEDIA_TYPE.test(type) ? meter.bytes : 0;
}

const bodyMeters = new WeakMap<FastifyRequest, BodyMeter>();

/** Counts a WebSocket route's connections and messages, then runs its handler. */
function countedWsHandler(route: string, metrics: ApiMetrics, handler: NonNullable<RouteOptions["wsHandler"]>): NonNullable<RouteOptions["wsHandler"]> {
  return function (this: unknown, socket: WebSocket, req: FastifyRequest) {
    metrics.wsConnections.inc({ route });
    socket.once("close", () => metrics.wsConnections.dec({ route }));
    socket.on("message", () => metrics.wsMessages.inc({ route, direction: "in" }));
    // Every frame the server sends goes through this socket's send(): counting there covers
    // each route's own sending code without it knowing about metrics.
    const send = socket.send.bind(socket) as (...args: unknown[]) => void;
    (socket as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
      metrics.wsMessages.inc({ route, direction: "out" });
      send(...args);
    };
    return handler.call(this as never, socket, req);
  } as NonNullable<RouteOptions["wsHandler"]>;
}

export const metricsPlugin = fp<Pick<MetricsPluginOptions, "metrics">>(
  async (fastify, opts) => {
    const app = fastify as unknown as App;
    const { metrics } = opts;

    app.addHook("onRoute", (route) => {
      if (route.wsHandler) route.wsHandler = countedWsHandler(route.url, metrics, route.wsHandler);
    });
    app.addHook("onRequest", async (req, reply) => {
      bodyMeters.set(req, meterBody(reply.raw));
    });
    app.addHook("onResponse", async (req, reply) => {
      const route = routeOf(req);
      metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      // An offloaded answer's body is empty (its bytes are nginx's): counted as one response.
      if (reply.getHeader(OFFLOAD_HEADER) !== undefined) {
        metrics.mediaOffloaded.inc({ route });
        return;
      }
      const bytes = mediaBytesOf(req, reply, bodyMeters.get(req));
      if (bytes > 0) metrics.mediaBytes.inc({ route }, bytes);
    });
  },
  { name: "vidflux-metrics" },
);

/** `GET /metrics`; registered with the other routes, after the OpenAPI plugin, so the document lists it. */
export async function metricsRoutes(app: App, opts: MetricsPluginOptions): Promise<void> {
  const { metrics, token } = opts;
  app.get(
    "/metrics",
    {
      config: { rateLimit: false, auth: { ownCredentials: true } },
      schema: {
        tags: ["health"],
        summary: "Prometheus metrics",
        description:
          "The Prometheus text format (prom-client): request durations by route and status, media bytes served, upload bytes, conversions, the queue, " +
          "WebSockets, event-loop lag and memory. With METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`.",
        security: [{ bearer: [] }],
        response: {
          200: {
            description: "The metrics in the Prometheus text format (`text/plain; version=0.0.4`)",
            content: {
              "text/plain": {
                schema: {
                  type: "string",
                  examples: ['# HELP vidflux_http_request_duration_seconds HTTP requests by route pattern…\n# TYPE vidflux_http_request_duration_seconds histogram\nvidflux_http_request_duration_seconds_count{method="GET",route="/api/videos/:id/",status="200"} 42\n'],
                },
              },
            },
          },
          ...errors([401, "METRICS_TOKEN is set and the request does not carry it (`not_authenticated`)"]),
        },
      },
    },
    async (req, reply) => {
      if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
        throw new AppError(401, "not_authenticated", "The metrics need the bearer token METRICS_TOKEN.", null, { "www-authenticate": 'Bearer realm="metrics"' });
      }
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
