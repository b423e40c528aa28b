/**
 * Roles and rights: one table, checked by one guard (`requireRight` in auth.plugin.ts) on every
 * protected route. Roles are ordered; each role has its own rights plus those of the roles below.
 */
export const ROLES = ["guest", "user", "uploader", "moderator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const RIGHTS = [
  "video:view",
  "video:react",
  "comment:create",
  "profile:edit",
  "video:upload",
  "video:moderate",
  "comment:moderate",
  "video:reprocess",
  "user:manage",
] as const;
export type Right = (typeof RIGHTS)[number];

const OWN_RIGHTS: Record<Role, readonly Right[]> = {
  // guest: a stored account that may only watch (an invited viewer), and every anonymous request.
  guest: ["video:view"],
  user: ["video:react", "comment:create", "profile:edit"],
  uploader: ["video:upload"],
  moderator: ["video:moderate", "comment:moderate"],
  admin: ["video:reprocess", "user:manage"],
};

const inherited = (role: Role): ReadonlySet<Right> =>
  new Set(ROLES.slice(0, ROLES.indexOf(role) + 1).flatMap((r) => OWN_RIGHTS[r]));

export const PERMISSIONS: Record<Role, ReadonlySet<Right>> = {
  guest: inherited("guest"),
  user: inherited("user"),
  uploader: inherited("uploader"),
  moderator: inherited("moderator"),
  admin: inherited("admin"),
};

export function can(role: Role, right: Right): boolean {
  return PERMISSIONS[role].has(right);
}

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}
