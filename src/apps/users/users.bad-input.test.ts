// Bad input: missing fields, wrong types, huge bodies, unicode and SQL-looking strings. Every
// refusal is a clear 4xx in the error format, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser } from "../../test/users.fixtures.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const register = (payload: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: "POST", url: "/api/auth/register/", payload: payload as string, headers });
const countUsers = async () => Number((await h.ctx.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
const good = { username: "good_name", email: "good@example.com", password: "violet-umbrella-42" };

function expectError(r: { statusCode: number; json(): unknown }, status: number, code?: string) {
  expect(r.statusCode).toBe(status);
  const body = r.json() as { error: { code: string; message: string; details: unknown } };
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "message"]);
  expect(body.error.message).toEqual(expect.any(String));
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

describe("registration input", () => {
  it.each(["username", "email", "password"] as const)("names the missing field %s", async (field) => {
    const before = await countUsers();
    const { [field]: _omitted, ...rest } = good;
    const err = expectError(await register(rest), 400, "validation_error");
    expect(err.details).toEqual([{ location: "body", field, code: "required", message: "is required" }]);
    expect(await countUsers()).toBe(before);
  });

  it.each([
    ["username as an object", { ...good, username: { $ne: null } }],
    ["email as an object", { ...good, email: { a: 1 } }],
    ["password as an object", { ...good, password: { length: 20 } }],
    ["cookie as a word", { ...good, cookie: "please" }],
    ["an unknown field", { ...good, role: "admin" }],
    ["a JSON array body", [good]],
    ["a bio too long", { ...good, display_name: "x".repeat(151) }],
  ])("refuses %s", async (_name, payload) => {
    const before = await countUsers();
    expectError(await register(payload), 400, "validation_error");
    expect(await countUsers()).toBe(before);
  });

  it("refuses malformed JSON, other media types and a 10 MB body", async () => {
    const before = await countUsers();
    expectError(await register('{"username": "x",', { "content-type": "application/json" }), 400, "invalid_json");
    expectError(await register("username=x&password=y", { "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type");
    const huge = JSON.stringify({ ...good, display_name: "x".repeat(10 * 1024 * 1024) });
    expectError(await register(huge, { "content-type": "application/json" }), 413, "payload_too_large");
    expect(await countUsers()).toBe(before);
  });
});

describe("unicode usernames", () => {
  it.each(["Zoë_李", "Ελληνικά", "Владимир", "نور.حسن", "देवनागरी", "user+tag@home", "a-b.c_d"])("accepts %s", async (username) => {
    const r = await register({ username, email: `${encodeURIComponent(username).replace(/%/g, "")}@example.com`.toLowerCase(), password: "violet-umbrella-42" });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().user.username).toBe(username.normalize("NFKC"));
  });

  it.each([
    ["emoji", "😀😀😀"],
    ["a space", "john smith"],
    ["too short", "ab"],
    ["too long", "a".repeat(151)],
    ["a zero-width joiner", "ab\u200dcd"],
    ["a slash", "a/b/c"],
    ["a quote", "o'brien"],
  ])("refuses %s", async (_why, username) => {
    const before = await countUsers();
    const r = await register({ username, email: "refused@example.com", password: "violet-umbrella-42" });
    expect(r.statusCode).toBe(400);
    expect(["validation_error", "invalid_username"]).toContain(r.json().error.code);
    expect(await countUsers()).toBe(before);
  });

  it("compares usernames after NFKC folding and ignoring case", async () => {
    const r = await register({ username: "ｆｕｌｌｗｉｄｔｈ", email: "fw@example.com", password: "violet-umbrella-42" });
    expect(r.statusCode).toBe(201);
    expect(r.json().user.username).toBe("fullwidth");
    const dup = await register({ username: "FullWidth", email: "fw2@example.com", password: "violet-umbrella-42" });
    expect(dup.statusCode).toBe(409);
    const dupGreek = await register({ username: "ΕΛΛΗΝΙΚΆ", email: "gr2@example.com", password: "violet-umbrella-42" });
    expect(dupGreek.statusCode).toBe(409);
  });
});

describe("SQL-looking strings", () => {
  it("refuses them as usernames and stores them literally elsewhere", async () => {
    const before = await countUsers();
    for (const username of ["x' OR '1'='1", "robert');DROP TABLE users;--", "admin'--"]) {
      expect((await register({ username, email: "sqli@example.com", password: "violet-umbrella-42" })).statusCode).toBe(400);
    }
    expect(await countUsers()).toBe(before);
    const evil = "'; DROP TABLE users; --";
    const r = await register({ username: "bobby_tables", email: "o'hara+x@example.com", password: "violet-umbrella-42", display_name: evil });
    expect(r.statusCode).toBe(201);
    expect(r.json().user).toMatchObject({ display_name: evil, email: "o'hara+x@example.com" });
    const patched = await h.app.inject({ method: "PATCH", url: "/api/users/me/", payload: { bio: "1; DELETE FROM users WHERE 1=1 /*" }, headers: authHeader(r.json().access) });
    expect(patched.json().bio).toBe("1; DELETE FROM users WHERE 1=1 /*");
    expect(await countUsers()).toBe(before + 1);
  });

  it("treats them as plain values in login and search", async () => {
    const admin = await createUser(h, { role: "admin" });
    const before = await countUsers();
    const login = await h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { username: "' OR 1=1 --", password: "' OR ''='" } });
    expectError(login, 401, "invalid_credentials");
    const search = await h.app.inject({ url: `/api/users/?search=${encodeURIComponent("' OR 1=1 --")}`, headers: authHeader(admin.access) });
    expect(search.statusCode).toBe(200);
    expect(search.json().results).toEqual([]);
    expect(await countUsers()).toBe(before);
  });
});

describe("other endpoints", () => {
  it("refuses wrong types and unknown fields on profile and password endpoints", async () => {
    const u = await createUser(h);
    const bad: [string, string, unknown][] = [
      ["PATCH", "/api/users/me/", { display_name: ["a", "b"] }],
      ["PATCH", "/api/users/me/", { bio: "x".repeat(2001) }],
      ["PATCH", "/api/users/me/", { email: "not-an-email" }],
      ["POST", "/api/users/me/password/", { new_password: "violet-umbrella-42" }],
      ["POST", "/api/users/me/password/", { old_password: u.password, new_password: { x: 1 } }],
      ["POST", "/api/auth/login/", { username: "", password: "x" }],
      ["POST", "/api/auth/login/", { username: "a", password: "x", extra: true }],
      ["POST", "/api/auth/password-reset/", {}],
      ["POST", "/api/auth/password-reset/confirm/", { token: "x" }],
      ["POST", "/api/auth/token/refresh/", { refresh: 42, other: 1 }],
    ];
    for (const [method, url, payload] of bad) {
      const r = await h.app.inject({ method: method as "POST", url, payload: payload as object, headers: authHeader(u.access) });
      expect(r.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(r.json().error.code).toMatch(/^(validation_error|invalid_email)$/);
    }
    const row = await h.ctx.db.selectFrom("users").selectAll().where("id", "=", u.user.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ display_name: "", bio: "", email: u.user.email });
  });
});
