/**
 * Liveness and readiness on real parts: the database of the harness, Redis when REDIS_URL is set,
 * disk storage whose root stops taking writes, a database that was closed.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test/app-harness.js";
import { TEST_REDIS_URL } from "./test/test-env.js";

describe("health: live and ready", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("live answers 200 {status: ok}, with and without the trailing slash", async () => {
    for (const url of ["/api/health/live", "/api/health/live/"]) {
      const r = await h.app.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ status: "ok" });
    }
  });

  it("ready answers 200 with each part's status; Redis is not_configured without REDIS_URL", async () => {
    const r = await h.app.inject({ url: "/api/health/ready" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok", checks: { database: "ok", redis: "not_configured", storage: "ok" } });
    // the storage probe leaves nothing behind
    expect(await h.ctx.storage.list("health/")).toEqual([]);
  });

  it("the older /api/health/ still answers", async () => {
    const r = await h.app.inject({ url: "/api/health/" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok", database: h.config.db.kind });
  });

  it("ready answers 503 not_ready naming storage when the storage root cannot be written; live stays 200", async () => {
    const root = h.config.storage.mediaDir;
    // a file where the media directory should be: no write can succeed there (also as root,
    // where a chmod would not stop anything)
    rmSync(root, { recursive: true, force: true });
    writeFileSync(root, "not a directory");
    try {
      const r = await h.app.inject({ url: "/api/health/ready/" });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({
        error: {
          code: "not_ready",
          message: "Not ready: storage does not answer.",
          details: { failing: ["storage"], checks: { database: "ok", redis: "not_configured", storage: "failed" } },
        },
      });
      expect((await h.app.inject({ url: "/api/health/live/" })).statusCode).toBe(200);
    } finally {
      rmSync(root, { force: true });
      mkdirSync(root, { recursive: true });
    }
    expect((await h.app.inject({ url: "/api/health/ready/" })).statusCode).toBe(200);
  });

  it("health routes are in the OpenAPI document with every status they answer", async () => {
    const doc = (await h.app.inject({ url: "/api/schema/" })).json() as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths["/api/health/ready/"]!.get.responses)).toEqual(expect.arrayContaining(["200", "503"]));
    expect(Object.keys(doc.paths["/api/health/live/"]!.get.responses)).toContain("200");
    expect(Object.keys(doc.paths["/metrics"]!.get.responses)).toEqual(expect.arrayContaining(["200", "401"]));
  });
});

describe("health: a closed database", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("ready answers 503 naming the database, /api/health/ 503 database_unavailable, live 200", async () => {
    await h.ctx.db.destroy();
    const r = await h.app.inject({ url: "/api/health/ready/" });
    expect(r.statusCode).toBe(503);
    expect(r.json().error).toMatchObject({ code: "not_ready", details: { failing: ["database"], checks: { database: "failed", storage: "ok" } } });
    const old = await h.app.inject({ url: "/api/health/" });
    expect(old.statusCode).toBe(503);
    expect(old.json().error.code).toBe("database_unavailable");
    expect((await h.app.inject({ url: "/api/health/live/" })).json()).toEqual({ status: "ok" });
  });
});

describe.skipIf(!TEST_REDIS_URL)("health: Redis", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ REDIS_URL: TEST_REDIS_URL! });
  });
  afterAll(async () => {
    await h.close();
  });

  it("ready checks Redis when configured, and names it when it stops answering", async () => {
    const ok = await h.app.inject({ url: "/api/health/ready/" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().checks).toEqual({ database: "ok", redis: "ok", storage: "ok" });
    // the shared connection goes away (as when Redis is unreachable): PING no longer answers
    h.ctx.redis!.disconnect();
    try {
      const r = await h.app.inject({ url: "/api/health/ready/" });
      expect(r.statusCode).toBe(503);
      expect(r.json().error.details).toMatchObject({ failing: ["redis"], checks: { database: "ok", redis: "failed", storage: "ok" } });
    } finally {
      // the app's close still uses the connection (the view counter's last flush)
      await h.ctx.redis!.connect();
    }
    expect((await h.app.inject({ url: "/api/health/ready/" })).statusCode).toBe(200);
  }, 15_000);
});
