import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test/app-harness.js";
import { redactUrl } from "./app.js";

describe("app skeleton", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers health with and without the trailing slash", async () => {
    for (const url of ["/api/health/", "/api/health"]) {
      const r = await h.app.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ status: "ok", database: h.config.db.kind });
    }
  });

  it("serves the OpenAPI document and Swagger UI", async () => {
    const r = await h.app.inject({ url: "/api/schema/" });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain("/api/health/");
    const ui = await h.app.inject({ url: "/api/docs/" });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers["content-type"]).toMatch(/text\/html/);
  });

  it("renders 404 and 405 in the error format", async () => {
    const nf = await h.app.inject({ url: "/api/nope/" });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ error: { code: "not_found", message: "Not found.", details: null } });
    const na = await h.app.inject({ method: "DELETE", url: "/api/health/" });
    expect(na.statusCode).toBe(405);
    expect(na.headers.allow).toContain("GET");
    expect(na.json().error.code).toBe("method_not_allowed");
  });

  it("sets helmet headers", async () => {
    const r = await h.app.inject({ url: "/api/health/" });
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
  });

  it("redacts tokens in logged URLs", () => {
    expect(redactUrl("/a/?token=abc.def&x=1")).toBe("/a/?token=[REDACTED]&x=1");
    expect(redactUrl("/a/?x=1&token=abc")).toBe("/a/?x=1&token=[REDACTED]");
  });
});
