/**
 * Prometheus metrics (prom-client). Every process, and every app a test builds, has its own
 * `Registry`: prom-client's global default registry would make the second app of a test process
 * fail with "a metric with the name … has already been registered", and would mix two apps'
 * numbers. Nothing here registers globally.
 *
 * `ApiMetrics` is what an API process reports (HTTP, media bytes, uploads, conversions as the API
 * applies them, the queue, WebSockets); `JobMetrics` what a worker reports about the jobs it runs
 * (in `npm start` both live in the API's registry; `npm run start:worker` serves its own, see
 * `serveMetrics`). Default metrics (event-loop lag, memory, CPU, GC, handles) come with every
 * registry.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { TranscodeResult } from "../contracts/transcode.messages.js";
import type { JobHandler, JobHandlers, JobState } from "../platform/queue/queue.js";
import type { JobName } from "../platform/queue/jobs.js";

/** A registry with the default process metrics (event-loop lag, heap and RSS, CPU, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** HTTP latencies: from a fast JSON answer to a long media transfer (seconds). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Encodes and conversions: seconds to hours. */
const LONG_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600];

const JOB_STATES: readonly JobState[] = ["waiting", "active", "completed", "failed"];

export class ApiMetrics {
  readonly httpDuration: Histogram<"method" | "route" | "status">;
  readonly mediaBytes: Counter<"route">;
  readonly mediaOffloaded: Counter<"route">;
  readonly uploadBytes: Counter;
  readonly uploadsCompleted: Counter;
  readonly transcodeSeconds: Histogram<"rung">;
  readonly timeToPlayable: Histogram;
  readonly conversions: Counter<"outcome">;
  readonly wsConnections: Gauge<"route">;
  readonly wsMessages: Counter<"route" | "direction">;

