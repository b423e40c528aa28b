/**
 * Accounts: profiles, avatars, the admin list and role/activation changes, account deletion.
 * Sign-in, tokens and passwords live in auth.service.ts.
 */
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { conflict, fieldError, forbidden, notFound } from "../../lib/errors.js";
import { decodeCursor, pageUrl, paginate } from "../../lib/pagination.js";
import { isNotFoundError, type Storage } from "../../platform/storage/storage.js";
import type { AuthUser } from "./auth.plugin.js";
import { renderAvatars } from "./avatar-image.js";
import type { EmailChangeService } from "./email-change.service.js";
import type { PasswordHasher } from "./password-hasher.js";
import { isRole, roleRank, type Role } from "./permissions.js";
import type { SessionRevocations } from "./session-revocations.js";
import type { UserHooks } from "./user-hooks.js";
import { usernameKey, validUsername } from "./user-identity.js";
import type { UserPatch, UserRepository, UserRow } from "./user.repository.js";
import { AVATAR_SIZES, type AdminUpdateBody, type AdminUser, type AvatarSize, type Me, type PublicUser, type UpdateMeBody, type UserListQuery } from "./user.schemas.js";

export interface UsersDeps {
  repo: UserRepository;
  hasher: PasswordHasher;
  storage: Storage;
  hooks: UserHooks;
  emailChanges: EmailChangeService;
  sessions: SessionRevocations;
  config: Config;
  logger: Logger;
}

export interface AvatarObject {
  body: Readable;
  size: number;
  /** the avatar's version (changes with every upload) */
  version: string;
}

const roleOf = (row: UserRow): Role => (isRole(row.role) ? row.role : "guest");

/** Storage prefix of one account's avatar files. */
export const avatarPrefix = (userId: string) => `avatars/${userId}/`;
const avatarObjectKey = (avatarKey: string, size: AvatarSize) => `${avatarKey}-${size}.webp`;
const avatarVersion = (avatarKey: string) => avatarKey.slice(avatarKey.lastIndexOf("/") + 1);

export function avatarUrls(row: UserRow, baseUrl: string): PublicUser["avatar"] {
  if (!row.avatar_key) return null;
  const v = avatarVersion(row.avatar_key);
  const url = (size: AvatarSize) => `${baseUrl}/api/users/${row.id}/avatar/${size}/?v=${v}`;
  return { "256": url(256), "64": url(64) };
}

/**
 * The small avatar of an account as an absolute path (comments' authors: one image per row,
 * relative so the same JSON goes out on the live channel, where no request gives a host).
 */
export function avatarPath(row: Pick<UserRow, "id" | "avatar_key">, size: AvatarSize = 64): string | null {
  if (!row.avatar_key) return null;
  return `/api/users/${row.id}/avatar/${size}/?v=${avatarVersion(row.avatar_key)}`;
}

export function toPublicUser(row: UserRow, baseUrl: string): PublicUser {
  return {
    id: row.id,
    username: row.username,
    display_name: row.display_name,
    bio: row.bio,
    role: roleOf(row),
    avatar: avatarUrls(row, baseUrl),
    date_joined: row.date_joined,
  };
}

export function toAdminUser(row: UserRow, baseUrl: string): AdminUser {
  return { ...toPublicUser(row, baseUrl), email: row.email, is_active: row.is_active === 1, last_login: row.last_login };
}

export class UserService {
  constructor(private readonly d: UsersDeps) {}

  async presentMe(row: UserRow, baseUrl: string): Promise<Me> {
    return {
      ...toAdminUser(row, baseUrl),
      quota: { used_bytes: await this.d.hooks.quotaUsed(row.id), limit_bytes: this.d.config.upload.userQuota },
      pending_email: await this.d.emailChanges.pending(row.id),
    };
  }

  private async active(userId: string): Promise<UserRow> {
    const row = await this.d.repo.findById(userId);
    if (!row || !row.is_active) throw notFound();
    return row;
  }

  async me(userId: string, baseUrl: string): Promise<Me> {
    return this.presentMe(await this.active(userId), baseUrl);
  }

