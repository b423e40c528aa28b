/**
 * Request ids: every answer carries X-Request-Id; a trusted proxy's sane id is reused, anything
 * else replaced; every log line of a request, Fastify's and the services', carries the id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test/app-harness.js";
import { createUser } from "./test/users.fixtures.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function lineCollector() {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

describe("request ids without a trusted proxy", () => {
  let h: Harness;
  const log = lineCollector();
  beforeAll(async () => {
    h = await createHarness({ LOG_LEVEL: "info" }, { logStream: log.stream });
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers carry a fresh X-Request-Id: 200, 404, 401 and a refused body", async () => {
    const ids = new Set<string>();
    for (const r of [
      await h.app.inject({ url: "/api/health/live/" }),
      await h.app.inject({ url: "/api/nope/" }),
      await h.app.inject({ url: "/api/users/me/", headers: { authorization: "Bearer nope" } }),
      await h.app.inject({ method: "POST", url: "/api/auth/login/", headers: { "content-type": "application/json" }, payload: "{" }),
    ]) {
      expect(r.headers["x-request-id"]).toMatch(UUID);
      ids.add(r.headers["x-request-id"] as string);
    }
    expect(ids.size).toBe(4);
  });

  it("ignores a client's X-Request-Id (only a trusted proxy may name requests)", async () => {
    const r = await h.app.inject({ url: "/api/health/live/", headers: { "x-request-id": "chosen-by-client" } });
    expect(r.headers["x-request-id"]).toMatch(UUID);
  });

  it("exposes X-Request-Id to cross-origin readers", async () => {
    const { EXPOSED_HEADERS } = await import("./app.js");
    expect(EXPOSED_HEADERS).toContain("X-Request-Id");
  });

  it("every log line of a request carries its id, the service's lines too", async () => {
    const owner = await createUser(h, { role: "uploader" });
    log.lines.length = 0;
    // a refused tus creation: the upload service logs "upload refused" itself (not through req.log)
    const body = Buffer.from("<html><body>not a video</body></html>");
    const r = await h.app.inject({
      method: "POST",
      url: "/api/videos/upload/",
      headers: { "tus-resumable": "1.0.0", authorization: `Bearer ${owner.access}`, "upload-length": String(body.length), "content-type": "application/offset+octet-stream" },
      payload: body,
    });
    const id = r.headers["x-request-id"] as string;
    expect(id).toMatch(UUID);
    const mine = log.lines.filter((l) => l.reqId === id);
    const messages = mine.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(["incoming request", "request completed"]));
    // a line from the upload service, which logs through the process logger
    expect(mine.some((l) => l.msg === "upload refused" || l.msg === "upload completed"), JSON.stringify(log.lines.slice(-6))).toBe(true);
    // and no line of that request without the id
    const unlabelled = log.lines.filter((l) => l.reqId === undefined && (l.msg === "upload refused" || l.msg === "incoming request"));
    expect(unlabelled).toEqual([]);
  });
});

describe("request ids behind a trusted proxy", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ TRUST_PROXY: "true" });
  });
  afterAll(async () => {
    await h.close();
  });

  it("reuses a sane X-Request-Id from the proxy", async () => {
    for (const given of ["3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b", "Root=1-5f84c7a5-abcdef0123456789", "req_42.a:b+c/d="]) {
      const r = await h.app.inject({ url: "/api/health/live/", headers: { "x-request-id": given } });
      expect(r.headers["x-request-id"]).toBe(given);
    }
  });

  it("replaces one that is too long, empty or carries odd characters", async () => {
    for (const given of ["x".repeat(129), "", "a b", "id\u001b[31m", "<script>", "a,b"]) {
      const r = await h.app.inject({ url: "/api/health/live/", headers: { "x-request-id": given } });
      expect(r.headers["x-request-id"]).toMatch(UUID);
    }
  });
});
