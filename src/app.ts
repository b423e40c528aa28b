/**
 * Builds the Fastify app from an AppContext (see context.ts). The app is a plain function of its
 * context: tests build it with their own context and use `app.inject()`; `server.ts` only starts
 * it. Cross-cutting concerns live here: error format, 404/405, trailing slashes, CORS, helmet,
 * rate limits, OpenAPI, health, metrics, request ids, auth guard. The domains and their routes come from the
 * composition root (composition.ts).
 */
import type { Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import FindMyWay from "find-my-way";
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import cookie from "@fastify/cookie";
import websocket from "@fastify/websocket";
import { AppError, schemaProblems, type InputLocation, type SchemaViolation } from "./lib/errors.js";
import { ErrorResponse } from "./lib/schemas.js";
import { SECURITY_SCHEMES, TAGS, declareCommonStatuses, referToNamedSchemas, refResolver, undeclaredStatus, type UndeclaredStatus } from "./lib/openapi.js";
import { authPlugin } from "./apps/users/index.js";
import { httpTimeoutsPlugin } from "./lib/http-timeouts.plugin.js";
import { publicUrlPlugin } from "./lib/public-url.plugin.js";
import { redactUrl as redactLoggedUrl } from "./lib/log-redaction.js";
import { healthRoutes } from "./lib/health.routes.js";
import { closeWebSockets, drainPlugin } from "./lib/drain.plugin.js";
import { metricsPlugin, metricsRoutes } from "./lib/metrics.plugin.js";
import { logDestination, REQUEST_ID_HEADER, requestContext, requestIdGenerator } from "./lib/request-log.js";
import type { AppContext } from "./context.js";
import { registerDomainRoutes, type Domains } from "./composition.js";
import type { App } from "./lib/app.types.js";

export type { App } from "./lib/app.types.js";

/** Credential-like query values (`token`, `access_token`, `%74oken`…) never reach the logs: see lib/log-redaction.ts. */
export { redactUrl } from "./lib/log-redaction.js";

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Headers browsers may read cross-origin: tus needs its own, Range streaming Content-Range. */
export const EXPOSED_HEADERS = [
  "Location",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Expires",
  "Upload-Defer-Length",
  "Upload-Concat",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  "Tus-Checksum-Algorithm",
  "Video-Id",
  "Content-Range",
  "Content-Length",
  "Accept-Ranges",
  "ETag",
  "Retry-After",
  "X-Request-Id",
];

export interface BuildOptions {
  /**
   * Called for every response whose status its route's schema does not list (the test harness
   * fails the test file with it, so the OpenAPI document cannot drift from what routes answer).
   */
  onUndeclaredStatus?: (v: UndeclaredStatus) => void;
  /** where the request log goes (default: stdout); tests read it */
  logStream?: { write(line: string): void };
}

/** `d` are the composition root's domains (composeDomains), built by the caller. */
export async function buildApp(ctx: AppContext, d: Domains, opts: BuildOptions = {}): Promise<App> {
  const { config } = ctx;
  const logStream = opts.logStream ?? logDestination(config);
  const app = Fastify({
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    bodyLimit: 1024 * 1024,
    trustProxy: config.trustProxy,
    // Deliberate connection limits (lib/http-timeouts.plugin.ts has the why): headers within
    // HTTP_HEADERS_TIMEOUT, checked often enough to matter; idle keep-alive connections closed
    // after HTTP_KEEPALIVE_TIMEOUT; bodies bounded per route by the plugin, so Node's one
    // per-server requestTimeout (which would cut long uploads) is off.
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestTimeout: 0,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.http.headersTimeoutMs / 4))),
    },
    logger: {
      // JSON lines, or pino-pretty at a terminal in development (lib/request-log.ts)
      ...(logStream ? { stream: logStream } : {}),
      level: config.logLevel,
      redact: ["req.headers.authorization", "req.headers.cookie"],
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: redactLoggedUrl(req.url), ip: req.ip }),
      },
    },
    // strictTypes off: multipart routes document their body for OpenAPI with a type-less schema
    // (so Ajv lets the unparsed stream through); Ajv would log a warning for each at start-up.
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false, strictTypes: false } },
    // X-Request-Id from a trusted proxy when sane, else a new UUID (lib/request-log.ts)
    requestIdHeader: false,
    genReqId: requestIdGenerator(config.trustProxy),
    clientErrorHandler: answerClientError,
    // A request still arriving on a busy connection while the app closes is served, not answered
    // with Fastify's own 503 body (lib/drain.plugin.ts has the why).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>() as App;

  // The error body every route refers to (`#/components/schemas/ErrorResponse`), and the statuses
  // the layers in front of a handler answer, added to every route as it is declared.
  app.addSchema(ErrorResponse);
  app.addHook("onRoute", declareCommonStatuses);
  const onUndeclared = opts.onUndeclaredStatus;
  if (onUndeclared) {
    app.addHook("onResponse", async (req, reply) => {
      const v = undeclaredStatus(req, reply);
      if (v) onUndeclared(v);
    });
  }

  // A shadow router that knows every method of every path, so an unknown method on a known path
  // answers 405 with Allow (RFC 9110 §15.5.6) instead of Fastify's 404.
  const shadow = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 200 });
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      if ((HTTP_METHODS as readonly string[]).includes(m) && !shadow.find(m as "GET", route.url)) {
        shadow.on(m as "GET", route.url, () => undefined);
      }
    }
  });

  // Every answer names its request, so a client's report finds the server's log lines. The id
  // also rides along the handling (onRequest, and again after the body was read, whose stream
  // events run outside the request's async context) for the process logger's lines.
  app.addHook("onRequest", (req, reply, done) => {
    reply.header(REQUEST_ID_HEADER, req.id);
    requestContext.run({ reqId: req.id }, done);
  });
  app.addHook("preValidation", (req, _reply, done) => {
    requestContext.run({ reqId: req.id }, done);
  });
  // Before any route and before @fastify/websocket: it wraps WebSocket routes as they are declared.
  await app.register(metricsPlugin, { metrics: ctx.metrics });
  await app.register(drainPlugin);

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err }, "request failed");
    else req.log.debug({ err: err.message, code: body.error.code }, "request refused");
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0]!;
    // OPTIONS is answered for every path (CORS preflight), so it does not make a path "known".
    const allowed = HTTP_METHODS.filter((m) => m !== "OPTIONS" && shadow.find(m, path));
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header("allow", allowed.join(", "))
        .send({ error: { code: "method_not_allowed", message: `Method "${req.method}" not allowed.`, details: { allow: allowed } } });
    }
    return reply.status(404).send({ error: { code: "not_found", message: "Not found.", details: null } });
  });

  await app.register(httpTimeoutsPlugin, { bodyTimeoutMs: config.http.bodyTimeoutMs, uploadIdleTimeoutMs: config.http.uploadIdleTimeoutMs });
  await app.register(publicUrlPlugin, { publicUrl: config.publicUrl, trustedHosts: config.trustedHosts });
  await app.register(cookie);
  await app.register(helmet, {
    // hls.js plays through MediaSource blob: URLs; swagger-ui and the page need inline styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:"],
        // Everything is served locally: no external font (helmet's default allows any https: one).
        fontSrc: ["'self'", "data:"],
        // data: too: hls.js gives each subtitle <track> it creates `src="data:,WEBVTT"` (an empty
        // track that keeps Chrome's captions menu and Safari's cues sane), which media-src governs.
        mediaSrc: ["'self'", "blob:", "data:"],
        workerSrc: ["'self'", "blob:"],
        connectSrc: ["'self'", "ws:", "wss:"],
        // Only the embeddable player may be framed (web.routes.ts sets its own frame-ancestors).
        frameAncestors: ["'none'"],
        // Helmet's default sends upgrade-insecure-requests: over plain HTTP under a name other
        // than localhost the browser then asks https:// for every script and API call and the
        // page never loads. Only when the site is served over HTTPS (HTTPS_ONLY).
        upgradeInsecureRequests: config.httpsOnly ? [] : null,
      },
    },
    // HSTS over plain HTTP is ignored by browsers at best; sent only with HTTPS_ONLY (RFC 6797 §7.2).
    strictTransportSecurity: config.httpsOnly ? { maxAge: 15552000, includeSubDomains: true } : false,
    // Media is fetched by players on other origins listed in CORS_ORIGINS.
    crossOriginResourcePolicy: { policy: "cross-origin" },
    // Browsers ignore COOP on an origin that is not potentially trustworthy (plain HTTP under a
    // LAN name) and log a console error for it on every page: only over HTTPS.
    crossOriginOpenerPolicy: config.httpsOnly,
    crossOriginEmbedderPolicy: false,
  });
  const origins = new Set(config.cors.origins);
  const originAllowed = (origin: string | undefined) => !origin || origins.has("*") || origins.has(origin);
  // @fastify/cors lets a preflight from an unlisted origin fall through to the OPTIONS catch-all
  // (a 404 or 405 that says nothing about CORS) and answers a malformed one in text/plain: say
  // what happened, in the error format. Before the cors hook, which would answer first.
  app.addHook("onRequest", async (req) => {
    if (req.method !== "OPTIONS") return;
    const origin = req.headers.origin;
    const requested = req.headers["access-control-request-method"];
    if (origin !== undefined && requested !== undefined && !originAllowed(origin)) {
      throw new AppError(403, "cors_origin_denied", `Origin ${origin} may not call this API (CORS_ORIGINS).`, { origin });
    }
    const routeCors = req.routeOptions.config?.cors;
    const strict = routeCors === undefined || (routeCors !== false && routeCors.strictPreflight !== false);
    if (strict && (origin === undefined || requested === undefined)) {
      throw new AppError(400, "invalid_preflight", "A CORS preflight needs the Origin and Access-Control-Request-Method headers.");
    }
  });
  await app.register(cors, {
    origin: (origin, cb) => cb(null, originAllowed(origin)),
    credentials: true,
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowedHeaders: [
      "Authorization",
      "Content-Type",
      "X-CSRF-Token",
      "Range",
      "If-Range",
      "If-None-Match",
      "If-Modified-Since",
      "Last-Event-ID",
      "Tus-Resumable",
      "Upload-Length",
      "Upload-Offset",
      "Upload-Metadata",
      "Upload-Checksum",
      "Upload-Concat",
      "Upload-Defer-Length",
      "X-HTTP-Method-Override",
      "X-Requested-With",
    ],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  if (config.rateLimit.enabled) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowS * 1000,
      ...(ctx.redis ? { redis: ctx.redis, nameSpace: `${config.redisPrefix}:rl:` } : {}),
      keyGenerator: (req) => req.ip,
      errorResponseBuilder: (_req, c) =>
        new AppError(429, "throttled", `Request was throttled. Expected available in ${Math.ceil(c.ttl / 1000)} seconds.`, {
          retry_after_s: Math.ceil(c.ttl / 1000),
        }),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "vidflux API",
        version: "0.1.0",
        description:
          "Video upload, conversion and streaming. JSON is snake_case; every error is `{\"error\": {\"code\", \"message\", \"details\"}}` " +
          "(ErrorResponse lists the forms of `details` by code); lists take `?limit=` and `?cursor=` and answer `{results, next, previous}`. " +
          "A typed client: `npm run api:types` writes `src/apps/web/api.types.ts` (openapi-typescript) from this document.",
      },
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: TAGS,
    },
    refResolver,
    transform: referToNamedSchemas,
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs", staticCSP: true });

  // Once for the whole app; routes opt in with `{ websocket: true }`. Client frames are small
  // control messages, so a tight payload cap keeps a client from making the server buffer much.
  // At close every client gets 1001 "going away" (the plugin's default sends no code: 1005).
  await app.register(websocket, { options: { maxPayload: 64 * 1024 }, preClose: closeWebSockets });
  await app.register(authPlugin, { db: ctx.db, tokens: d.users.tokens });

  app.get(
    "/api/schema/",
    { schema: { hide: true } },
    async () => app.swagger(),
  );

  await healthRoutes(app, { db: ctx.db, dbKind: config.db.kind, redis: ctx.redis, storage: ctx.storage, draining: app.drainSignal });
  await metricsRoutes(app, { metrics: ctx.metrics, token: config.metricsToken });

  await registerDomainRoutes(app, ctx, d);
  return app;
}

interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

/** Maps any thrown error to the API's error format. 5xx never carry internals. */
export function toErrorResponse(err: FastifyError | AppError): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof AppError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, details: err.details } }, headers: err.headers };
  }
  const fe = err as FastifyError & { validation?: SchemaViolation[]; validationContext?: InputLocation };
  if (fe.validation) {
    const details = schemaProblems(fe.validation, fe.validationContext ?? "body");
    return { status: 400, body: { error: { code: "validation_error", message: "Invalid input.", details } }, headers: {} };
  }
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { error: { code: "payload_too_large", message: "Request body is too large.", details: null } }, headers: {} };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, body: { error: { code: "unsupported_media_type", message: "Unsupported media type.", details: contentTypeProblem("not a type this route reads") } }, headers: {} };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { status: 400, body: { error: { code: "invalid_content_length", message: "Content-Length does not match the body.", details: null } }, headers: {} };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { error: { code: "invalid_json", message: "The JSON body is empty.", details: null } }, headers: {} };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, body: { error: { code: "invalid_json", message: "The body is not valid JSON.", details: null } }, headers: {} };
    case "FST_REQ_FILE_TOO_LARGE":
      return { status: 413, body: { error: { code: "file_too_large", message: "The uploaded file is too large.", details: null } }, headers: {} };
    case "FST_INVALID_MULTIPART_CONTENT_TYPE":
      return { status: 415, body: { error: { code: "unsupported_media_type", message: "The request is not multipart/form-data.", details: contentTypeProblem("must be multipart/form-data") } }, headers: {} };
    default:
      break;
  }
  if (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400) {
    return { status: 400, body: { error: { code: "invalid_json", message: "The body is not valid JSON.", details: null } }, headers: {} };
  }
  const status = typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  if (status >= 500) {
    return { status: 500, body: { error: { code: "internal_error", message: "A server error occurred.", details: null } }, headers: {} };
  }
  return { status, body: { error: { code: (fe.code ?? "bad_request").toLowerCase(), message: fe.message, details: null } }, headers: {} };
}

/** A refused Content-Type is an input error like any other: its entry names the header. */
const contentTypeProblem = (message: string) => [{ location: "headers" as const, field: "content-type", code: "unsupported_media_type", message }];

/**
 * Requests Node's parser refuses before Fastify sees them (an unknown method such as `FOO`, a
 * malformed request line or header) get the error format too, instead of Fastify's own body.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed || !socket.writable) return;
  const [status, code, message] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "request_timeout", "The request took too long to arrive."]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers_too_large", "The request headers are too large."]
        : err.code === "HPE_INVALID_METHOD"
          ? [400, "unknown_method", "The request method is not one HTTP defines."]
          : [400, "bad_request", "The request could not be parsed."];
  const body = JSON.stringify({ error: { code, message, details: null } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 408 ? "Request Timeout" : status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