  /**
   * Profile edits. A new email address is not applied here: it needs `old_password` and waits for
   * the new address to confirm it (email-change.service.ts); every check (password included) runs
   * before any field changes, so a refused PATCH changes nothing.
   */
  async updateMe(caller: Pick<AuthUser, "id" | "sid">, body: UpdateMeBody, baseUrl: string): Promise<Me> {
    const userId = caller.id;
    const row = await this.active(userId);
    const patch: UserPatch = {};
    if (body.username !== undefined) {
      const username = validUsername(body.username);
      const key = usernameKey(username);
      if (key !== row.username_key && (await this.d.repo.usernameTaken(key, userId))) {
        throw fieldError("username_taken", "A user with that username already exists.", "body", "username", { status: 409 });
      }
      patch.username = username;
      patch.username_key = key;
    }
    const newEmail = body.email !== undefined ? await this.d.emailChanges.check(row, body.email, body.old_password) : null;
    if (body.display_name !== undefined) patch.display_name = body.display_name.trim();
    if (body.bio !== undefined) patch.bio = body.bio;
    const updated = await this.d.repo.update(userId, patch);
    if (newEmail !== null) await this.d.emailChanges.request(row, newEmail, caller);
    return this.presentMe(updated!, baseUrl);
  }

  async profile(userId: string, baseUrl: string): Promise<PublicUser> {
    return toPublicUser(await this.active(userId), baseUrl);
  }

  // ---- avatar ---------------------------------------------------------------------------------

  /**
   * Stores the re-encoded sizes under a fresh version (`avatars/<user>/<version>-<size>.webp`),
   * points the account at it, then deletes the previous version: a client holding an old URL
   * never sees a half-replaced avatar, and new URLs can be cached forever.
   */
  async setAvatar(userId: string, upload: Buffer, baseUrl: string): Promise<Me> {
    const row = await this.active(userId);
    const images = await renderAvatars(upload);
    const key = `${avatarPrefix(userId)}${randomBytes(8).toString("hex")}`;
    for (const size of AVATAR_SIZES) await this.d.storage.put(avatarObjectKey(key, size), images[size], { contentType: "image/webp" });
    const updated = await this.d.repo.update(userId, { avatar_key: key });
    if (row.avatar_key) await this.deleteAvatarFiles(row.avatar_key);
    return this.presentMe(updated!, baseUrl);
  }

  async removeAvatar(userId: string): Promise<void> {
    const row = await this.active(userId);
    if (!row.avatar_key) return;
    await this.d.repo.update(userId, { avatar_key: null });
    await this.deleteAvatarFiles(row.avatar_key);
  }

  private async deleteAvatarFiles(avatarKey: string): Promise<void> {
    for (const size of AVATAR_SIZES) {
      try {
        await this.d.storage.delete(avatarObjectKey(avatarKey, size));
      } catch (err) {
        // An orphaned file is harmless (the account no longer points at it); a failed request is not.
        this.d.logger.warn({ err, key: avatarKey }, "could not delete an old avatar file");
      }
    }
  }

  async avatar(userId: string, size: AvatarSize): Promise<AvatarObject> {
    const row = await this.active(userId);
    if (!row.avatar_key) throw notFound("This user has no avatar.", "no_avatar");
    const key = avatarObjectKey(row.avatar_key, size);
    const info = await this.d.storage.stat(key);
    if (!info) throw notFound("This user has no avatar.", "no_avatar");
    try {
      return { body: await this.d.storage.get(key), size: info.size, version: avatarVersion(row.avatar_key) };
    } catch (err) {
      // Replaced between stat and get.
      if (isNotFoundError(err)) throw notFound("This user has no avatar.", "no_avatar");
      throw err;
    }
  }

  // ---- admin ----------------------------------------------------------------------------------

