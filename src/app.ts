/**
 * Builds the Fastify app from an AppContext (see context.ts). The app is a plain function of its
 * context: tests build it with their own context and use `app.inject()`; `server.ts` only starts
 * it. Cross-cutting concerns live here: error format, 404/405, trailing slashes, CORS, helmet,
 * rate limits, OpenAPI, health, auth guard. The domains and their routes come from the
 * composition root (composition.ts).
 */
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
import { sql } from "kysely";
import { Type } from "@sinclair/typebox";
import { AppError } from "./lib/errors.js";
import { ErrorResponse } from "./lib/schemas.js";
import { authPlugin } from "./apps/users/index.js";
import type { AppContext } from "./context.js";
import { registerDomainRoutes, type Domains } from "./composition.js";
import type { App } from "./lib/app.types.js";

export type { App } from "./lib/app.types.js";

/** Hides `?token=` values (playback and EventSource tokens) from access logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access|refresh)=)[^&#]*/gi, "$1[REDACTED]");
}

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
];

/** `d` are the composition root's domains (composeDomains), built by the caller. */
export async function buildApp(ctx: AppContext, d: Domains): Promise<App> {
  const { config } = ctx;
  const app = Fastify({
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    bodyLimit: 1024 * 1024,
    trustProxy: config.trustProxy,
    logger: {
      level: config.logLevel,
      redact: ["req.headers.authorization", "req.headers.cookie"],
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
      },
    },
    // strictTypes off: multipart routes document their body for OpenAPI with a type-less schema
    // (so Ajv lets the unparsed stream through); Ajv would log a warning for each at start-up.
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false, strictTypes: false } },
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<TypeBoxTypeProvider>() as App;

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

  await app.register(cookie);
  await app.register(helmet, {
    // hls.js plays through MediaSource blob: URLs; swagger-ui and the page need inline styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:"],
        // data: too: hls.js gives each subtitle <track> it creates `src="data:,WEBVTT"` (an empty
        // track that keeps Chrome's captions menu and Safari's cues sane), which media-src governs.
        mediaSrc: ["'self'", "blob:", "data:"],
        workerSrc: ["'self'", "blob:"],
        connectSrc: ["'self'", "ws:", "wss:"],
      },
    },
    // Media is fetched by players on other origins listed in CORS_ORIGINS.
    crossOriginResourcePolicy: { policy: "cross-origin" },
    crossOriginEmbedderPolicy: false,
  });
  const origins = new Set(config.cors.origins);
  await app.register(cors, {
    origin: (origin, cb) => cb(null, !origin || origins.has("*") || origins.has(origin)),
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
      info: { title: "vidflux API", version: "0.1.0", description: "Video upload, conversion and streaming." },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs", staticCSP: true });

  // Once for the whole app; routes opt in with `{ websocket: true }`. Client frames are small
  // control messages, so a tight payload cap keeps a client from making the server buffer much.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(authPlugin, { db: ctx.db, tokens: d.users.tokens });

  app.get(
    "/api/schema/",
    { schema: { hide: true } },
    async () => app.swagger(),
  );

  app.get(
    "/api/health/",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["health"],
        summary: "Liveness and database check",
        response: {
          200: Type.Object({ status: Type.Literal("ok"), database: Type.String() }),
          503: ErrorResponse,
        },
      },
    },
    async (_req, reply) => {
      try {
        await sql`select 1`.execute(ctx.db);
      } catch {
        return reply.status(503).send({ error: { code: "database_unavailable", message: "The database is not reachable.", details: null } });
      }
      return { status: "ok" as const, database: config.db.kind };
    },
  );

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
  const fe = err as FastifyError & { validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[]; validationContext?: string };
  if (fe.validation) {
    const details = fe.validation.map((v) => {
      const missing = v.params && typeof v.params.missingProperty === "string" ? `/${v.params.missingProperty}` : "";
      const field = `${v.instancePath ?? ""}${missing}`.replace(/^\//, "").replace(/\//g, ".");
      return { field: field || fe.validationContext || "body", location: fe.validationContext ?? "body", message: v.message ?? "invalid" };
    });
    return { status: 400, body: { error: { code: "validation_error", message: "Invalid input.", details } }, headers: {} };
  }
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { error: { code: "payload_too_large", message: "Request body is too large.", details: null } }, headers: {} };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, body: { error: { code: "unsupported_media_type", message: "Unsupported media type.", details: null } }, headers: {} };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { status: 400, body: { error: { code: "invalid_content_length", message: "Content-Length does not match the body.", details: null } }, headers: {} };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { error: { code: "invalid_json", message: "The JSON body is empty.", details: null } }, headers: {} };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, body: { error: { code: "invalid_json", message: "The body is not valid JSON.", details: null } }, headers: {} };
    case "FST_REQ_FILE_TOO_LARGE":
      return { status: 413, body: { error: { code: "file_too_large", message: "The uploaded file is too large.", details: null } }, headers: {} };
    case "FST_INVALID_MULTIPART_CONTENT_TYPE":
      return { status: 415, body: { error: { code: "unsupported_media_type", message: "The request is not multipart/form-data.", details: null } }, headers: {} };
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
