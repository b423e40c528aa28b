/**
 * /api/auth/*: register, login, token refresh, logout, password reset.
 *
 * Browser sessions: `"cookie": true` at login/registration sets the refresh token as an httpOnly,
 * SameSite=Strict cookie scoped to /api/auth/ (Secure with SECURE_COOKIES) and a readable
 * `vidflux_csrf` cookie. refresh and logout then work without a body, but only with the header
 * `X-CSRF-Token` equal to that cookie (double submit): a cross-site form can make the browser
 * send the cookie, never read it to forge the header. The cookie helpers live in users-http.ts
 * (the password change sets them too).
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import type { Config } from "../../config.js";
import { fieldError, forbidden } from "../../lib/errors.js";
import type { AuthService } from "./auth.service.js";
import type { EmailChangeService } from "./email-change.service.js";
import { CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, authRateLimit, clearSessionCookies, setSessionCookies } from "./users-http.js";
import {
  AuthResponse,
  Detail,
  EmailChangeConfirmBody,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RefreshBody,
  RegisterBody,
  TokenPair,
  errors,
} from "./user.schemas.js";

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The refresh token of a refresh/logout call: the body's (no CSRF risk: a forged request cannot
 * know it), else the cookie's, which requires the double-submit header.
 */
function presentedRefresh(req: FastifyRequest<{ Body: RefreshBody }>): { token: string; viaCookie: boolean; csrf?: string } {
  if (req.body.refresh) return { token: req.body.refresh, viaCookie: false };
  const cookie = req.cookies[REFRESH_COOKIE];
  if (!cookie) throw fieldError("refresh_required", "Provide the refresh token in the body or the refresh cookie.", "body", "refresh");
  const csrfCookie = req.cookies[CSRF_COOKIE];
  const header = req.headers[CSRF_HEADER];
  if (!csrfCookie || typeof header !== "string" || !sameSecret(header, csrfCookie)) {
    throw forbidden("CSRF check failed: send the vidflux_csrf cookie's value in the X-CSRF-Token header.", "csrf_failed");
  }
  return { token: cookie, viaCookie: true, csrf: csrfCookie };
}

export async function authRoutes(root: App, opts: { auth: AuthService; emailChanges: EmailChangeService; config: Config }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, config } = opts;
  const rateLimit = authRateLimit(config);
  const tags = ["auth"];
  // refresh/logout may come with no body at all (cookie sessions): validate them as `{}`.
  const emptyBodyAsObject = async (req: FastifyRequest) => {
    if (req.body === undefined || req.body === null) req.body = {};
  };

  app.post(
    "/api/auth/register/",
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Create an account",
        description: "Creates a `user` account (`uploader` with UPLOADERS_BY_DEFAULT) and signs it in. `cookie: true` works as for login.",
        body: RegisterBody,
        response: { 201: AuthResponse, ...errors(400, 409, 413, 415, 429) },
      },
    },
    async (req, reply) => {
      const r = await auth.register(req.body, req.publicBase);
      if (req.body.cookie) {
        setSessionCookies(reply, config, r.refresh);
        return reply.status(201).send({ ...r, refresh: null });
      }
      return reply.status(201).send(r);
    },
  );

  app.post(
    "/api/auth/login/",
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Sign in",
        description:
          "Username (or an email address in `username`) or `email`, plus the password, gives `{access, refresh, user}`. " +
          "With `\"cookie\": true` the refresh token is instead set as an httpOnly SameSite=Strict cookie scoped to /api/auth/ " +
          "(the body's `refresh` is null) together with a readable `vidflux_csrf` cookie; refresh and logout then accept the " +
          "cookie when the `X-CSRF-Token` header repeats `vidflux_csrf`.",
        body: LoginBody,
        response: { 200: AuthResponse, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (req, reply) => {
      const r = await auth.login(req.body, req.publicBase);
      if (req.body.cookie) {
        setSessionCookies(reply, config, r.refresh);
        return { ...r, refresh: null };
      }
      return r;
    },
  );

  app.post(
    "/api/auth/token/refresh/",
    {
      config: { rateLimit },
      preValidation: emptyBodyAsObject,
      schema: {
        tags,
        summary: "Rotate a refresh token",
        description:
          "Returns a new access token and a new refresh token; the presented one is revoked. Presenting an already " +
          "rotated token revokes the whole session (401 `token_reused`). Without `refresh` in the body the refresh cookie " +
          "is used, and then `X-CSRF-Token` must equal the `vidflux_csrf` cookie (403 `csrf_failed`).",
        body: RefreshBody,
        response: { 200: TokenPair, ...errors(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const presented = presentedRefresh(req);
      const pair = await auth.refresh(presented.token);
      if (presented.viaCookie) {
        setSessionCookies(reply, config, pair.refresh, presented.csrf);
        return { access: pair.access, refresh: null };
      }
      return pair;
    },
  );

  app.post(
    "/api/auth/logout/",
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags,
        summary: "Sign out",
        description: "Revokes the session of the refresh token (body, or cookie + `X-CSRF-Token`) and clears the cookies.",
        body: RefreshBody,
        response: { 204: Type.Null({ description: "Signed out" }), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const presented = presentedRefresh(req);
      await auth.logout(presented.token);
      if (presented.viaCookie || req.cookies[REFRESH_COOKIE]) clearSessionCookies(reply, config);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/auth/password-reset/",
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Email a password reset token",
        description: "Always 202, whether or not an account has this email (no account enumeration). The token is valid once, for PASSWORD_RESET_TTL seconds.",
        body: PasswordResetBody,
        response: { 202: Detail, ...errors(400, 429) },
      },
    },
    async (req, reply) => {
      await auth.requestPasswordReset(req.body.email);
      return reply.status(202).send({ detail: "If an account uses this email address, a password reset token has been sent to it." });
    },
  );

  app.post(
    "/api/auth/password-reset/confirm/",
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Set a new password with a reset token",
        description: "Consumes the token, sets the password and ends every session of the account.",
        body: PasswordResetConfirmBody,
        response: { 204: Type.Null({ description: "Password changed" }), ...errors(400, 429) },
      },
    },
    async (req, reply) => {
      await auth.confirmPasswordReset(req.body);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/auth/email-change/confirm/",
    {
      config: { rateLimit },
      schema: {
        tags,
        summary: "Confirm a new email address",
        description:
          "The token emailed to the new address by `PATCH /api/users/me/ {email, old_password}`. Single use, valid EMAIL_CHANGE_TTL " +
          "seconds; no sign-in needed (the token is the proof). Changes the address, tells the old one, and ends every session of the " +
          "account but the one that asked (their access tokens are refused at once, their WebSocket/SSE connections closed).",
        body: EmailChangeConfirmBody,
        response: { 204: Type.Null({ description: "Email changed" }), ...errors(400, 401, 409, 429) },
      },
    },
    async (req, reply) => {
      await opts.emailChanges.confirm(req.body.token);
      return reply.status(204).send(null);
    },
  );
}
