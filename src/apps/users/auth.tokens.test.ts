// Token tampering: every way a bearer token can be wrong gets a 401 with its own error code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser } from "../../test/users.fixtures.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const secret = () => new TextEncoder().encode(h.config.auth.jwtSecret!);
const meWith = (headers: Record<string, string>) => h.app.inject({ url: "/api/users/me/", headers });
const expect401 = async (headers: Record<string, string>, code: string) => {
  const r = await meWith(headers);
  expect(r.statusCode).toBe(401);
  expect(r.headers["www-authenticate"]).toContain("Bearer");
  expect(r.json()).toMatchObject({ error: { code } });
};

describe("access tokens", () => {
  it("accepts a good token", async () => {
    const u = await createUser(h);
    expect((await meWith(authHeader(u.access))).statusCode).toBe(200);
  });

  it("refuses alg:none (unsigned) tokens", async () => {
    const u = await createUser(h);
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: u.user.id, ver: 0, typ: "access", iss: "vidflux", iat: now, exp: now + 600 })}.`;
    await expect401(authHeader(token), "token_invalid");
  });

  it("refuses a token signed with another key, and a payload edited after signing", async () => {
    const u = await createUser(h);
    const admin = await createUser(h, { role: "admin" });
    const other = await new SignJWT({ ver: 0, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(u.user.id)
      .setIssuer("vidflux")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    await expect401(authHeader(other), "token_invalid");
    // Swap the subject for the admin's, keep the signature.
    const [header, payload, sig] = u.access.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${header}.${b64({ ...claims, sub: admin.user.id })}.${sig}`;
    await expect401(authHeader(forged), "token_invalid");
  });

  it("refuses an expired token", async () => {
    const u = await createUser(h);
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ ver: 0, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(u.user.id)
      .setIssuer("vidflux")
      .setIssuedAt(past - 900)
      .setExpirationTime(past)
      .sign(secret());
    await expect401(authHeader(expired), "token_expired");
  });

  it("refuses a refresh token used as an access token", async () => {
    const u = await createUser(h);
    await expect401(authHeader(u.refresh), "token_wrong_type");
  });

  it("refuses tokens of deactivated and deleted accounts", async () => {
    const a = await createUser(h);
    await h.ctx.db.updateTable("users").set({ is_active: 0 }).where("id", "=", a.user.id).execute();
    await expect401(authHeader(a.access), "user_inactive");
    const b = await createUser(h);
    await h.ctx.db.deleteFrom("users").where("id", "=", b.user.id).execute();
    await expect401(authHeader(b.access), "user_not_found");
  });

  it("refuses a token issued before the account's tokens were revoked", async () => {
    const u = await createUser(h);
    await h.ctx.db.updateTable("users").set((eb) => ({ token_version: eb("token_version", "+", 1) })).where("id", "=", u.user.id).execute();
    await expect401(authHeader(u.access), "token_revoked");
  });

  it("refuses a malformed Authorization header and garbage", async () => {
    const u = await createUser(h);
    await expect401({ authorization: `Token ${u.access}` }, "token_invalid");
    await expect401({ authorization: "Bearer not-a-jwt" }, "token_invalid");
    await expect401({ authorization: "Bearer " }, "token_invalid");
  });

  it("answers 401 not_authenticated without any token", async () => {
    const r = await meWith({});
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe("not_authenticated");
  });
});

describe("refresh tokens", () => {
  it("refuses an expired refresh token", async () => {
    const u = await createUser(h);
    const claims = JSON.parse(Buffer.from(u.refresh.split(".")[1]!, "base64url").toString()) as { jti: string; fam: string };
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await new SignJWT({ fam: claims.fam, typ: "refresh" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(u.user.id)
      .setJti(claims.jti)
      .setIssuer("vidflux")
      .setIssuedAt(past - 3600)
      .setExpirationTime(past)
      .sign(secret());
    const r = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", payload: { refresh: expired } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe("token_expired");
  });

  it("refuses a validly signed refresh token that was never issued", async () => {
    const u = await createUser(h);
    const unknown = await h.domains.users.tokens.signRefresh(u.user.id, crypto.randomUUID(), crypto.randomUUID());
    const r = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", payload: { refresh: unknown } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe("token_invalid");
  });
});
