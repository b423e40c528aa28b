/**
 * The built web client as the server sends it: the page, hashed assets cached for good, the
 * security headers that depend on HTTPS_ONLY (an http page under a LAN name must load), and the
 * embed page as the only one other sites may frame.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { WEB_DIST_DIR } from "./web.routes.js";

describe("web client served over plain HTTP (HTTPS_ONLY unset)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ EMBED_FRAME_ANCESTORS: "https://blog.example,https://*.partner.example" });
  });
  afterAll(async () => h?.close());

  it("serves index.html at / without upgrade-insecure-requests or HSTS, framing refused", async () => {
    const r = await h.app.inject({ url: "/", headers: { host: "192.168.1.20:8000" } });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/html/);
    expect(r.body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(r.headers["strict-transport-security"]).toBeUndefined();
    expect(r.headers["cross-origin-opener-policy"]).toBeUndefined();
    expect(r.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(r.headers["cache-control"]).toBe("public, max-age=0");
  });

  it("serves hashed assets for a year, immutable; an unknown asset is a JSON 404", async () => {
    const js = readdirSync(path.join(WEB_DIST_DIR, "assets")).find((f) => /^index-.*\.js$/.test(f))!;
    const r = await h.app.inject({ url: `/assets/${js}` });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/javascript/);
    expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const missing = await h.app.inject({ url: "/assets/nope-123.js" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("the embed page may be framed by EMBED_FRAME_ANCESTORS, and only it", async () => {
    const r = await h.app.inject({ url: "/embed/0b9c3d0e-8f43-4f53-9c7c-1b2d3e4f5a6b" });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain("/assets/embed-");
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("frame-ancestors https://blog.example https://*.partner.example");
    expect(csp).not.toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(r.headers["x-frame-options"]).toBeUndefined();
  });
});

describe("web client behind HTTPS (HTTPS_ONLY=true)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ HTTPS_ONLY: "true" });
  });
  afterAll(async () => h?.close());

  it("sends HSTS, upgrade-insecure-requests and COOP", async () => {
    const r = await h.app.inject({ url: "/" });
    expect(String(r.headers["content-security-policy"])).toContain("upgrade-insecure-requests");
    expect(r.headers["strict-transport-security"]).toBe("max-age=15552000; includeSubDomains");
    expect(r.headers["cross-origin-opener-policy"]).toBe("same-origin");
  });
});
