/**
 * The users domain, built once by the composition root (src/composition.ts): the token service
 * (JWT keys), one repository, the hasher, the services, the hooks other domains plug into, the
 * session revocations other domains' long-lived connections watch, and the routes. Nothing here
 * is looked up later: every consumer is handed what it needs.
 */
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import type { Db } from "../../platform/db/db.js";
import type { StateHub } from "../../platform/events/state-hub.js";
import type { Mailer } from "../../platform/mail/mailer.js";
import type { Storage } from "../../platform/storage/storage.js";
import { AuthService } from "./auth.service.js";
import { authRoutes } from "./auth.routes.js";
import { EmailChangeService } from "./email-change.service.js";
import { SessionRevocations } from "./session-revocations.js";
import { PasswordHasher } from "./password-hasher.js";
import { TokenService } from "./token.service.js";
import { UserHooks } from "./user-hooks.js";
import { UserRepository } from "./user.repository.js";
import { userRoutes } from "./user.routes.js";
import { UserService } from "./user.service.js";

export interface UsersDeps {
  config: Config;
  logger: Logger;
  db: Db;
  storage: Storage;
  mailer: Mailer;
  /** session-end announcements reach the other API processes through it */
  hub: StateHub;
}

/** What account administration needs and nothing more: the table and the password hasher. */
export interface AccountStore {
  repo: UserRepository;
  hasher: PasswordHasher;
}

export function createAccountStore(deps: Pick<UsersDeps, "db" | "config">): AccountStore {
  return { repo: new UserRepository(deps.db, deps.config.db.kind), hasher: PasswordHasher.fromConfig(deps.config) };
}

export interface UsersModule {
  tokens: TokenService;
  repo: UserRepository;
  hasher: PasswordHasher;
  users: UserService;
  auth: AuthService;
  emailChanges: EmailChangeService;
  /** ended sessions: long-lived connections (WebSocket, SSE) watch theirs here */
  sessions: SessionRevocations;
  /** where other domains plug in: quota used, removal of a deleted account's content */
  hooks: UserHooks;
  /** subscribes to session-end announcements and starts their periodic re-check */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function createUsersModule(deps: UsersDeps): Promise<UsersModule> {
  const tokens = await TokenService.create(deps.config);
  const hooks = new UserHooks();
  const { repo, hasher } = createAccountStore(deps);
  const { config, logger, mailer } = deps;
  const sessions = new SessionRevocations({ hub: deps.hub, repo, logger });
  const emailChanges = new EmailChangeService({ repo, hasher, mailer, sessions, config, logger });
  const users = new UserService({ repo, hasher, storage: deps.storage, hooks, emailChanges, sessions, config, logger });
  const auth = new AuthService({ repo, hasher, tokens, mailer, users, sessions, config, logger });
  return { tokens, repo, hasher, users, auth, emailChanges, sessions, hooks, start: () => sessions.start(), close: () => sessions.close() };
}

export async function registerUsersRoutes(app: App, mod: UsersModule, config: Config): Promise<void> {
  await app.register(authRoutes, { auth: mod.auth, emailChanges: mod.emailChanges, config });
  await app.register(userRoutes, { users: mod.users, auth: mod.auth, config });
}
