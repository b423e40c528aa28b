// The strict per-route limits on credential endpoints (brute force), with rate limiting on
// (the other suites run with RATE_LIMIT=false).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ RATE_LIMIT: "true", AUTH_RATE_LIMIT_MAX: "3", AUTH_RATE_LIMIT_WINDOW: "60" });
});
afterAll(async () => {
  await h?.close();
});

describe("auth rate limits", () => {
  it.each([
    ["/api/auth/login/", { username: "someone", password: "guess-guess-guess" }],
    ["/api/auth/register/", { username: "x", email: "bad", password: "y" }],
    ["/api/auth/token/refresh/", { refresh: "not-a-token" }],
    ["/api/auth/password-reset/", { email: "someone@example.com" }],
    ["/api/auth/password-reset/confirm/", { token: "nope", new_password: "violet-umbrella-42" }],
  ])("%s answers 429 with Retry-After after AUTH_RATE_LIMIT_MAX attempts", async (url, payload) => {
    for (let i = 0; i < 3; i++) {
      const r = await h.app.inject({ method: "POST", url, payload });
      expect(r.statusCode).not.toBe(429);
    }
    const r = await h.app.inject({ method: "POST", url, payload });
    expect(r.statusCode).toBe(429);
    const retryAfter = Number(r.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(r.json()).toEqual({
      error: { code: "throttled", message: expect.stringContaining("throttled"), details: { retry_after_s: expect.any(Number) } },
    });
  });

  it("counts per route and per client address", async () => {
    // login is exhausted above; another client address still gets through
    const other = await h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { username: "a", password: "b" }, remoteAddress: "10.9.8.7" });
    expect(other.statusCode).toBe(401);
    // routes without a strict limit use the global one
    for (let i = 0; i < 5; i++) expect((await h.app.inject({ url: "/api/health/" })).statusCode).toBe(200);
    const profile = await h.app.inject({ url: `/api/users/${crypto.randomUUID()}/` });
    expect(profile.statusCode).toBe(404);
  });
});
