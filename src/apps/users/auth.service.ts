/**
 * Sign-up, sign-in, token rotation and passwords.
 *
 * Refresh tokens are JWTs whose `jti` names a `refresh_tokens` row (only a SHA-256 of the token is
 * stored). Every refresh replaces the token with a new one of the same family (one family per
 * sign-in); presenting a replaced token again means it was copied, so the whole family is revoked
 * and the call answers 401 `token_reused` (OAuth 2.0 Security BCP, refresh token rotation).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { AppError, badRequest, fieldError, unauthorized } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { Mailer } from "../../platform/mail/mailer.js";
import type { TokenService } from "./token.service.js";
import type { Role } from "./permissions.js";
import type { PasswordHasher } from "./password-hasher.js";
import { assertPasswordAcceptable } from "./password-rules.js";
import type { SessionRevocations } from "./session-revocations.js";
import { normalizeEmail, usernameKey, validEmail, validUsername } from "./user-identity.js";
import type { UserRepository, UserRow } from "./user.repository.js";
import type { AuthResponse, ChangePasswordBody, LoginBody, PasswordResetConfirmBody, RegisterBody } from "./user.schemas.js";
import type { UserService } from "./user.service.js";

export interface AuthDeps {
  repo: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  mailer: Mailer;
  users: UserService;
  sessions: SessionRevocations;
  config: Config;
  logger: Logger;
}

export interface IssuedTokens {
  access: string;
  refresh: string;
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const isoIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

const invalidCredentials = () => unauthorized("invalid_credentials", "Unable to sign in with the provided credentials.");

export interface NewAccount {
  username: string;
  email: string;
  password: string;
  displayName?: string | undefined;
  role: Role;
}

/**
 * Creates an account after every check (username shape and uniqueness, email, password rules).
 * Needs only the repository and the hasher, so `createsuperuser` uses it without an app.
 */
export async function createAccount(deps: { repo: UserRepository; hasher: PasswordHasher }, input: NewAccount): Promise<UserRow> {
  const username = validUsername(input.username);
  const email = validEmail(input.email);
  const displayName = input.displayName?.trim() ?? "";
  const key = usernameKey(username);
  if (await deps.repo.usernameTaken(key)) throw fieldError("username_taken", "A user with that username already exists.", "body", "username", { status: 409 });
  if (await deps.repo.emailTaken(email)) throw fieldError("email_taken", "A user with that email already exists.", "body", "email", { status: 409 });
  assertPasswordAcceptable(input.password, { username, email, display_name: displayName });
  return deps.repo.insert({
    id: newId(),
    username,
    username_key: key,
    email,
    password_hash: await deps.hasher.hash(input.password),
    role: input.role,
    display_name: displayName,
    bio: "",
    avatar_key: null,
    is_active: 1,
    date_joined: nowIso(),
    last_login: null,
  });
}

export class AuthService {
  constructor(private readonly d: AuthDeps) {}

  /** The role of new accounts: `user`, or `uploader` with UPLOADERS_BY_DEFAULT=true. */
  defaultRole(): "user" | "uploader" {
    return this.d.config.auth.uploadersByDefault ? "uploader" : "user";
  }

  /** Creates an account with the default role (registration). */
  createAccount(input: Omit<NewAccount, "role"> & { role?: Role }): Promise<UserRow> {
    return createAccount(this.d, { ...input, role: input.role ?? this.defaultRole() });
  }

  async register(body: RegisterBody, baseUrl: string): Promise<AuthResponse & { refresh: string }> {
    const row = await this.createAccount({ username: body.username, email: body.email, password: body.password, displayName: body.display_name });
    return this.signIn(row, baseUrl);
  }

  /**
   * `username` may also be an email address (tried as a username first: Django usernames may
   * contain "@"). Unknown accounts cost one dummy hash verification, so the response time does
   * not reveal whether an account exists. A deactivated account is only reported as such to
   * someone who knows its password.
   */
  async login(body: LoginBody, baseUrl: string): Promise<AuthResponse & { refresh: string }> {
    if (body.username === undefined && body.email === undefined) {
      throw badRequest("validation_error", "Provide a username or an email address.", [
        { location: "body", field: "username", code: "required", message: "must provide username or email" },
      ]);
    }
    let row: UserRow | undefined;
    if (body.username !== undefined) {
      row = await this.d.repo.findByUsernameKey(usernameKey(body.username.trim()));
      if (!row && body.username.includes("@")) row = await this.d.repo.findByEmail(normalizeEmail(body.username));
    } else if (body.email !== undefined) {
      row = await this.d.repo.findByEmail(normalizeEmail(body.email));
    }
    if (!row) {
      await this.d.hasher.verifyDummy(body.password);
      throw invalidCredentials();
    }
    if (!(await this.d.hasher.verify(row.password_hash, body.password))) throw invalidCredentials();
    if (!row.is_active) throw unauthorized("user_inactive", "This account is deactivated.");
    if (this.d.hasher.needsRehash(row.password_hash)) {
      await this.d.repo.update(row.id, { password_hash: await this.d.hasher.hash(body.password) });
    }
    await this.d.repo.deleteExpiredRefreshTokens(row.id);
    return this.signIn(row, baseUrl);
  }

