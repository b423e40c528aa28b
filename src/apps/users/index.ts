/**
 * The users domain's public face: other domains and the composition root import this file only.
 * Accounts, roles and rights, authentication of requests, and the token service that signs
 * access, refresh and playback tokens.
 */
export { createAccountStore, createUsersModule, registerUsersRoutes, type AccountStore, type UsersDeps, type UsersModule } from "./users.module.js";
export { authPlugin, authenticate, currentUser, type AuthUser, type RouteAuth } from "./auth.plugin.js";
export { can, isRole, roleRank, ROLES, RIGHTS, PERMISSIONS, type Right, type Role } from "./permissions.js";
export type { TokenService, AccessClaims, RefreshClaims, TokenType } from "./token.service.js";
export type { UserHooks, AccountCleanup, QuotaUsedFn } from "./user-hooks.js";
export type { SessionRevocations, SessionsEnded } from "./session-revocations.js";
export { avatarPath, type UserService } from "./user.service.js";
export type { AuthService } from "./auth.service.js";
export { createAccount } from "./auth.service.js";
export { usernameKey, validEmail, validUsername } from "./user-identity.js";
export { passwordViolations } from "./password-rules.js";
