/**
 * Changing an account's email address. The address is what a password reset is sent to, so a
 * change is a takeover path: with a stolen 15-minute access token, `PATCH /api/users/me/
 * {email}` followed by a password reset used to give the account away for good. So:
 *
 * 1. the request needs the current password (`old_password`, as a password change does);
 * 2. nothing changes yet: a single-use token (EMAIL_CHANGE_TTL, 24 h) goes to the NEW address,
 *    which proves it is the account holder's, and the OLD address is told a change was asked;
 * 3. `POST /api/auth/email-change/confirm/ {token}` makes the change (no sign-in needed: the
 *    token is the proof, and the link may be opened on another device); every other session
 *    ends at once (refresh families revoked, their access tokens refused by the guard, their open
 *    sockets closed), reset links mailed to the old address die, and the old address is told.
 *
 * Only the token's SHA-256 is stored. Links use PUBLIC_URL only, never the request's Host.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { fieldError, unauthorized } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { Mailer } from "../../platform/mail/mailer.js";
import type { AuthUser } from "./auth.plugin.js";
import type { PasswordHasher } from "./password-hasher.js";
import type { SessionRevocations } from "./session-revocations.js";
import { validEmail } from "./user-identity.js";
import type { UserRepository, UserRow } from "./user.repository.js";

export interface EmailChangeDeps {
  repo: UserRepository;
  hasher: PasswordHasher;
  mailer: Mailer;
  sessions: SessionRevocations;
  config: Config;
  logger: Logger;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const isoIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

export class EmailChangeService {
  constructor(private readonly d: EmailChangeDeps) {}

  /** The address waiting for confirmation (shown as `pending_email` in `/api/users/me/`). */
  pending(userId: string): Promise<string | null> {
    return this.d.repo.pendingEmail(userId);
  }

  /**
   * Checks a requested change (same address: nothing to do, false) and the current password.
   * Throws the 400/409 the PATCH answers; runs before any other field of the PATCH is applied.
   */
  async check(row: UserRow, rawEmail: string, oldPassword: string | undefined): Promise<string | null> {
    const email = validEmail(rawEmail);
    if (email === row.email) return null;
    if (oldPassword === undefined) {
      throw fieldError("password_required", "Changing the email address requires your current password in `old_password`.", "body", "old_password");
    }
    if (!(await this.d.hasher.verify(row.password_hash, oldPassword))) {
      throw fieldError("wrong_password", "Your old password was entered incorrectly.", "body", "old_password");
    }
    if (await this.d.repo.emailTaken(email, row.id)) throw fieldError("email_taken", "A user with that email already exists.", "body", "email", { status: 409 });
    return email;
  }

  /** Stores the request (earlier ones die) and mails the new and the old address. */
  async request(row: UserRow, email: string, caller: Pick<AuthUser, "sid">): Promise<void> {
    const token = randomBytes(32).toString("base64url");
    const ttl = this.d.config.auth.emailChangeTtlS;
    await this.d.repo.transaction(async (repo) => {
      await repo.invalidateEmailChanges(row.id);
      await repo.insertEmailChange({
        id: newId(),
        user_id: row.id,
        new_email: email,
        token_hash: sha256(token),
        requested_sid: caller.sid ?? null,
        created_at: nowIso(),
        expires_at: isoIn(ttl),
        used_at: null,
      });
    });
    const hours = Math.round(ttl / 3600);
    const validity = hours >= 1 ? `${hours} hour${hours === 1 ? "" : "s"}` : `${Math.round(ttl / 60)} minutes`;
    const site = this.site();
    this.send(email, "Confirm your new email address on vidflux", [
      `You asked to use this address for your account ${row.username} on vidflux${site ? ` (${site})` : ""}.`,
      "",
      `Your confirmation token (valid for ${validity}, usable once):`,
      "",
      token,
      "",
      // The token in the fragment (never sent to a server, so never in a log); a path only without PUBLIC_URL.
      `Confirm the change on this page${site ? "" : " of the site"}: ${site ?? ""}/#/confirm-email?token=${token}`,
      "",
      `Or send the token to confirm: POST ${site ?? ""}/api/auth/email-change/confirm/ {"token": "..."}`,
      "",
      "If you didn't ask for this, ignore this email: nothing changes without it.",
    ], row.id);
    this.send(row.email, "Your vidflux email address is being changed", [
      `Someone signed in to your account ${row.username} on vidflux${site ? ` (${site})` : ""} asked to change its email address to ${email}.`,
      "",
      "It changes only once that address confirms it; until then this one stays.",
      "",
      "If this wasn't you, change your password now: that cancels the request and signs every device out.",
    ], row.id);
  }

  /** Applies a confirmed change; every other session of the account ends. */
  async confirm(token: string): Promise<void> {
    const invalid = () => fieldError("email_change_token_invalid", "The email confirmation token is invalid, expired or already used.", "body", "token");
    const change = await this.d.repo.findEmailChangeByHash(sha256(token));
    if (!change || change.used_at || change.expires_at <= nowIso()) throw invalid();
    const row = await this.d.repo.findById(change.user_id);
    if (!row) throw invalid();
    if (!row.is_active) throw unauthorized("user_inactive", "This account is deactivated.");
    if (await this.d.repo.emailTaken(change.new_email, row.id)) throw fieldError("email_taken", "A user with that email already exists.", "body", "email", { status: 409 });
    await this.d.repo.transaction(async (repo) => {
      if (!(await repo.consumeEmailChange(change.id))) throw invalid();
      await repo.update(row.id, { email: change.new_email });
      await repo.invalidateEmailChanges(row.id);
      // Reset links already mailed to the previous address must not outlive the change.
      await repo.invalidateResetTokens(row.id);
      await repo.revokeOtherSessions(row.id, change.requested_sid);
    });
    await this.d.sessions.announce({ userId: row.id, sid: null, keep: change.requested_sid });
    this.d.logger.info({ userId: row.id }, "email address changed");
    const site = this.site();
    this.send(row.email, "Your vidflux email address was changed", [
      `The email address of your account ${row.username} on vidflux${site ? ` (${site})` : ""} is now ${change.new_email}.`,
      "",
      "Every other device was signed out. If this wasn't you, reply to this email or contact the site's administrators.",
    ], row.id);
  }

  private site(): string | undefined {
    return this.d.config.publicUrl?.replace(/\/+$/, "");
  }

  /** Sent after the response (mail latency is not the caller's), failures logged. */
  private send(to: string, subject: string, lines: string[], userId: string): void {
    this.d.mailer.send({ to, subject, text: lines.join("\n") }).catch((err: unknown) => this.d.logger.error({ err, userId }, `could not send "${subject}"`));
  }
}