  async list(query: UserListQuery, requestUrl: string, baseUrl: string): Promise<{ results: AdminUser[]; next: string | null; previous: string | null }> {
    const cursor = decodeCursor(query.cursor);
    if (cursor && (cursor.key.length !== 2 || cursor.key.some((k) => typeof k !== "string"))) {
      throw fieldError("invalid_cursor", "The cursor is not valid.", "querystring", "cursor");
    }
    const limit = query.limit ?? 20;
    const search = query.search?.trim() || undefined;
    const rows = await this.d.repo.list({ search, cursor, limit });
    const page = paginate(rows, limit, cursor, (r) => [r.date_joined, r.id], (c) => pageUrl(requestUrl, baseUrl, c));
    return { ...page, results: page.results.map((r) => toAdminUser(r, baseUrl)) };
  }

  /**
   * Role and activation changes by an admin. Nobody raises their own role or grants a role above
   * their own; the last active admin cannot be demoted or deactivated (409 `last_admin`), checked
   * under a lock so two admins demoting each other cannot both succeed. Deactivation revokes
   * every token of the account at once.
   */
  async adminUpdate(actor: AuthUser, targetId: string, body: AdminUpdateBody, baseUrl: string): Promise<AdminUser> {
    const row = await this.d.repo.transaction(async (repo) => {
      const target = await repo.findById(targetId);
      if (!target) throw notFound("No such user.", "user_not_found");
      const targetRole = roleOf(target);
      if (body.role !== undefined && body.role !== targetRole && roleRank(body.role) > roleRank(actor.role)) {
        throw target.id === actor.id
          ? forbidden("You cannot raise your own role.", "cannot_raise_own_role")
          : forbidden("You cannot grant a role above your own.", "role_too_high");
      }
      const losesAdmin = (body.role !== undefined && body.role !== "admin") || body.is_active === false;
      if (targetRole === "admin" && target.is_active === 1 && losesAdmin) {
        const admins = await repo.lockActiveAdmins();
        if (!admins.some((id) => id !== target.id)) {
          throw conflict("last_admin", "The last active admin cannot be demoted or deactivated.");
        }
      }
      const patch: UserPatch = {};
      if (body.role !== undefined) patch.role = body.role;
      if (body.is_active !== undefined) patch.is_active = body.is_active ? 1 : 0;
      const updated = await repo.update(target.id, patch);
      if (body.is_active === false && target.is_active === 1) await this.revokeEverything(repo, target.id);
      return (await repo.findById(target.id)) ?? updated!;
    });
    // Its open WebSocket/SSE connections close too, on every API process.
    if (body.is_active === false) await this.d.sessions.announce({ userId: row.id, sid: null });
    return toAdminUser(row, baseUrl);
  }

  private async revokeEverything(repo: UserRepository, userId: string): Promise<void> {
    await repo.bumpTokenVersion(userId);
    await repo.revokeAllRefreshTokens(userId);
    await repo.invalidateResetTokens(userId);
    await repo.invalidateEmailChanges(userId);
  }

  // ---- account deletion -----------------------------------------------------------------------

  /**
   * Deletes the caller's account. The account is deactivated and every token revoked first, in
   * one transaction, so it is unusable from that moment even if removing content takes a while or
   * fails (it then stays deactivated, visible to admins, instead of half-deleted and usable).
   * Then the avatar, the other domains' content (AccountCleanup hooks) and finally the row.
   */
  async deleteAccount(userId: string, password: string): Promise<void> {
    const row = await this.active(userId);
    if (!(await this.d.hasher.verify(row.password_hash, password))) {
      throw fieldError("wrong_password", "The password is incorrect.", "body", "password");
    }
    await this.d.repo.transaction(async (repo) => {
      if (roleOf(row) === "admin") {
        const admins = await repo.lockActiveAdmins();
        if (!admins.some((id) => id !== row.id)) throw conflict("last_admin", "The last active admin cannot delete their account.");
      }
      await repo.update(row.id, { is_active: 0 });
      await this.revokeEverything(repo, row.id);
    });
    await this.d.sessions.announce({ userId: row.id, sid: null });
    await this.d.storage.deletePrefix(avatarPrefix(row.id));
    await this.d.hooks.removeUserContent(row.id);
    await this.d.repo.delete(row.id);
    this.d.logger.info({ userId: row.id }, "account deleted");
  }
}
