import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hash } from "@node-rs/argon2";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, DEFAULT_PASSWORD, emailChangeTokenFromEmail, resetTokenFromEmail, sentEmails, usersServices } from "../../test/users.fixtures.js";
import { sha256 } from "./auth.service.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, payload?: unknown, extra: { headers?: Record<string, string>; cookies?: Record<string, string> } = {}) =>
  h.app.inject({ method: "POST", url, ...(payload === undefined ? {} : { payload: payload as object }), ...extra });
const me = (access: string) => h.app.inject({ url: "/api/users/me/", headers: authHeader(access) });
const countUsers = async () => Number((await h.ctx.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

describe("POST /api/auth/register/", () => {
  it("creates a `user` account, normalizes the email and signs it in", async () => {
    const r = await post("/api/auth/register/", { username: "Reg_Alice", email: "  Alice.Reg@Example.COM ", password: "violet-umbrella-42", display_name: " Alice " });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body.user).toMatchObject({ username: "Reg_Alice", email: "Alice.Reg@example.com", role: "user", display_name: "Alice", is_active: true, avatar: null, quota: { used_bytes: 0 } });
    expect(body.user.last_login).toBeTypeOf("string");
    expect(body.user).not.toHaveProperty("password_hash");
    expect((await me(body.access)).json().id).toBe(body.user.id);
    const row = await h.ctx.db.selectFrom("users").selectAll().where("id", "=", body.user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.username_key).toBe("reg_alice");
  });

  it("refuses a username or email already taken, ignoring case", async () => {
    await post("/api/auth/register/", { username: "Dup_User", email: "dup@example.com", password: "violet-umbrella-42" });
    const before = await countUsers();
    const u = await post("/api/auth/register/", { username: "dup_USER", email: "other@example.com", password: "violet-umbrella-42" });
    expect(u.statusCode).toBe(409);
    expect(u.json().error).toMatchObject({ code: "username_taken", details: [{ location: "body", field: "username", code: "username_taken", message: expect.any(String) }] });
    const e = await post("/api/auth/register/", { username: "dup_other", email: "DUP@example.com", password: "violet-umbrella-42" });
    expect(e.statusCode).toBe(409);
    expect(e.json().error.code).toBe("email_taken");
    expect(await countUsers()).toBe(before);
  });

  it.each([
    ["short7!", "password_too_short"],
    ["8412345678901", "password_entirely_numeric"],
    ["superman123", "password_too_common"],
    ["rulesuser1", "password_too_similar"],
  ])("refuses the password %j with 400 %s and stores nothing", async (password, code) => {
    const before = await countUsers();
    const r = await post("/api/auth/register/", { username: "rulesuser", email: "rules@example.com", password });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe(code);
    expect(await countUsers()).toBe(before);
  });
});

describe("POST /api/auth/login/", () => {
  it("signs in by username (any case), by email, or by an email given as username", async () => {
    const u = await createUser(h, { username: "LoginUser", email: "login.user@example.com" });
    for (const payload of [
      { username: "loginuser", password: u.password },
      { email: "login.user@EXAMPLE.com", password: u.password },
      { email: "Login.User@example.com", password: u.password },
      { username: "login.user@example.com", password: u.password },
    ]) {
      const r = await post("/api/auth/login/", payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(200);
      const body = r.json();
      expect(body.user.id).toBe(u.user.id);
      expect(body.refresh).toBeTypeOf("string");
      expect((await me(body.access)).statusCode).toBe(200);
    }
  });

  it("answers the same 401 for a wrong password and an unknown account", async () => {
    const u = await createUser(h);
    const wrong = await post("/api/auth/login/", { username: u.user.username, password: "not-the-password" });
    const unknown = await post("/api/auth/login/", { username: "nobody_here", password: "not-the-password" });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe("invalid_credentials");
  });

  it("tells a deactivated account so only with the right password", async () => {
    const u = await createUser(h, { isActive: false });
    expect((await post("/api/auth/login/", { username: u.user.username, password: "wrong-password" })).json().error.code).toBe("invalid_credentials");
    const r = await post("/api/auth/login/", { username: u.user.username, password: u.password });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe("user_inactive");
  });

  it("requires a username or an email", async () => {
    const r = await post("/api/auth/login/", { password: "whatever-it-is" });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe("validation_error");
  });

  it("upgrades a hash made with other argon2 parameters", async () => {
    const u = await createUser(h);
    const old = await hash(u.password, { memoryCost: 2048, timeCost: 1 });
    await h.ctx.db.updateTable("users").set({ password_hash: old }).where("id", "=", u.user.id).execute();
    expect((await post("/api/auth/login/", { username: u.user.username, password: u.password })).statusCode).toBe(200);
    const row = await h.ctx.db.selectFrom("users").select("password_hash").where("id", "=", u.user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).not.toBe(old);
    expect(row.password_hash).toContain(`m=${h.config.auth.argon2.memoryCostKiB},`);
  });
});

describe("POST /api/auth/token/refresh/", () => {
  it("rotates: a new pair each time, the old refresh dies", async () => {
    const u = await createUser(h);
    const r1 = await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect(r1.statusCode).toBe(200);
    const p1 = r1.json();
    expect(p1.refresh).not.toBe(u.refresh);
    expect((await me(p1.access)).statusCode).toBe(200);
    const r2 = await post("/api/auth/token/refresh/", { refresh: p1.refresh });
    expect(r2.statusCode).toBe(200);
    const rows = await h.ctx.db.selectFrom("refresh_tokens").selectAll().where("user_id", "=", u.user.id).execute();
    expect(rows).toHaveLength(3);
    expect(rows.filter((t) => t.revoked_at === null)).toHaveLength(1);
    expect(new Set(rows.map((t) => t.family_id)).size).toBe(1);
    // only hashes are stored
    expect(rows.map((t) => t.token_hash)).toContain(sha256(r2.json().refresh));
  });

  it("re-use of a rotated token revokes the whole family (401 token_reused), not other sessions", async () => {
    const u = await createUser(h);
    const other = await usersServices(h).auth.issueTokens({ id: u.user.id, token_version: 0 });
    const next = (await post("/api/auth/token/refresh/", { refresh: u.refresh })).json().refresh as string;
    const reuse = await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error.code).toBe("token_reused");
    // the thief's (or victim's) newer token of that family is dead too
    const after = await post("/api/auth/token/refresh/", { refresh: next });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe("token_revoked");
    // another sign-in of the same user is untouched
    expect((await post("/api/auth/token/refresh/", { refresh: other.refresh })).statusCode).toBe(200);
  });

  it("lets exactly one of two concurrent refreshes with the same token win", async () => {
    const u = await createUser(h);
    const [a, b] = await Promise.all([post("/api/auth/token/refresh/", { refresh: u.refresh }), post("/api/auth/token/refresh/", { refresh: u.refresh })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 401]);
    expect([a, b].find((r) => r.statusCode === 401)!.json().error.code).toBe("token_reused");
  });

  it("refuses an access token, garbage, and a deactivated account's token", async () => {
    const u = await createUser(h);
    const wrongType = await post("/api/auth/token/refresh/", { refresh: u.access });
    expect(wrongType.statusCode).toBe(401);
    expect(wrongType.json().error.code).toBe("token_wrong_type");
    const garbage = await post("/api/auth/token/refresh/", { refresh: "not.a.jwt" });
    expect(garbage.statusCode).toBe(401);
    expect(garbage.json().error.code).toBe("token_invalid");
    await h.ctx.db.updateTable("users").set({ is_active: 0 }).where("id", "=", u.user.id).execute();
    const inactive = await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect(inactive.statusCode).toBe(401);
    expect(inactive.json().error.code).toBe("user_inactive");
  });

  it("needs a token from the body or the cookie", async () => {
    const r = await post("/api/auth/token/refresh/");
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe("refresh_required");
  });
});

describe("POST /api/auth/logout/", () => {
  it("revokes the session; the refresh token is then refused", async () => {
    const u = await createUser(h);
    const r = await post("/api/auth/logout/", { refresh: u.refresh });
    expect(r.statusCode).toBe(204);
    expect(r.body).toBe("");
    const again = await post("/api/auth/token/refresh/", { refresh: u.refresh });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe("token_revoked");
  });

  it("refuses a forged token and needs one", async () => {
    const forged = await post("/api/auth/logout/", { refresh: "eyJhbGciOiJIUzI1NiJ9.e30.AAAA" });
    expect(forged.statusCode).toBe(401);
    expect((await post("/api/auth/logout/", {})).statusCode).toBe(400);
  });
});

describe("cookie sessions and CSRF", () => {
  async function cookieLogin() {
    const u = await createUser(h);
    const r = await post("/api/auth/login/", { username: u.user.username, password: u.password, cookie: true });
    expect(r.statusCode).toBe(200);
    expect(r.json().refresh).toBeNull();
    const refresh = r.cookies.find((c) => c.name === "vidflux_refresh")!;
    const csrf = r.cookies.find((c) => c.name === "vidflux_csrf")!;
    return { u, refresh, csrf, access: r.json().access as string };
  }

  it("sets an httpOnly SameSite=Strict refresh cookie on /api/auth/ and a readable CSRF cookie", async () => {
    const { refresh, csrf } = await cookieLogin();
    expect(refresh).toMatchObject({ path: "/api/auth/", httpOnly: true, sameSite: "Strict", maxAge: h.config.auth.refreshTtlS });
    expect(refresh.secure).toBeFalsy();
    expect(csrf.httpOnly).toBeFalsy();
    expect(csrf).toMatchObject({ path: "/", sameSite: "Strict" });
    expect(csrf.value.length).toBeGreaterThanOrEqual(32);
  });

  it("refreshes with the cookie only when X-CSRF-Token repeats the CSRF cookie", async () => {
    const { refresh, csrf } = await cookieLogin();
    const cookies = { vidflux_refresh: refresh.value, vidflux_csrf: csrf.value };
    const attempts: Record<string, string>[] = [{}, { "x-csrf-token": "wrong" }, { "x-csrf-token": csrf.value + "x" }];
    for (const headers of attempts) {
      const r = await post("/api/auth/token/refresh/", undefined, { cookies, headers });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe("csrf_failed");
    }
    // the header without the CSRF cookie proves nothing
    const noCookie = await post("/api/auth/token/refresh/", undefined, { cookies: { vidflux_refresh: refresh.value }, headers: { "x-csrf-token": csrf.value } });
    expect(noCookie.statusCode).toBe(403);
    const ok = await post("/api/auth/token/refresh/", undefined, { cookies, headers: { "x-csrf-token": csrf.value } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().refresh).toBeNull();
    expect((await me(ok.json().access)).statusCode).toBe(200);
    const rotated = ok.cookies.find((c) => c.name === "vidflux_refresh")!;
    expect(rotated.value).not.toBe(refresh.value);
    expect(ok.cookies.find((c) => c.name === "vidflux_csrf")!.value).toBe(csrf.value);
  });

  it("prefers a body token (no CSRF needed) over the cookie", async () => {
    const { u, refresh } = await cookieLogin();
    const r = await post("/api/auth/token/refresh/", { refresh: u.refresh }, { cookies: { vidflux_refresh: refresh.value } });
    expect(r.statusCode).toBe(200);
    expect(r.json().refresh).toBeTypeOf("string");
  });

  it("logs out with the cookie and CSRF header, clearing both cookies", async () => {
    const { refresh, csrf } = await cookieLogin();
    const cookies = { vidflux_refresh: refresh.value, vidflux_csrf: csrf.value };
    expect((await post("/api/auth/logout/", undefined, { cookies })).statusCode).toBe(403);
    const r = await post("/api/auth/logout/", undefined, { cookies, headers: { "x-csrf-token": csrf.value } });
    expect(r.statusCode).toBe(204);
    const cleared = Object.fromEntries(r.cookies.map((c) => [c.name, c]));
    expect(cleared.vidflux_refresh!.value).toBe("");
    expect(cleared.vidflux_csrf!.value).toBe("");
    const after = await post("/api/auth/token/refresh/", { refresh: refresh.value });
    expect(after.json().error.code).toBe("token_revoked");
  });
});

describe("password reset", () => {
  it("emails a single-use token that sets a new password and ends every session", async () => {
    const u = await createUser(h, { email: "reset.me@example.com" });
    const r = await post("/api/auth/password-reset/", { email: "Reset.Me@EXAMPLE.com" });
    expect(r.statusCode).toBe(202);
    const token = await resetTokenFromEmail(h, "reset.me@example.com");
    const mail = (await sentEmails(h)).find((m) => m.headers.to?.includes("reset.me@example.com"))!;
    expect(mail.headers.subject).toBe("Password reset on vidflux");
    expect(mail.text).toContain(u.user.username);
    // without PUBLIC_URL the email has paths only: the Host header is the client's to choose
    expect(mail.text).toContain(`on this page of the site: /#/reset?token=${token}\n`);
    expect(mail.text).toContain("POST /api/auth/password-reset/confirm/");
    expect(mail.text).not.toContain("localhost");
    // only the hash is stored
    const rows = await h.ctx.db.selectFrom("password_reset_tokens").selectAll().where("user_id", "=", u.user.id).execute();
    expect(rows.map((t) => t.token_hash)).toEqual([sha256(token)]);

    const weak = await post("/api/auth/password-reset/confirm/", { token, new_password: "short" });
    expect(weak.json().error.code).toBe("password_too_short");
    const ok = await post("/api/auth/password-reset/confirm/", { token, new_password: "a-brand-new-passphrase" });
    expect(ok.statusCode).toBe(204);
    expect((await post("/api/auth/login/", { username: u.user.username, password: "a-brand-new-passphrase" })).statusCode).toBe(200);
    expect((await post("/api/auth/login/", { username: u.user.username, password: DEFAULT_PASSWORD })).statusCode).toBe(401);
    expect((await me(u.access)).json().error.code).toBe("token_revoked");
    expect((await post("/api/auth/token/refresh/", { refresh: u.refresh })).json().error.code).toBe("token_revoked");
    const reuse = await post("/api/auth/password-reset/confirm/", { token, new_password: "another-new-passphrase" });
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().error.code).toBe("reset_token_invalid");
  });

  it("answers the same for unknown and deactivated accounts, and sends nothing", async () => {
    const inactive = await createUser(h, { email: "sleeping@example.com", isActive: false });
    const before = (await sentEmails(h)).length;
    const a = await post("/api/auth/password-reset/", { email: "nobody@example.com" });
    const b = await post("/api/auth/password-reset/", { email: inactive.user.email });
    const c = await post("/api/auth/password-reset/", { email: "not an email" });
    for (const r of [a, b, c]) {
      expect(r.statusCode).toBe(202);
      expect(r.json()).toEqual(a.json());
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((await sentEmails(h)).length).toBe(before);
  });

  it("refuses expired and unknown tokens", async () => {
    const u = await createUser(h, { email: "expire.me@example.com" });
    await post("/api/auth/password-reset/", { email: u.user.email });
    const token = await resetTokenFromEmail(h, u.user.email);
    await h.ctx.db.updateTable("password_reset_tokens").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("user_id", "=", u.user.id).execute();
    for (const t of [token, "x".repeat(43)]) {
      const r = await post("/api/auth/password-reset/confirm/", { token: t, new_password: "a-brand-new-passphrase" });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe("reset_token_invalid");
    }
  });

  it("an email change invalidates an outstanding reset token", async () => {
    const u = await createUser(h, { email: "moving.out@example.com" });
    await post("/api/auth/password-reset/", { email: u.user.email });
    const token = await resetTokenFromEmail(h, u.user.email);
    const ch = await h.app.inject({ method: "PATCH", url: "/api/users/me/", headers: authHeader(u.access), payload: { email: "moved.in@example.com", old_password: u.password } });
    expect(ch.statusCode).toBe(200);
    const confirmed = await post("/api/auth/email-change/confirm/", { token: await emailChangeTokenFromEmail(h, "moved.in@example.com") });
    expect(confirmed.statusCode).toBe(204);
    const r = await post("/api/auth/password-reset/confirm/", { token, new_password: "a-brand-new-passphrase" });
    expect(r.json().error.code).toBe("reset_token_invalid");
  });

  it("a password change invalidates an outstanding reset token", async () => {
    const u = await createUser(h, { email: "change.first@example.com" });
    await post("/api/auth/password-reset/", { email: u.user.email });
    const token = await resetTokenFromEmail(h, u.user.email);
    const ch = await h.app.inject({ method: "POST", url: "/api/users/me/password/", headers: authHeader(u.access), payload: { old_password: u.password, new_password: "changed-passphrase-1" } });
    expect(ch.statusCode).toBe(200);
    const r = await post("/api/auth/password-reset/confirm/", { token, new_password: "a-brand-new-passphrase" });
    expect(r.json().error.code).toBe("reset_token_invalid");
  });
});