  /** `queueCounts`: the queue port's `counts()`, read at every scrape (depth and jobs by state). */
  constructor(
    readonly registry: Registry,
    queueCounts: () => Promise<Record<JobState, number>>,
  ) {
    const registers = [registry];
    this.httpDuration = new Histogram({
      name: "vidflux_http_request_duration_seconds",
      help: "HTTP requests by route pattern (not the raw URL) and status, until the response ended",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.mediaBytes = new Counter({ name: "vidflux_media_bytes_served_total", help: "Bytes of media responses (video, audio, playlists, segments, images, subtitles) sent, by route", labelNames: ["route"], registers });
    // Offloaded answers (MEDIA_OFFLOAD=nginx) carry no body: nginx sends their bytes, so they are
    // counted apart from the bytes Node sent; nginx's own log or metrics have their sizes.
    this.mediaOffloaded = new Counter({
      name: "vidflux_media_offloaded_responses_total",
      help: "Media answers handed to nginx (MEDIA_OFFLOAD=nginx: X-Accel-Redirect, empty body), by route; their bytes are not in vidflux_media_bytes_served_total",
      labelNames: ["route"],
      registers,
    });
    this.uploadBytes = new Counter({ name: "vidflux_upload_bytes_received_total", help: "Upload bytes received and kept (tus PATCHes and simple uploads)", registers });
    this.uploadsCompleted = new Counter({ name: "vidflux_uploads_completed_total", help: "Uploads whose last byte arrived (they go on to validation)", registers });
    this.transcodeSeconds = new Histogram({
      name: "vidflux_transcode_seconds",
      help: "Encode seconds by rung of the conversions this API applied (single mode: one run encodes every rung)",
      labelNames: ["rung"],
      buckets: LONG_BUCKETS,
      registers,
    });
    this.timeToPlayable = new Histogram({
      name: "vidflux_time_to_playable_seconds",
      help: "From the conversion's enqueue (upload validated, or reprocess) to the first playable HLS; observed by the API process that enqueued it",
      buckets: LONG_BUCKETS,
      registers,
    });
    this.conversions = new Counter({ name: "vidflux_conversions_total", help: "Conversions ended, as applied by this API (ready or failed)", labelNames: ["outcome"], registers });
    this.wsConnections = new Gauge({ name: "vidflux_websocket_connections", help: "Open WebSocket connections by route", labelNames: ["route"], registers });
    this.wsMessages = new Counter({ name: "vidflux_websocket_messages_total", help: "WebSocket messages by route and direction (in: from clients, out: to clients)", labelNames: ["route", "direction"], registers });
    new Gauge({
      name: "vidflux_queue_jobs",
      help: "Jobs in the conversion queue by state (waiting is the queue depth), as the queue keeps them",
      labelNames: ["state"],
      registers,
      // Read at scrape time, from the queue itself: every API process reports the shared queue.
      async collect() {
        const counts = await queueCounts();
        for (const s of JOB_STATES) this.set({ state: s }, counts[s]);
      },
    });
  }

  /** A conversion's result as applied: its encode seconds by rung. */
  observeTranscode(result: TranscodeResult): void {
    for (const [rung, s] of Object.entries(result.encodeSeconds ?? {})) this.transcodeSeconds.observe({ rung }, s);
  }
}

/** Jobs processed and failed by the workers of this process, and their encode seconds. */
export class JobMetrics {
  readonly processed: Counter<"job">;
  readonly failed: Counter<"job" | "code">;
  readonly duration: Histogram<"job" | "outcome">;
  readonly transcodeSeconds: Histogram<"rung">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.processed = new Counter({ name: "vidflux_worker_jobs_processed_total", help: "Job attempts this process's workers completed", labelNames: ["job"], registers });
    this.failed = new Counter({ name: "vidflux_worker_jobs_failed_total", help: "Job attempts this process's workers failed, by failure code (retries count once each)", labelNames: ["job", "code"], registers });
    this.duration = new Histogram({ name: "vidflux_worker_job_seconds", help: "Wall-clock seconds of job attempts by outcome", labelNames: ["job", "outcome"], buckets: LONG_BUCKETS, registers });
    this.transcodeSeconds = new Histogram({ name: "vidflux_worker_transcode_seconds", help: "Encode seconds by rung of the conversions this process ran", labelNames: ["rung"], buckets: LONG_BUCKETS, registers });
  }

  /** The same handlers, counted: each attempt's outcome, duration and (conversions) encode seconds. */
  instrument(handlers: JobHandlers): JobHandlers {
    const out = {} as Record<JobName, JobHandler<JobName>>;
    for (const [name, handler] of Object.entries(handlers) as [JobName, JobHandler<JobName>][]) {
      out[name] = async (payload, ctx) => {
        const started = performance.now();
        try {
          const result = await handler(payload, ctx);
          this.processed.inc({ job: name });
          this.duration.observe({ job: name, outcome: "completed" }, (performance.now() - started) / 1000);
          for (const [rung, s] of Object.entries(result.encodeSeconds ?? {})) this.transcodeSeconds.observe({ rung }, s);
          return result;
        } catch (err) {
          const code = typeof (err as { code?: unknown } | null)?.code === "string" ? (err as { code: string }).code : "job_failed";
          this.failed.inc({ job: name, code });
          this.duration.observe({ job: name, outcome: "failed" }, (performance.now() - started) / 1000);
          throw err;
        }
      };
    }
    return out as JobHandlers;
  }
}

/** Compares a presented bearer token with the configured one in constant time (both hashed: equal lengths). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/**
 * The worker's metrics endpoint: a bare node:http server answering `GET /metrics` (and 404 for
 * anything else), with the same optional bearer token as the API's. A worker has no Fastify app,
 * and a scrape must not need one.
 */
export async function serveMetrics(registry: Registry, opts: { port: number; host: string; token?: string | undefined }): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify({ error: { code, message, details: null } }));
    };
    if (path !== "/metrics" && path !== "/metrics/") return answer(404, "not_found", "Not found.");
    if (req.method !== "GET" && req.method !== "HEAD") return answer(405, "method_not_allowed", `Method "${req.method}" not allowed.`, { allow: "GET, HEAD" });
    if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
      return answer(401, "not_authenticated", "The metrics need the bearer token METRICS_TOKEN.", { "www-authenticate": 'Bearer realm="metrics"' });
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      () => answer(500, "internal_error", "A server error occurred."),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
