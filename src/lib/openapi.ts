/**
 * The OpenAPI contract's cross-cutting parts: the document's frame (security schemes, tags that
 * describe the WebSocket and SSE endpoints), the statuses every route can answer because of the
 * layers in front of its handler (validation, the auth guard, body parsing, the rate limit), and
 * the check that a route never answers a status its schema does not list.
 */
import type { FastifyReply, FastifyRequest, FastifySchema, RouteOptions } from "fastify";
import type { TSchema } from "@sinclair/typebox";
import { errorResponse } from "./schemas.js";

/**
 * How a caller proves who it is. `token` in the query is two schemes: an access token where the
 * client cannot send headers (EventSource, WebSocket), and a video's playback token on media URLs.
 */
export const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The access token from login, register or refresh (ACCESS_TOKEN_TTL, 15 min)." },
  accessTokenQuery: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "The access token as `?token=`, for clients that cannot send headers: EventSource (SSE) and the browser's WebSocket.",
  },
  playbackToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "A private video's playback token (`playback_token` of the detail, already in every media URL it gives; PLAYBACK_TOKEN_TTL). Bound to one video.",
  },
  refreshCookie: {
    type: "apiKey",
    in: "cookie",
    name: "vidflux_refresh",
    description: "The refresh token as an httpOnly SameSite=Strict cookie on /api/auth/, set by login/register with `\"cookie\": true`. Only with `csrfHeader`.",
  },
  csrfHeader: {
    type: "apiKey",
    in: "header",
    name: "X-CSRF-Token",
    description: "Double submit: the value of the readable `vidflux_csrf` cookie, required whenever the refresh cookie is used.",
  },
} as const;

export type SecurityRequirement = Partial<Record<keyof typeof SECURITY_SCHEMES, string[]>>;

const WS_CLOSE_CODES =
  "Refusals arrive after the upgrade (a browser cannot read the status of a refused upgrade): an `error` frame " +
  "`{type: \"error\", error: {code, message, details}}` then a close with 4400 (bad input), 4401 (not signed in), 4403 " +
  "(not allowed), 4404 (no such video or room), 4429 (rate limited), 1001 (server restarting).";

/** Tags with the descriptions of what the document cannot show as operations. */
export const TAGS = [
  { name: "health", description: "Liveness." },
  {
    name: "auth",
    description:
      "Accounts and sessions. A session is an access token (bearer, 15 min) and a refresh token; browsers keep the refresh token in the " +
      "`vidflux_refresh` cookie and echo the `vidflux_csrf` cookie in `X-CSRF-Token` (security schemes `refreshCookie` + `csrfHeader`).",
  },
  { name: "users", description: "The signed-in account, avatars, public profiles, admin account management." },
  {
    name: "videos",
    description:
      "The catalogue, a video's detail, edits, subtitles, thumbnails and live conversion events. Live events: SSE at " +
      "`GET /api/videos/{id}/events/`, or the WebSocket `GET /ws/videos/{id}/` (documented as a GET with `Upgrade: websocket`: one " +
      "JSON text frame per event, `?last_seq=N` or a `{\"type\":\"resume\",\"last_seq\":N}` frame replays what followed N, " +
      `\`{"type":"ping"}\` answers \`{"type":"pong"}\`). ${WS_CLOSE_CODES}`,
  },
  {
    name: "uploads",
    description:
      "tus 1.0 (https://tus.io/protocols/resumable-upload) at `/api/videos/upload/`: OPTIONS discovery, POST creation (also with data, " +
      "and concatenation of partial uploads), HEAD offset, PATCH bytes, DELETE termination, `X-HTTP-Method-Override` for clients " +
      "without PATCH/DELETE. Every answer but OPTIONS carries `Tus-Resumable: 1.0.0`. Small files can instead be sent in one " +
      "multipart/form-data POST to the same URL.",
  },
  { name: "streaming", description: "Media bytes (progressive MP4 with HTTP Range, HLS), chapters, segments, views. Private videos take the playback token." },
  { name: "reactions", description: "Likes and dislikes." },
  { name: "comments", description: "Comments, replies, comment likes and pins; the viewers' live channel (SSE `GET /api/videos/{id}/live/`)." },
  { name: "moderation", description: "Reports, the moderators' queue, commenting blocks, hidden commenters." },
  {
    name: "playback",
    description:
      "Live playback control (docs/playback.md): the WebSocket `GET /ws/stream/{video_id}/?token=&device=&room=` (documented as a GET " +
      "with `Upgrade: websocket`; frames: the control messages of `POST /api/stream/{video_id}/control/` one way, `hello`, `state`, " +
      `\`presence\`, \`switch\`, \`comment\`, \`reactions\`, \`error\` the other), its HTTP fallback, watch rooms, continue watching. ${WS_CLOSE_CODES}`,
  },
];

/** Component names are the schemas' `$id`s (`ErrorResponse`, `PlaybackState`…), not `def-0`. */
export const refResolver = {
  buildLocalReference(json: Record<string, unknown>, _baseUri: unknown, _fragment: unknown, i: number): string {
    return typeof json.$id === "string" ? json.$id : `def-${i}`;
  },
};

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

interface RouteSchema {
  hide?: boolean;
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
  security?: SecurityRequirement[];
  response?: Record<string, unknown>;
}
interface RouteAuthConfig {
  right?: string;
  required?: boolean;
  queryToken?: boolean;
}

const methodsOf = (route: Pick<RouteOptions, "method">): string[] => (Array.isArray(route.method) ? route.method : [route.method]);

