/**
 * Every query of the users domain: accounts, refresh tokens (rotation, family revocation) and
 * password-reset tokens. Kysely with portable SQL only, so the same code runs on SQLite and
 * PostgreSQL; the one dialect difference (row locks) is handled here.
 */
import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from "kysely";
import type { Database, EmailChangesTable, PasswordResetTokensTable, RefreshTokensTable, UsersTable } from "../../platform/db/tables.js";
import { isUniqueViolation } from "../../platform/db/db.js";
import { fieldError } from "../../lib/errors.js";
import { nowIso } from "../../lib/ids.js";
import type { Cursor } from "../../lib/pagination.js";

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserPatch = Updateable<Omit<UsersTable, "id" | "token_version">>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type ResetTokenRow = Selectable<PasswordResetTokensTable>;
export type EmailChangeRow = Selectable<EmailChangesTable>;

/** LIKE metacharacters escaped with `!` (portable: PostgreSQL and SQLite both take `ESCAPE '!'`). */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export class UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: "sqlite" | "postgres",
  ) {}

  /** Runs `fn` in a transaction (or in the current one when already inside). */
  async transaction<T>(fn: (repo: UserRepository) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new UserRepository(trx, this.dialect)));
  }

  // ---- users ----------------------------------------------------------------------------------

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
  }

  findByUsernameKey(key: string): Promise<UserRow | undefined> {
    return this.db.selectFrom("users").selectAll().where("username_key", "=", key).executeTakeFirst();
  }

  /** Exact match first (the unique column), then ignoring case when exactly one account matches. */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    const exact = await this.db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
    if (exact) return exact;
    const rows = await this.db
      .selectFrom("users")
      .selectAll()
      .where(sql<boolean>`lower(email) = ${email.toLowerCase()}`)
      .limit(2)
      .execute();
    return rows.length === 1 ? rows[0] : undefined;
  }

  async emailTaken(email: string, exceptId?: string): Promise<boolean> {
    let q = this.db.selectFrom("users").select("id").where(sql<boolean>`lower(email) = ${email.toLowerCase()}`);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  async usernameTaken(key: string, exceptId?: string): Promise<boolean> {
    let q = this.db.selectFrom("users").select("id").where("username_key", "=", key);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  }

  /** Inserts an account; a concurrent duplicate surfaces as the same 409 as the pre-checks. */
  async insert(row: NewUserRow): Promise<UserRow> {
    try {
      await this.db.insertInto("users").values(row).execute();
    } catch (err) {
      throw this.translateUnique(err);
    }
    return (await this.findById(row.id))!;
  }

  async update(id: string, patch: UserPatch): Promise<UserRow | undefined> {
    if (Object.keys(patch).length > 0) {
      try {
        await this.db.updateTable("users").set(patch).where("id", "=", id).execute();
      } catch (err) {
        throw this.translateUnique(err);
      }
    }
    return this.findById(id);
  }

  /** Kills every access token of the account (they carry the version they were issued with). */
  async bumpTokenVersion(id: string): Promise<void> {
    await this.db
      .updateTable("users")
      .set((eb) => ({ token_version: eb("token_version", "+", 1) }))
      .where("id", "=", id)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("users").where("id", "=", id).execute();
  }

  /**
   * Ids of the active admins. On PostgreSQL the rows are locked (in id order, so two callers
   * never deadlock) until the transaction ends: two admins demoting each other at the same moment
   * cannot both pass the "another admin remains" check. SQLite serializes write transactions.
   */
  async lockActiveAdmins(): Promise<string[]> {
    let q = this.db.selectFrom("users").select("id").where("role", "=", "admin").where("is_active", "=", 1).orderBy("id");
    if (this.dialect === "postgres") q = q.forUpdate();
    return (await q.execute()).map((r) => r.id);
  }

  /** Newest first, keyset-paginated on (date_joined, id). Fetches limit+1 rows in the cursor's direction. */
  list(opts: { search?: string | undefined; cursor: Cursor | null; limit: number }): Promise<UserRow[]> {
    let q = this.db.selectFrom("users").selectAll();
    if (opts.search) {
      const p = likePattern(opts.search);
      q = q.where(sql<boolean>`(username_key like ${p} escape '!' or lower(email) like ${p} escape '!' or lower(display_name) like ${p} escape '!')`);
    }
    const c = opts.cursor;
    if (c) {
      const [joined, id] = [String(c.key[0]), String(c.key[1])];
      const op = c.dir === "n" ? "<" : ">";
      q = q.where((eb) => eb.or([eb("date_joined", op, joined), eb.and([eb("date_joined", "=", joined), eb("id", op, id)])]));
    }
    const order = c?.dir === "p" ? "asc" : "desc";
    return q.orderBy("date_joined", order).orderBy("id", order).limit(opts.limit + 1).execute();
  }

  private translateUnique(err: unknown): unknown {
    if (!isUniqueViolation(err)) return err;
    const text = `${(err as { constraint?: string }).constraint ?? ""} ${(err as Error).message ?? ""}`;
    if (text.includes("username")) return fieldError("username_taken", "A user with that username already exists.", "body", "username", { status: 409 });
    if (text.includes("email")) return fieldError("email_taken", "A user with that email already exists.", "body", "email", { status: 409 });
    return err;
  }

  // ---- refresh tokens -------------------------------------------------------------------------

  async insertRefreshToken(row: Insertable<RefreshTokensTable>): Promise<void> {
    await this.db.insertInto("refresh_tokens").values(row).execute();
  }

  findRefreshToken(id: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom("refresh_tokens").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * Marks a live token as replaced. Conditional on it still being live, so of two concurrent
   * refreshes with the same token exactly one wins; false means the token was already used.
   */
  async markRotated(id: string, replacedBy: string): Promise<boolean> {
    const r = await this.db
      .updateTable("refresh_tokens")
      .set({ revoked_at: nowIso(), replaced_by: replacedBy })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.db.updateTable("refresh_tokens").set({ revoked_at: nowIso() }).where("family_id", "=", familyId).where("revoked_at", "is", null).execute();
  }

  async revokeAllRefreshTokens(userId: string): Promise<void> {
    await this.db.updateTable("refresh_tokens").set({ revoked_at: nowIso() }).where("user_id", "=", userId).where("revoked_at", "is", null).execute();
  }

  /** Ends every session of the account but `keepFamily` (null: all of them). */
  async revokeOtherSessions(userId: string, keepFamily: string | null): Promise<void> {
    let q = this.db.updateTable("refresh_tokens").set({ revoked_at: nowIso() }).where("user_id", "=", userId).where("revoked_at", "is", null);
    if (keepFamily) q = q.where("family_id", "!=", keepFamily);
    await q.execute();
  }

  /**
   * For the periodic re-check of open connections: the accounts' activation and token_version,
   * and which of the sessions still have a live token (two indexed queries, whatever the count).
   */
  async sessionStates(userIds: string[], familyIds: string[]): Promise<{ users: Map<string, { active: boolean; tokenVersion: number }>; liveSids: Set<string> }> {
    const users = new Map<string, { active: boolean; tokenVersion: number }>();
    const liveSids = new Set<string>();
    if (userIds.length > 0) {
      const rows = await this.db.selectFrom("users").select(["id", "is_active", "token_version"]).where("id", "in", userIds).execute();
      for (const r of rows) users.set(r.id, { active: r.is_active === 1, tokenVersion: r.token_version });
    }
    if (familyIds.length > 0) {
      const rows = await this.db.selectFrom("refresh_tokens").select("family_id").distinct().where("family_id", "in", familyIds).where("revoked_at", "is", null).execute();
      for (const r of rows) liveSids.add(r.family_id);
    }
    return { users, liveSids };
  }

  /** Housekeeping at login: expired rows can never be presented again (the JWT expired with them). */
  async deleteExpiredRefreshTokens(userId: string): Promise<void> {
    await this.db.deleteFrom("refresh_tokens").where("user_id", "=", userId).where("expires_at", "<", nowIso()).execute();
  }

  // ---- password reset tokens ------------------------------------------------------------------

  async insertResetToken(row: Insertable<PasswordResetTokensTable>): Promise<void> {
    await this.db.insertInto("password_reset_tokens").values(row).execute();
  }

  findResetTokenByHash(tokenHash: string): Promise<ResetTokenRow | undefined> {
    return this.db.selectFrom("password_reset_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
  }

  /** Single use: true for exactly one caller even when two confirm at once. */
  async consumeResetToken(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable("password_reset_tokens")
      .set({ used_at: nowIso() })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- email changes -------------------------------------------------------------------------

  async insertEmailChange(row: Insertable<EmailChangesTable>): Promise<void> {
    await this.db.insertInto("email_changes").values(row).execute();
  }

  findEmailChangeByHash(tokenHash: string): Promise<EmailChangeRow | undefined> {
    return this.db.selectFrom("email_changes").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
  }

  /** The address waiting for confirmation, if any (the newest unused, unexpired request). */
  async pendingEmail(userId: string): Promise<string | null> {
    const r = await this.db
      .selectFrom("email_changes")
      .select("new_email")
      .where("user_id", "=", userId)
      .where("used_at", "is", null)
      .where("expires_at", ">", nowIso())
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    return r?.new_email ?? null;
  }

  /** Single use: true for exactly one caller even when two confirm at once. */
  async consumeEmailChange(id: string): Promise<boolean> {
    const r = await this.db.updateTable("email_changes").set({ used_at: nowIso() }).where("id", "=", id).where("used_at", "is", null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Outstanding confirmation links die (a newer request, a password change; expired ones are dropped). */
  async invalidateEmailChanges(userId: string): Promise<void> {
    await this.db.updateTable("email_changes").set({ used_at: nowIso() }).where("user_id", "=", userId).where("used_at", "is", null).execute();
    await this.db.deleteFrom("email_changes").where("user_id", "=", userId).where("expires_at", "<", nowIso()).execute();
  }

  /** Any outstanding reset link dies with a password change (and expired ones are dropped). */
  async invalidateResetTokens(userId: string): Promise<void> {
    await this.db.updateTable("password_reset_tokens").set({ used_at: nowIso() }).where("user_id", "=", userId).where("used_at", "is", null).execute();
    await this.db.deleteFrom("password_reset_tokens").where("user_id", "=", userId).where("expires_at", "<", nowIso()).execute();
  }
}
