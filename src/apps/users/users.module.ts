/**
 * Wires the users domain from the AppContext: one repository, the hasher, the two services and
 * their routes. Test fixtures and the createsuperuser command build the same services.
 */
import type { App } from "../../lib/app.types.js";
import type { AppContext } from "../../context.js";
import { AuthService } from "./auth.service.js";
import { authRoutes } from "./auth.routes.js";
import { PasswordHasher } from "./password-hasher.js";
import { UserRepository } from "./user.repository.js";
import { userRoutes } from "./user.routes.js";
import { UserService } from "./user.service.js";

export interface UsersServices {
  repo: UserRepository;
  hasher: PasswordHasher;
  users: UserService;
  auth: AuthService;
}

export function createUsersServices(ctx: Pick<AppContext, "config" | "logger" | "db" | "tokens" | "storage" | "mailer" | "userHooks">): UsersServices {
  const repo = new UserRepository(ctx.db, ctx.config.db.kind);
  const hasher = PasswordHasher.fromConfig(ctx.config);
  const users = new UserService({ repo, hasher, storage: ctx.storage, hooks: ctx.userHooks, config: ctx.config, logger: ctx.logger });
  const auth = new AuthService({ repo, hasher, tokens: ctx.tokens, mailer: ctx.mailer, users, config: ctx.config, logger: ctx.logger });
  return { repo, hasher, users, auth };
}

export async function registerUsersDomain(app: App, ctx: AppContext): Promise<UsersServices> {
  const services = createUsersServices(ctx);
  await app.register(authRoutes, { auth: services.auth, config: ctx.config });
  await app.register(userRoutes, { users: services.users, auth: services.auth, config: ctx.config });
  return services;
}