/**
 * An `onRoute` hook: adds to a documented route's responses the statuses the layers in front of
 * its handler can answer there (unless the route lists them itself, with its own words), and its
 * default security. Listing them here, once, keeps every route's list true without repeating
 * six lines per route:
 * - 400: a route with an input schema validates it; a body may be malformed JSON;
 * - 401: any request with an `Authorization` header is authenticated, so a bad token is refused
 *   on public routes too; routes that need an account refuse anonymous calls;
 * - 403: routes that need a right refuse the roles without it;
 * - 413/415: Fastify parses a body on these methods whatever the route (bodyLimit, content type);
 * - 429: the global per-address limit, unless the route opts out (`config.rateLimit: false`);
 *   listed whatever RATE_LIMIT says, so the document does not depend on the settings.
 */
export function declareCommonStatuses(route: RouteOptions): void {
  const schema = (route.schema ??= {}) as RouteSchema;
  if (schema.hide) return;
  const config = (route.config ?? {}) as { auth?: RouteAuthConfig; rateLimit?: unknown };
  const auth = config.auth;
  const needsAccount = auth !== undefined && (auth.required === true || auth.right !== undefined);
  const methods = methodsOf(route);
  const takesBody = methods.some((m) => BODY_METHODS.has(m));
  const response = (schema.response ??= {});
  const add = (status: number, description: string) => {
    if (!(String(status) in response)) response[String(status)] = errorResponse(description);
  };
  if (takesBody || schema.body || schema.querystring || schema.params || schema.headers) {
    add(400, "Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json`");
  }
  add(
    401,
    needsAccount
      ? "Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`)"
      : "A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous",
  );
  if (auth?.right !== undefined) add(403, "The caller's role lacks the right (`permission_denied`)");
  if (takesBody) {
    add(413, "The body is larger than the route accepts (`payload_too_large`)");
    add(415, "The body's Content-Type is not one the route reads (`unsupported_media_type`)");
  }
  if (config.rateLimit !== false) add(429, "Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`)");
  if (schema.security === undefined) {
    const bearer: SecurityRequirement[] = [{ bearer: [] }, ...(auth?.queryToken ? [{ accessTokenQuery: [] }] : [])];
    schema.security = needsAccount ? bearer : [{}, ...bearer];
  }
}

/** Whether a response schema map lists a status (`"404"`, `"4xx"` or `default`). */
export function declaresStatus(response: Readonly<Record<string, unknown>> | undefined, status: number): boolean {
  if (!response) return false;
  const family = `${Math.floor(status / 100)}`;
  return [String(status), `${family}xx`, `${family}XX`, "default"].some((k) => Object.hasOwn(response, k));
}

export interface UndeclaredStatus {
  method: string;
  url: string;
  status: number;
}

/**
 * What a response says that its route's schema does not: the check the test harness runs on
 * every response (`onResponse`, so hijacked media and SSE answers count too). Not for unmatched
 * URLs (the 404/405 handler), hidden routes (not in the document), WebSocket upgrades, or 500
 * (`internal_error` is possible anywhere and is a bug, not a contract).
 */
export function undeclaredStatus(req: FastifyRequest, reply: FastifyReply): UndeclaredStatus | null {
  if (req.is404 || req.routeOptions.url === undefined) return null;
  const schema = req.routeOptions.schema as RouteSchema | undefined;
  if (schema?.hide) return null;
  if (req.headers.upgrade?.toLowerCase() === "websocket") return null;
  const status = reply.statusCode;
  if (status === 500) return null;
  if (declaresStatus(schema?.response, status)) return null;
  return { method: req.method, url: req.routeOptions.url, status };
}

/**
 * Route config that puts inputs a route reads itself into the document without Fastify
 * validating them: tus headers (tus-headers.ts checks them with the statuses the protocol wants,
 * 412, 415…, not a 400 `validation_error`), and a WebSocket's query and path (checked after the
 * upgrade, since a browser cannot read a refused upgrade's status), and bodies the handlers
 * stream themselves (tus bytes).
 */
export function documentedOnly(parts: { headers?: TSchema; querystring?: TSchema; params?: TSchema; body?: unknown }) {
  return {
    swaggerTransform: ({ schema, url }: { schema: FastifySchema; url: string }) => referToNamedSchemas({ schema: { ...schema, ...parts } as FastifySchema, url }),
  };
}

/** `{ description, headers?, allOf: [named] }`: the answer's own words around a reference. */
function wrapNamed(s: unknown): unknown {
  if (typeof s !== "object" || s === null || typeof (s as { $id?: unknown }).$id !== "string") return s;
  const { description, headers } = s as { description?: string; headers?: unknown };
  return { ...(description ? { description } : {}), ...(headers ? { headers } : {}), allOf: [s] };
}

/**
 * The swagger `transform`: a response or body that is a named schema (an `$id`, such as
 * VideoDetail) becomes a reference to `#/components/schemas/<id>` instead of a copy. @fastify/swagger
 * hoists named schemas only below the top of a response; wrapping it one level down in an
 * `allOf` lets it, so the document (and the generated client) holds VideoDetail once, not six times.
 */
export function referToNamedSchemas({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  const s = schema as RouteSchema & Record<string, unknown>;
  if (!s || s.hide) return { schema, url };
  const response = s.response ? Object.fromEntries(Object.entries(s.response).map(([k, v]) => [k, wrapNamed(v)])) : undefined;
  return { schema: { ...s, ...(response ? { response } : {}), ...(s.body ? { body: wrapNamed(s.body) } : {}) } as FastifySchema, url };
}
