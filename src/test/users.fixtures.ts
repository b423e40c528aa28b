/**
 * Accounts for tests of any domain: `createUser(h, { role: "uploader" })` inserts an account
 * straight through the repository (no HTTP, no password-rule checks) and returns it with a live
 * access/refresh pair. Fast: the harness runs with NODE_ENV=test, whose argon2 cost is tiny (see
 * config.auth.argon2), and the hash of the default password is computed once per process.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Harness } from "./app-harness.js";
import { usernameKey, type Role, type UsersModule } from "../apps/users/index.js";
import { newId, nowIso } from "../lib/ids.js";
import { parseEmail, type ParsedEmail } from "../platform/mail/mail.fixtures.js";

export const DEFAULT_PASSWORD = "correct-horse-battery-staple";

export interface TestUser {
  user: { id: string; username: string; email: string; role: Role };
  access: string;
  refresh: string;
  password: string;
}

export interface CreateUserOptions {
  role?: Role;
  username?: string;
  email?: string;
  password?: string;
  displayName?: string;
  isActive?: boolean;
}

const hashes = new Map<string, Promise<string>>();
let seq = 0;

/** The users domain's services for a harness (the very instances the routes use). */
export function usersServices(h: Harness): UsersModule {
  return h.domains.users;
}

export async function createUser(h: Harness, opts: CreateUserOptions = {}): Promise<TestUser> {
  const s = usersServices(h);
  const n = `${process.pid.toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const role = opts.role ?? "user";
  const username = opts.username ?? `${role}_${n}`;
  const email = opts.email ?? `${username.toLowerCase()}@example.com`;
  const password = opts.password ?? DEFAULT_PASSWORD;
  let hash = hashes.get(password);
  if (!hash) hashes.set(password, (hash = s.hasher.hash(password)));
  const row = await s.repo.insert({
    id: newId(),
    username,
    username_key: usernameKey(username),
    email,
    password_hash: await hash,
    role,
    display_name: opts.displayName ?? "",
    bio: "",
    avatar_key: null,
    is_active: opts.isActive === false ? 0 : 1,
    date_joined: nowIso(),
    last_login: null,
  });
  const tokens = await s.auth.issueTokens(row);
  return { user: { id: row.id, username, email, role }, ...tokens, password };
}

export const authHeader = (access: string) => ({ authorization: `Bearer ${access}` });

/** Every email the file backend wrote so far, oldest first. */
export async function sentEmails(h: Harness): Promise<ParsedEmail[]> {
  const dir = h.config.email.fileDir;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.endsWith(".eml")).sort();
  } catch {
    return [];
  }
  return Promise.all(names.map(async (f) => parseEmail(await readFile(path.join(dir, f), "utf8"))));
}

/**
 * Waits for the n-th email to `to` (mail is sent after the response, so it can trail the
 * request by a few milliseconds) and returns it.
 */
export async function waitForEmail(h: Harness, to: string, count = 1, timeoutMs = 5000): Promise<ParsedEmail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = (await sentEmails(h)).filter((m) => (m.headers.to ?? "").includes(to));
    if (mine.length >= count) return mine[count - 1]!;
    if (Date.now() > deadline) throw new Error(`no email #${count} to ${to} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The password reset token in the latest reset email to `to`. */
export async function resetTokenFromEmail(h: Harness, to: string, count = 1): Promise<string> {
  const mail = await waitForEmail(h, to, count);
  const m = /usable once\):\s*\n\s*\n([A-Za-z0-9_-]{20,})\s*\n/.exec(mail.text);
  if (!m) throw new Error(`no reset token in email:\n${mail.text}`);
  return m[1]!;
}

/** The confirmation token in the `count`-th email to `to` (the new address of an email change). */
export async function emailChangeTokenFromEmail(h: Harness, to: string, count = 1): Promise<string> {
  const mail = await waitForEmail(h, to, count);
  const m = /usable once\):\s*\n\s*\n([A-Za-z0-9_-]{20,})\s*\n/.exec(mail.text);
  if (!m || !mail.text.includes("/api/auth/email-change/confirm/")) throw new Error(`no email change token in email:\n${mail.text}`);
  return m[1]!;
}

/** This process's environment minus some variables, for child processes (CLI tests). */
export function childEnv(drop: string[], set: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.includes(k)) out[k] = v;
  return { ...out, ...set };
}
