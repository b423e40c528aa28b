/**
 * Request and response shapes of the users and auth routes (TypeBox: validated by Fastify,
 * rendered into the OpenAPI document). JSON is snake_case. Responses are serialized through
 * these schemas, so a field missing here (password_hash, token_version) can never leak.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Nullable } from "../../lib/schemas.js";
import { PageQuery, Page, pageExample } from "../../lib/pagination.js";

export { errors } from "../../lib/schemas.js";

const USER_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const PUBLIC_EXAMPLE = {
  id: USER_ID,
  username: "alice",
  display_name: "Alice",
  bio: "Travel videos",
  role: "uploader",
  avatar: { "256": `/api/users/${USER_ID}/avatar/256/?v=k3j2`, "64": `/api/users/${USER_ID}/avatar/64/?v=k3j2` },
  date_joined: "2026-01-02T03:04:05.000Z",
};
const ADMIN_EXAMPLE = { ...PUBLIC_EXAMPLE, email: "alice@example.com", is_active: true, last_login: "2026-01-03T08:00:00.000Z" };
const ME_EXAMPLE = { ...ADMIN_EXAMPLE, quota: { used_bytes: 57_000_000, limit_bytes: 53_687_091_200 }, pending_email: null };
// Shortened JWTs: examples, not tokens.
const ACCESS_EXAMPLE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJl";
const REFRESH_EXAMPLE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoicmVmcmVzaCJ9.c2lnbmF0dXJl";
import { ROLES, type Role } from "./permissions.js";

/** Django's UnicodeUsernameValidator: letters, digits (any script) and @ . + - _ */
export const USERNAME_PATTERN = "^[\\p{L}\\p{M}\\p{N}_.@+\\-]+$";
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 150;
/** Surrounding spaces are trimmed by the service; the shape check is deliberately loose (the mail server is the real judge). */
export const EMAIL_PATTERN = "^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$";
/** argon2 accepts any length; the cap keeps a request from making it hash megabytes. */
export const PASSWORD_MAX = 1024;
export const AVATAR_SIZES = [256, 64] as const;
export type AvatarSize = (typeof AVATAR_SIZES)[number];

export const RoleSchema = Type.Unsafe<Role>({ type: "string", enum: [...ROLES], description: "guest < user < uploader < moderator < admin" });

const Username = Type.String({ minLength: USERNAME_MIN, maxLength: USERNAME_MAX, pattern: USERNAME_PATTERN, description: "3-150 letters, digits or @.+-_ (any script); unique ignoring case" });
const Email = Type.String({ maxLength: 254, pattern: EMAIL_PATTERN, description: "unique; the domain is lower-cased" });
const NewPassword = Type.String({ maxLength: PASSWORD_MAX, description: "8+ characters, not entirely numeric, not common, not close to the username/email" });
const AnyPassword = Type.String({ maxLength: PASSWORD_MAX });
const DisplayName = Type.String({ maxLength: 150 });
const Bio = Type.String({ maxLength: 2000 });
const Cookie = Type.Boolean({
  description: "Also set the refresh token as an httpOnly SameSite=Strict cookie on /api/auth/ (plus a readable `vidflux_csrf` cookie); the body's `refresh` is then null.",
});

export const AvatarUrls = Nullable(
  Type.Object(
    { "256": Type.String({ description: "256x256 WebP" }), "64": Type.String({ description: "64x64 WebP" }) },
    { description: "Avatar image URLs, or null without an avatar" },
  ),
);

const publicFields = {
  id: Type.String({ format: "uuid" }),
  username: Type.String(),
  display_name: Type.String(),
  bio: Type.String(),
  role: RoleSchema,
  avatar: AvatarUrls,
  date_joined: Type.String({ format: "date-time" }),
};

/** What anyone may see of an account: no email, no activity dates. */
export const PublicUser = Type.Object(publicFields, { description: "A public profile", examples: [PUBLIC_EXAMPLE] });
export type PublicUser = Static<typeof PublicUser>;

const privateFields = {
  ...publicFields,
  email: Type.String(),
  is_active: Type.Boolean(),
  last_login: Nullable(Type.String({ format: "date-time" })),
};

/** An account as its admins see it. */
export const AdminUser = Type.Object(privateFields, { description: "An account, as admins see it", examples: [ADMIN_EXAMPLE] });
export type AdminUser = Static<typeof AdminUser>;

export const Quota = Type.Object({
  used_bytes: Type.Integer({ minimum: 0, description: "bytes of stored videos counted against the quota" }),
  limit_bytes: Type.Integer({ minimum: 0, description: "USER_VIDEO_QUOTA" }),
});

/** The caller's own account. */
export const Me = Type.Object(
  {
    ...privateFields,
    quota: Quota,
    pending_email: Nullable(Type.String({ description: "a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed" })),
  },
  { description: "The signed-in account", examples: [ME_EXAMPLE] },
);
export type Me = Static<typeof Me>;

