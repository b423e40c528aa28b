/** /api/users/*: the caller's account, avatars, public profiles, and the admin list/update. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import type { Config } from "../../config.js";
import { fieldError } from "../../lib/errors.js";
import { IdParams } from "../../lib/schemas.js";
import type { AuthService } from "./auth.service.js";
import { currentUser } from "./auth.plugin.js";
import { AVATAR_MAX_BYTES } from "./avatar-image.js";
import { authRateLimit, setSessionCookies } from "./users-http.js";
import type { UserService } from "./user.service.js";
import {
  AdminUpdateBody,
  AdminUser,
  AvatarParams,
  AvatarQuery,
  ChangePasswordBody,
  DeleteMeBody,
  Me,
  PublicUser,
  TokenPair,
  UpdateMeBody,
  UserListQuery,
  UserPage,
  errors,
  type AvatarSize,
} from "./user.schemas.js";

/** Versioned avatar URLs never change content: cache them for a year. Unversioned ones briefly. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const SHORT = "public, max-age=60";

export async function userRoutes(root: App, opts: { users: UserService; auth: AuthService; config: Config }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { users, auth, config } = opts;
  const tags = ["users"];

  // Scoped to these routes (this plugin is encapsulated): only the avatar upload takes multipart.
  await app.register(multipart, { limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 10, parts: 11, headerPairs: 100 } });

  app.get(
    "/api/users/me/",
    {
      config: { auth: { required: true } },
      schema: { tags, summary: "The signed-in account", security: [{ bearer: [] }], response: { 200: Me, ...errors(401) } },
    },
    async (req) => users.me(currentUser(req).id, req.publicBase),
  );

  app.patch(
    "/api/users/me/",
    {
      // the strict limit: an email change checks the password (brute force)
      config: { auth: { right: "profile:edit" }, rateLimit: authRateLimit(config) },
      schema: {
        tags,
        summary: "Edit the signed-in account",
        description:
          "username, email, display_name, bio. A new `email` needs the current password in `old_password` (400 `password_required`, " +
          "`wrong_password`) and is not applied yet: a single-use token (EMAIL_CHANGE_TTL) is emailed to the new address and the old " +
          "address is told; the answer shows it as `pending_email` until `POST /api/auth/email-change/confirm/` receives the token, " +
          "which changes the address and ends every other session. Role and activation are changed by admins (PATCH /api/users/{id}/).",
        security: [{ bearer: [] }],
        body: UpdateMeBody,
        response: { 200: Me, ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (req) => users.updateMe(currentUser(req), req.body, req.publicBase),
  );

  app.delete(
    "/api/users/me/",
    {
      config: { auth: { required: true }, rateLimit: authRateLimit(config) },
      schema: {
        tags,
        summary: "Delete the signed-in account",
        description:
          "Requires the password. The account is deactivated and every token revoked at once; then its avatar, videos and " +
          "files are removed and the account deleted. The last active admin cannot delete their account (409 `last_admin`).",
        security: [{ bearer: [] }],
        body: DeleteMeBody,
        response: { 204: Type.Null({ description: "Deleted" }), ...errors(400, 401, 409, 429) },
      },
    },
    async (req, reply) => {
      await users.deleteAccount(currentUser(req).id, req.body.password);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/users/me/password/",
    {
      config: { auth: { required: true }, rateLimit: authRateLimit(config) },
      schema: {
        tags,
        summary: "Change the password",
        description:
          "Checks the old password, applies the password rules, ends every session (all refresh and access tokens) and returns a fresh token pair. " +
          "With `\"cookie\": true` (a browser session) the new refresh token is instead set as the httpOnly refresh cookie, with a new " +
          "`vidflux_csrf` cookie, as at login: the body's `refresh` is null and the browser stays signed in without signing in again.",
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 200: TokenPair, ...errors(400, 401, 429) },
      },
    },
    async (req, reply) => {
      const pair = await auth.changePassword(currentUser(req).id, req.body);
      if (!req.body.cookie) return pair;
      setSessionCookies(reply, config, pair.refresh);
      return { access: pair.access, refresh: null };
    },
  );

  app.put(
    "/api/users/me/avatar/",
    {
      config: { auth: { right: "profile:edit" } },
      schema: {
        tags,
        summary: "Upload an avatar",
        description:
          "multipart/form-data with the image in the field `file` (max 5 MB). JPEG, PNG, GIF, WebP or AVIF, recognised by " +
          "content, not name; re-encoded to 256x256 and 64x64 WebP. Others: 415; larger: 413.",
        security: [{ bearer: [] }],
        // Documentation only: this schema has no `type`, so it accepts the (unparsed) multipart body.
        body: {
          content: {
            "multipart/form-data": {
              schema: { properties: { file: { type: "string", format: "binary", description: "the image" } }, required: ["file"] },
            },
          },
        },
        response: { 200: Me, ...errors(400, 401, 403, 413, 415) },
      },
    },
    async (req) => {
      const file = await req.file();
      if (!file || file.fieldname !== "file") {
        file?.file.resume();
        throw fieldError("file_required", "Send the image as the multipart field `file`.", "body", "file");
      }
      const bytes = await file.toBuffer();
      return users.setAvatar(currentUser(req).id, bytes, req.publicBase);
    },
  );

  app.delete(
    "/api/users/me/avatar/",
    {
      config: { auth: { right: "profile:edit" } },
      schema: {
        tags,
        summary: "Remove the avatar",
        security: [{ bearer: [] }],
        response: { 204: Type.Null({ description: "Removed (or there was none)" }), ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      await users.removeAvatar(currentUser(req).id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/users/:id/avatar/:size/",
    {
      schema: {
        tags,
        summary: "An avatar image",
        description: "WebP. With the `?v=` of the user's `avatar` URLs the response is cacheable forever; it changes with every upload.",
        params: AvatarParams,
        querystring: AvatarQuery,
        response: {
          200: { description: "The image", content: { "image/webp": { schema: { type: "string", format: "binary" } } } },
          304: Type.Null({ description: "Not modified" }),
          ...errors(400, 404),
        },
      },
    },
    async (req, reply) => {
      const size = Number(req.params.size) as AvatarSize;
      const img = await users.avatar(req.params.id, size);
      const etag = `"${img.version}-${size}"`;
      reply.header("etag", etag).header("cache-control", req.query.v === img.version ? IMMUTABLE : SHORT);
      if (req.headers["if-none-match"]?.split(/\s*,\s*/).includes(etag)) {
        img.body.destroy();
        return reply.status(304).send(null);
      }
      return reply.type("image/webp").header("content-length", img.size).send(img.body);
    },
  );

  app.get(
    "/api/users/:id/",
    {
      schema: { tags, summary: "A public profile", params: IdParams, response: { 200: PublicUser, ...errors(400, 404) } },
    },
    async (req) => users.profile(req.params.id, req.publicBase),
  );

  app.get(
    "/api/users/",
    {
      config: { auth: { right: "user:manage" } },
      schema: {
        tags,
        summary: "List and search accounts (admins)",
        description: "Newest first. `?search=` matches the username, email or display name; `?limit=` and `?cursor=` paginate.",
        security: [{ bearer: [] }],
        querystring: UserListQuery,
        response: { 200: UserPage, ...errors(400, 401, 403) },
      },
    },
    async (req) => users.list(req.query, req.url, req.publicBase),
  );

  app.patch(
    "/api/users/:id/",
    {
      config: { auth: { right: "user:manage" } },
      schema: {
        tags,
        summary: "Change an account's role or activation (admins)",
        description:
          "Nobody raises their own role; the last active admin cannot be demoted or deactivated (409 `last_admin`). " +
          "Deactivation revokes every token of the account.",
        security: [{ bearer: [] }],
        params: IdParams,
        body: AdminUpdateBody,
        response: { 200: AdminUser, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => users.adminUpdate(currentUser(req), req.params.id, req.body, req.publicBase),
  );
}