  private async signIn(row: UserRow, baseUrl: string): Promise<AuthResponse & { refresh: string }> {
    const updated = (await this.d.repo.update(row.id, { last_login: nowIso() }))!;
    const tokens = await this.issueTokens(updated);
    return { ...tokens, user: await this.d.users.presentMe(updated, baseUrl) };
  }

  /**
   * A new session: a refresh token starting a new family, and an access token bound to that
   * family (`sid`), which dies with it.
   */
  async issueTokens(row: Pick<UserRow, "id" | "token_version">, repo: UserRepository = this.d.repo): Promise<IssuedTokens> {
    const familyId = newId();
    const refresh = await this.newRefreshToken(repo, row.id, newId(), familyId);
    return { access: await this.d.tokens.signAccess(row.id, row.token_version, familyId), refresh };
  }

  private async newRefreshToken(repo: UserRepository, userId: string, jti: string, familyId: string): Promise<string> {
    const token = await this.d.tokens.signRefresh(userId, jti, familyId);
    await repo.insertRefreshToken({
      id: jti,
      user_id: userId,
      family_id: familyId,
      token_hash: sha256(token),
      created_at: nowIso(),
      expires_at: isoIn(this.d.tokens.refreshTtlS),
      revoked_at: null,
      replaced_by: null,
    });
    return token;
  }

  /** Exchanges a refresh token for a new access token and a new refresh token (the old one dies). */
  async refresh(token: string): Promise<IssuedTokens> {
    const claims = await this.d.tokens.verify(token, "refresh");
    const row = typeof claims.jti === "string" ? await this.d.repo.findRefreshToken(claims.jti) : undefined;
    if (!row || row.user_id !== claims.sub || row.family_id !== claims.fam || row.token_hash !== sha256(token)) {
      throw unauthorized("token_invalid", "The token is invalid.");
    }
    if (row.revoked_at) await this.refuseRevoked(row.family_id, row.replaced_by !== null, row.user_id);
    const user = await this.d.repo.findById(row.user_id);
    if (!user) throw unauthorized("user_not_found", "The token's user no longer exists.");
    if (!user.is_active) throw unauthorized("user_inactive", "This account is deactivated.");
    const nextJti = newId();
    const issued = await this.d.repo.transaction(async (repo) => {
      if (!(await repo.markRotated(row.id, nextJti))) return null;
      const refresh = await this.newRefreshToken(repo, user.id, nextJti, row.family_id);
      return { access: await this.d.tokens.signAccess(user.id, user.token_version, row.family_id), refresh };
    });
    // Lost the race to a concurrent refresh with the same token: that is a re-use too.
    if (!issued) await this.refuseRevoked(row.family_id, true, row.user_id);
    return issued!;
  }

  private async refuseRevoked(familyId: string, replaced: boolean, userId: string): Promise<never> {
    if (replaced) {
      await this.d.repo.revokeFamily(familyId);
      await this.d.sessions.announce({ userId, sid: familyId });
      this.d.logger.warn({ familyId }, "refresh token re-used: session revoked");
      throw unauthorized("token_reused", "This refresh token was already used; the session has been revoked.");
    }
    throw unauthorized("token_revoked", "The token has been revoked.");
  }

  /** Ends the session the refresh token belongs to. An expired token has nothing left to revoke. */
  async logout(token: string): Promise<void> {
    let claims;
    try {
      claims = await this.d.tokens.verify(token, "refresh");
    } catch (err) {
      if (err instanceof AppError && err.code === "token_expired") return;
      throw err;
    }
    const row = typeof claims.jti === "string" ? await this.d.repo.findRefreshToken(claims.jti) : undefined;
    if (!row || row.user_id !== claims.sub || row.token_hash !== sha256(token)) throw unauthorized("token_invalid", "The token is invalid.");
    await this.d.repo.revokeFamily(row.family_id);
    await this.d.sessions.announce({ userId: row.user_id, sid: row.family_id });
  }