export const AuthResponse = Type.Object(
  {
    access: Type.String({ description: "access JWT, for `Authorization: Bearer`" }),
    refresh: Nullable(Type.String({ description: "refresh JWT (null when it was set as a cookie)" })),
    user: Me,
  },
  { description: "Signed in: the tokens and the account", examples: [{ access: ACCESS_EXAMPLE, refresh: REFRESH_EXAMPLE, user: ME_EXAMPLE }] },
);
export type AuthResponse = Static<typeof AuthResponse>;

export const TokenPair = Type.Object(
  {
    access: Type.String(),
    refresh: Nullable(Type.String({ description: "the new refresh JWT (null when it was set as a cookie)" })),
  },
  { description: "A fresh token pair", examples: [{ access: ACCESS_EXAMPLE, refresh: REFRESH_EXAMPLE }] },
);
export type TokenPair = Static<typeof TokenPair>;

export const Detail = Type.Object(
  { detail: Type.String() },
  { description: "Accepted", examples: [{ detail: "If an account uses this email address, a password reset token has been sent to it." }] },
);

// ---- request bodies -------------------------------------------------------------------------

export const RegisterBody = Type.Object(
  {
    username: Username,
    email: Email,
    password: NewPassword,
    display_name: Type.Optional(DisplayName),
    cookie: Type.Optional(Cookie),
  },
  { additionalProperties: false, examples: [{ username: "alice", email: "alice@example.com", password: "correct horse battery staple", cookie: true }] },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: "a username, or an email address" })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    password: AnyPassword,
    cookie: Type.Optional(Cookie),
  },
  { additionalProperties: false, examples: [{ username: "alice", password: "correct horse battery staple" }, { email: "alice@example.com", password: "correct horse battery staple", cookie: true }] },
);
export type LoginBody = Static<typeof LoginBody>;

export const RefreshBody = Type.Object(
  { refresh: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: "omit to use the refresh cookie (then X-CSRF-Token is required)" })) },
  { additionalProperties: false, examples: [{ refresh: REFRESH_EXAMPLE }, {}] },
);
export type RefreshBody = Static<typeof RefreshBody>;

export const PasswordResetBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false, examples: [{ email: "alice@example.com" }] });
export type PasswordResetBody = Static<typeof PasswordResetBody>;

export const PasswordResetConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), new_password: NewPassword },
  { additionalProperties: false, examples: [{ token: "q9X2vR7tLk0bN4mW8sYc1A", new_password: "another long passphrase" }] },
);
export type PasswordResetConfirmBody = Static<typeof PasswordResetConfirmBody>;

export const EmailChangeConfirmBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false, examples: [{ token: "Zp4Qw8Rt2Yx6Nb0Vc3Lm7K" }] });
export type EmailChangeConfirmBody = Static<typeof EmailChangeConfirmBody>;

export const ChangePasswordBody = Type.Object(
  { old_password: AnyPassword, new_password: NewPassword, cookie: Type.Optional(Cookie) },
  {
    additionalProperties: false,
    examples: [
      { old_password: "correct horse battery staple", new_password: "another long passphrase" },
      { old_password: "correct horse battery staple", new_password: "another long passphrase", cookie: true },
    ],
  },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const DeleteMeBody = Type.Object({ password: AnyPassword }, { additionalProperties: false, examples: [{ password: "correct horse battery staple" }] });
export type DeleteMeBody = Static<typeof DeleteMeBody>;

export const UpdateMeBody = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(
      Type.String({ maxLength: 254, pattern: EMAIL_PATTERN, description: "a new address: needs `old_password`, and changes once the new address confirms it" }),
    ),
    old_password: Type.Optional(Type.String({ maxLength: PASSWORD_MAX, description: "the current password; required to change `email`" })),
    display_name: Type.Optional(DisplayName),
    bio: Type.Optional(Bio),
  },
  {
    additionalProperties: false,
    description: "Only these fields; role and is_active are changed by admins.",
    examples: [{ display_name: "Alice B.", bio: "Travel and food" }, { email: "alice@new.example", old_password: "correct horse battery staple" }],
  },
);
export type UpdateMeBody = Static<typeof UpdateMeBody>;

export const AdminUpdateBody = Type.Object(
  { role: Type.Optional(RoleSchema), is_active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, examples: [{ role: "moderator" }, { is_active: false }] },
);
export type AdminUpdateBody = Static<typeof AdminUpdateBody>;

export const UserListQuery = Type.Object(
  {
    ...PageQuery.properties,
    search: Type.Optional(Type.String({ maxLength: 150, description: "substring of the username, email or display name (case-insensitive)" })),
  },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const UserPage = Page(AdminUser, { description: "A page of accounts", examples: [pageExample("/api/users/", ADMIN_EXAMPLE)] });

export const AvatarParams = Type.Object({
  id: Type.String({ format: "uuid" }),
  size: Type.String({ enum: AVATAR_SIZES.map(String), description: "256 or 64" }),
});
export type AvatarParams = Static<typeof AvatarParams>;

export const AvatarQuery = Type.Object({ v: Type.Optional(Type.String({ maxLength: 64, description: "version, for immutable caching" })) });
export type AvatarQuery = Static<typeof AvatarQuery>;

