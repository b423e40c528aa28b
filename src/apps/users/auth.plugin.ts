/**
 * Authentication and the one permission guard. Every route declares what it needs in its route
 * config (`config: { auth: { right: "video:upload" } }`); one preHandler hook authenticates the
 * bearer token (or `?token=` where a route allows it, for EventSource/WebSocket which cannot send
 * headers) and enforces the right from the permission table. Anonymous requests act as `guest`.
 */
import fp from "fastify-plugin";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Db } from "../../platform/db/db.js";
import { forbidden, unauthorized } from "../../lib/errors.js";
import { can, isRole, type Right, type Role } from "./permissions.js";
import type { TokenService } from "./token.service.js";

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  /**
   * The session the access token belongs to (its refresh-token family) and the account's
   * token_version it was issued under. Always set by `authenticate`; absent only for callers
   * that did not come with a token (services called directly).
   */
  sid?: string;
  tokenVersion?: number;
}

export interface RouteAuth {
  /** the right the caller's role must have (anonymous callers have the guest role) */
  right?: Right;
  /** a signed-in account is required even if the right is a guest right */
  required?: boolean;
  /** accept `?token=<access>` (SSE, WebSocket) */
  queryToken?: boolean;
  /**
   * The route checks its own `Authorization` (`/metrics` and its METRICS_TOKEN): no account is
   * looked up, and a bearer that is not an access token is the route's to judge.
   */
  ownCredentials?: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    user: AuthUser | null;
    role: Role;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

function extractToken(req: FastifyRequest, allowQuery: boolean): string | null {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) throw unauthorized("token_invalid", "Authorization header must be 'Bearer <token>'.");
    return m[1]!;
  }
  if (allowQuery) {
    const q = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof q === "string" && q) return q;
  }
  return null;
}

/**
 * The caller of a request with an access token, or null without one. One query per request: the
 * user row (deactivation and `token_version` take effect at once) and, as a subquery on the
 * partial index of live refresh-token families, whether the token's session still lives, so a
 * logout or a detected refresh-token reuse ends its access tokens at once too.
 */
export async function authenticate(req: FastifyRequest, db: Db, tokens: TokenService, allowQuery: boolean): Promise<AuthUser | null> {
  const token = extractToken(req, allowQuery);
  if (!token) return null;
  const claims = await tokens.verify(token, "access");
  const row = await db
    .selectFrom("users")
    .select(["id", "username", "role", "is_active", "token_version"])
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom("refresh_tokens")
            .select("refresh_tokens.id")
            .where("refresh_tokens.family_id", "=", claims.sid)
            // Not correlated with the user row: the family id is a server-minted UUID signed
            // together with `sub`, and an uncorrelated EXISTS is one index-only probe of the
            // partial index (PostgreSQL otherwise ANDs in the user index: +50 % per request).
            .where("refresh_tokens.revoked_at", "is", null),
        )
        .as("session_live"),
    )
    .where("id", "=", claims.sub)
    .executeTakeFirst();
  if (!row) throw unauthorized("user_not_found", "The token's user no longer exists.");
  if (!row.is_active) throw unauthorized("user_inactive", "This account is deactivated.");
  // SQLite answers EXISTS with 0/1, PostgreSQL with a boolean.
  if (row.token_version !== claims.ver || !row.session_live) throw unauthorized("token_revoked", "The token has been revoked.");
  return { id: row.id, username: row.username, role: isRole(row.role) ? row.role : "guest", sid: claims.sid, tokenVersion: row.token_version };
}

/** Enforces a route's auth config for an already-authenticated request. */
export function enforce(auth: RouteAuth | undefined, user: AuthUser | null, role: Role): void {
  if (!auth) return;
  if ((auth.required || (auth.right && !can("guest", auth.right))) && !user) {
    throw unauthorized("not_authenticated", "Authentication credentials were not provided.");
  }
  if (auth.right && !can(role, auth.right)) throw forbidden();
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { db: Db; tokens: TokenService }) => {
    app.decorateRequest("user", null);
    app.decorateRequest("role", "guest");
    app.addHook("preHandler", async (req) => {
      const auth = req.routeOptions.config?.auth;
      if (auth?.ownCredentials) return;
      req.user = await authenticate(req, opts.db, opts.tokens, auth?.queryToken === true);
      req.role = req.user?.role ?? "guest";
      enforce(auth, req.user, req.role);
    });
  },
  { name: "vidflux-auth" },
);

/** The caller, for handlers of routes that require authentication. */
export function currentUser(req: FastifyRequest): AuthUser {
  if (!req.user) throw unauthorized("not_authenticated", "Authentication credentials were not provided.");
  return req.user;
}