  /**
   * Changes the password after checking the old one. Every session ends (refresh tokens revoked,
   * token_version bumped so access tokens die too); the caller gets a fresh pair to stay signed in.
   */
  async changePassword(userId: string, body: ChangePasswordBody): Promise<IssuedTokens> {
    const row = await this.d.repo.findById(userId);
    if (!row || !row.is_active) throw unauthorized("user_inactive", "This account is deactivated.");
    if (!(await this.d.hasher.verify(row.password_hash, body.old_password))) {
      throw fieldError("wrong_password", "Your old password was entered incorrectly.", "body", "old_password");
    }
    assertPasswordAcceptable(body.new_password, { username: row.username, email: row.email, display_name: row.display_name }, "new_password");
    const hash = await this.d.hasher.hash(body.new_password);
    const issued = await this.d.repo.transaction(async (repo) => {
      await this.setPassword(repo, row.id, hash);
      return this.issueTokens((await repo.findById(row.id))!, repo);
    });
    // The new pair is a new session, so no `keep`: every connection opened before ends.
    await this.d.sessions.announce({ userId: row.id, sid: null });
    return issued;
  }

  private async setPassword(repo: UserRepository, userId: string, hash: string): Promise<void> {
    await repo.update(userId, { password_hash: hash });
    await repo.bumpTokenVersion(userId);
    await repo.revokeAllRefreshTokens(userId);
    await repo.invalidateResetTokens(userId);
    // an email change someone else asked for dies with the password they knew
    await repo.invalidateEmailChanges(userId);
  }

  /**
   * Emails a single-use reset token to an active account with that address. The answer is the
   * same whether or not the account exists, and the email is sent after responding (its latency
   * would otherwise tell). Only the token's SHA-256 is stored. Links use PUBLIC_URL only, never
   * the request's Host header, which an attacker controls (reset-link poisoning).
   */
  async requestPasswordReset(rawEmail: string): Promise<void> {
    const row = await this.d.repo.findByEmail(normalizeEmail(rawEmail));
    if (!row || !row.is_active) return;
    const token = randomBytes(32).toString("base64url");
    const ttl = this.d.config.auth.passwordResetTtlS;
    await this.d.repo.insertResetToken({
      id: newId(),
      user_id: row.id,
      token_hash: sha256(token),
      created_at: nowIso(),
      expires_at: isoIn(ttl),
      used_at: null,
    });
    const minutes = Math.round(ttl / 60);
    const site = this.d.config.publicUrl?.replace(/\/+$/, "");
    const endpoint = `${site ?? ""}/api/auth/password-reset/confirm/`;
    // The web client's reset page, the token in the fragment: browsers never send it, so it
    // stays out of server and proxy logs. Without PUBLIC_URL only the path, as for the endpoint.
    const link = `${site ?? ""}/#/reset?token=${token}`;
    const text = [
      `You're receiving this email because you requested a password reset for your account on vidflux${site ? ` (${site})` : ""}.`,
      "",
      `Your username, in case you've forgotten: ${row.username}`,
      "",
      `Your password reset token (valid for ${minutes} minute${minutes === 1 ? "" : "s"}, usable once):`,
      "",
      token,
      "",
      `Choose a new password on this page${site ? "" : " of the site"}: ${link}`,
      "",
      `Or send the token with your new password: POST ${endpoint} {"token": "...", "new_password": "..."}`,
      "",
      "If you didn't ask for this, ignore this email: your password stays unchanged.",
    ].join("\n");
    this.d.mailer
      .send({ to: row.email, subject: "Password reset on vidflux", text })
      .catch((err: unknown) => this.d.logger.error({ err, userId: row.id }, "could not send the password reset email"));
  }

  async confirmPasswordReset(body: PasswordResetConfirmBody): Promise<void> {
    const invalid = () => fieldError("reset_token_invalid", "The password reset token is invalid, expired or already used.", "body", "token");
    const token = await this.d.repo.findResetTokenByHash(sha256(body.token));
    if (!token || token.used_at || token.expires_at <= nowIso()) throw invalid();
    const row = await this.d.repo.findById(token.user_id);
    if (!row || !row.is_active) throw invalid();
    assertPasswordAcceptable(body.new_password, { username: row.username, email: row.email, display_name: row.display_name }, "new_password");
    const hash = await this.d.hasher.hash(body.new_password);
    await this.d.repo.transaction(async (repo) => {
      if (!(await repo.consumeResetToken(token.id))) throw invalid();
      await this.setPassword(repo, row.id, hash);
    });
    await this.d.sessions.announce({ userId: row.id, sid: null });
  }
}
