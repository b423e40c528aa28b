/**
 * Small HTTP helpers shared by the users and auth routes. Links in responses use
 * `req.publicBase` (lib/public-url.plugin.ts): PUBLIC_URL, a TRUSTED_HOSTS Host, or relative.
 *
 * Browser sessions (`"cookie": true` at login, registration and password change): the refresh
 * token goes in an httpOnly, SameSite=Strict cookie scoped to /api/auth/ (Secure with
 * SECURE_COOKIES), next to a readable `vidflux_csrf` cookie that refresh and logout want repeated
 * in `X-CSRF-Token` (double submit).
 */
import { randomBytes } from "node:crypto";
import type { FastifyReply } from "fastify";
import type { Config } from "../../config.js";

export const REFRESH_COOKIE = "vidflux_refresh";
export const CSRF_COOKIE = "vidflux_csrf";
export const CSRF_HEADER = "x-csrf-token";
const REFRESH_COOKIE_PATH = "/api/auth/";

/** The strict per-route limit of credential endpoints (brute force), when rate limiting is on. */
export function authRateLimit(config: Config): { max: number; timeWindow: number } {
  return { max: config.rateLimit.authMax, timeWindow: config.rateLimit.authWindowS * 1000 };
}

/** Sets the refresh cookie and the CSRF cookie (`csrf` kept on rotation, a new secret otherwise). */
export function setSessionCookies(reply: FastifyReply, config: Config, refresh: string, csrf?: string): void {
  const common = { sameSite: "strict" as const, secure: config.auth.secureCookies, maxAge: config.auth.refreshTtlS };
  reply.setCookie(REFRESH_COOKIE, refresh, { ...common, httpOnly: true, path: REFRESH_COOKIE_PATH });
  // Readable by the page's scripts (that is the point) on every path, so they can echo it.
  reply.setCookie(CSRF_COOKIE, csrf ?? randomBytes(32).toString("base64url"), { ...common, httpOnly: false, path: "/" });
}

export function clearSessionCookies(reply: FastifyReply, config: Config): void {
  const common = { sameSite: "strict" as const, secure: config.auth.secureCookies };
  reply.clearCookie(REFRESH_COOKIE, { ...common, httpOnly: true, path: REFRESH_COOKIE_PATH });
  reply.clearCookie(CSRF_COOKIE, { ...common, path: "/" });
}
