/**
 * The API contract (issue 13): the OpenAPI document describes every route with every status,
 * examples and its security; every error has one shape, input errors list
 * `{location, field, code, message}`; refusals outside the routes (unknown method, CORS) are JSON
 * too; and a route answering a status its schema does not list is caught.
 */
import { connect, type AddressInfo } from "node:net";
import Fastify, { type FastifySchema } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test/app-harness.js";
import { declareCommonStatuses, undeclaredStatus, type UndeclaredStatus } from "./lib/openapi.js";
import { ErrorResponse, errors } from "./lib/schemas.js";

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: { $ref?: string; allOf?: { $ref?: string }[] }; example?: unknown; examples?: unknown }>;
}
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: { $ref?: string; allOf?: { $ref?: string }[] }; example?: unknown; examples?: unknown }> };
  responses: Record<string, Response>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  tags: { name: string; description: string }[];
  components: { securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }>; schemas: Record<string, { description?: string; example?: unknown }> };
}

const ALLOWED = "https://player.example";
let h: Harness;
let doc: Doc;
let ops: [string, string, Operation][];
beforeAll(async () => {
  h = await createHarness({ CORS_ORIGINS: ALLOWED });
  doc = JSON.parse((await h.app.inject({ url: "/api/schema/" })).body) as Doc;
  ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([m, op]) => [m, path, op] as [string, string, Operation]));
});
afterAll(async () => h?.close());

const isErrorBody = (c: NonNullable<Response["content"]>[string]) => c.schema?.$ref === "#/components/schemas/ErrorResponse";
const named = (c: NonNullable<Response["content"]>[string]) => c.schema?.$ref ?? c.schema?.allOf?.[0]?.$ref;

describe("the OpenAPI document", () => {
  it("describes every operation and every answer, none as 'Default Response'", () => {
    expect(ops.length).toBeGreaterThan(80);
    for (const [m, path, op] of ops) {
      const at = `${m.toUpperCase()} ${path}`;
      expect(op.summary, at).toBeTruthy();
      expect(op.tags?.length, at).toBeGreaterThan(0);
      expect(Object.keys(op.responses).some((s) => /^[123]/.test(s)), `${at}: a success`).toBe(true);
      expect(Object.keys(op.responses).some((s) => s.startsWith("4")), `${at}: a refusal`).toBe(true);
      for (const [status, r] of Object.entries(op.responses)) {
        expect(r.description, `${at} ${status}`).toBeTruthy();
        expect(r.description, `${at} ${status}`).not.toBe("Default Response");
        // every error answer is the one error body
        if (/^[45]/.test(status)) expect(r.content?.["application/json"] && isErrorBody(r.content["application/json"]), `${at} ${status}`).toBe(true);
      }
    }
  });

  it("gives an example of every JSON request body and every JSON success answer", () => {
    const schemas = doc.components.schemas;
    const hasExample = (c: NonNullable<Response["content"]>[string]) => {
      if (c.example !== undefined || c.examples !== undefined) return true;
      const ref = named(c);
      return ref !== undefined && schemas[ref.replace("#/components/schemas/", "")]?.example !== undefined;
    };
    for (const [m, path, op] of ops) {
      const body = op.requestBody?.content["application/json"];
      if (body) expect(hasExample(body), `${m} ${path} body`).toBe(true);
      for (const [status, r] of Object.entries(op.responses)) {
        const json = r.content?.["application/json"];
        if (json && /^2/.test(status)) expect(hasExample(json), `${m} ${path} ${status}`).toBe(true);
      }
    }
    expect(schemas.ErrorResponse?.example).toBeDefined();
  });

  it("documents each error code's details in ErrorResponse", () => {
    const d = doc.components.schemas.ErrorResponse!.description!;
    for (const form of ["[{location, field, code, message}]", "{used, limit, requested}", "{retry_after_s}", "{queued, limit, retry_after_s}", "{allow}", "{origin}"]) {
      expect(d).toContain(form);
    }
    for (const code of ["validation_error", "quota_exceeded", "throttled", "rate_limited", "conversion_queue_full", "cors_origin_denied", "invalid_upload_length"]) expect(d).toContain(`\`${code}\``);
  });

  it("lists the statuses the routes answer, the framework's included", () => {
    const statuses = (m: string, p: string) => Object.keys(doc.paths[p]![m]!.responses);
    expect(statuses("get", "/api/videos/{id}/stream/{quality}/")).toEqual(expect.arrayContaining(["200", "206", "304", "403", "404", "412", "416"]));
    expect(statuses("post", "/api/videos/upload/")).toEqual(expect.arrayContaining(["201", "400", "401", "403", "409", "412", "413", "415", "429", "460"]));
    expect(statuses("patch", "/api/videos/upload/{uploadId}")).toEqual(expect.arrayContaining(["204", "409", "412", "413", "415", "423", "460"]));
    expect(statuses("put", "/api/videos/{id}/subtitles/{lang}/")).toEqual(expect.arrayContaining(["200", "201", "409", "413", "415", "422", "503"]));
    expect(statuses("post", "/api/videos/{id}/reprocess/")).toEqual(expect.arrayContaining(["202", "409", "429"]));
    expect(statuses("get", "/api/health/")).toEqual(expect.arrayContaining(["200", "503"]));
    expect(statuses("options", "/api/videos/upload/")).toEqual(expect.arrayContaining(["204", "403"]));
    // any bearer is checked, so a public route answers 401 to a bad one
    expect(statuses("get", "/api/videos/")).toContain("401");
  });

  it("documents the tus headers as header parameters and response headers", () => {
    const params = (m: string, p: string) => (doc.paths[p]![m]!.parameters ?? []).filter((x) => x.in === "header").map((x) => x.name);
    expect(params("post", "/api/videos/upload/")).toEqual(expect.arrayContaining(["Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Concat", "Upload-Checksum"]));
    expect(params("patch", "/api/videos/upload/{uploadId}")).toEqual(expect.arrayContaining(["Tus-Resumable", "Upload-Offset", "Content-Type", "Upload-Checksum"]));
    expect(params("head", "/api/videos/upload/{uploadId}")).toContain("Tus-Resumable");
    const headers = (m: string, p: string, s: string) => Object.keys(doc.paths[p]![m]!.responses[s]!.headers ?? {});
    expect(headers("post", "/api/videos/upload/", "201")).toEqual(expect.arrayContaining(["Location", "Upload-Offset", "Upload-Expires", "Video-Id", "Tus-Resumable"]));
    expect(headers("head", "/api/videos/upload/{uploadId}", "200")).toEqual(expect.arrayContaining(["Upload-Offset", "Upload-Length", "Upload-Metadata"]));
    expect(headers("patch", "/api/videos/upload/{uploadId}", "204")).toContain("Upload-Offset");
    expect(headers("options", "/api/videos/upload/", "204")).toEqual(expect.arrayContaining(["Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"]));
    expect(doc.paths["/api/videos/upload/{uploadId}"]!.patch!.requestBody!.content).toHaveProperty(["application/offset+octet-stream"]);
  });

  it("documents the WebSocket endpoints as GETs with an upgrade, and the SSE ones as event streams", () => {
    for (const p of ["/ws/videos/{id}/", "/ws/stream/{video_id}/"]) {
      const op = doc.paths[p]?.get;
      expect(op, p).toBeDefined();
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(["101", "426"]));
      expect(JSON.stringify(op)).toContain("Upgrade: websocket");
    }
    expect(doc.paths["/ws/stream/{video_id}/"]!.get!.parameters!.map((x) => x.name)).toEqual(expect.arrayContaining(["device", "room"]));
    for (const p of ["/api/videos/{id}/events/", "/api/videos/{id}/live/", "/api/stream/{video_id}/events/"]) {
      expect(Object.keys(doc.paths[p]!.get!.responses["200"]!.content ?? {}), p).toContain("text/event-stream");
    }
  });

  it("has the security schemes the API really uses: bearer, the playback token, the refresh cookie with its CSRF header", async () => {
    const s = doc.components.securitySchemes;
    expect(s.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(s.playbackToken).toMatchObject({ type: "apiKey", in: "query", name: "token" });
    expect(s.accessTokenQuery).toMatchObject({ type: "apiKey", in: "query", name: "token" });
    expect(s.refreshCookie).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(s.csrfHeader).toMatchObject({ type: "apiKey", in: "header" });
    expect(doc.paths["/api/videos/{id}/stream/{quality}/"]!.get!.security).toContainEqual({ playbackToken: [] });
    expect(doc.paths["/api/users/me/"]!.get!.security).toEqual([{ bearer: [] }]);

    // The names are the ones the server sets and checks.
    const reg = await h.app.inject({ method: "POST", url: "/api/auth/register/", payload: { username: "contract_c", email: "contract_c@example.com", password: "violet-umbrella-42", cookie: true } });
    expect(reg.statusCode).toBe(201);
    const cookies = Object.fromEntries((reg.cookies as { name: string; value: string }[]).map((c) => [c.name, c.value]));
    expect(Object.keys(cookies)).toContain(s.refreshCookie!.name);
    const csrfValue = Object.entries(cookies).find(([k]) => k !== s.refreshCookie!.name)![1];
    const cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; ");
    const refused = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    const refreshed = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", headers: { cookie, [s.csrfHeader!.name!]: csrfValue } });
    expect(refreshed.statusCode).toBe(200);
  });

  it("describes the WebSocket and SSE endpoints in the tags", () => {
    const tag = (n: string) => doc.tags.find((t) => t.name === n)?.description ?? "";
    expect(tag("videos")).toContain("/ws/videos/{id}/");
    expect(tag("playback")).toContain("/ws/stream/{video_id}/");
    expect(tag("playback")).toContain("4401");
  });
});

describe("one error shape", () => {
  it("lists body validation problems as {location, field, code, message} with stable codes", async () => {
    const r = await h.app.inject({
      method: "POST",
      url: "/api/auth/register/",
      payload: { username: "x".repeat(151), email: "contract@example.com", password: "violet-umbrella-42", admin: true },
    });
    expect(r.statusCode).toBe(400);
    // allErrors is off: Ajv stops at the first failing keyword
    expect(r.json()).toEqual({ error: { code: "validation_error", message: "Invalid input.", details: [{ location: "body", field: "admin", code: "unknown_field", message: "is not an accepted field" }] } });
    const missing = await h.app.inject({ method: "POST", url: "/api/auth/register/", payload: { email: "contract@example.com", password: "violet-umbrella-42" } });
    expect(missing.json().error.details).toEqual([{ location: "body", field: "username", code: "required", message: "is required" }]);
    const long = await h.app.inject({ method: "POST", url: "/api/auth/register/", payload: { username: "x".repeat(151), email: "contract@example.com", password: "violet-umbrella-42" } });
    expect(long.json().error.details).toEqual([{ location: "body", field: "username", code: "max_length", message: expect.any(String) }]);
  });

  it("reports a query's and an ordering's problems once per field, with the allowed values", async () => {
    const order = await h.app.inject({ url: "/api/videos/?ordering=views" });
    expect(order.statusCode).toBe(400);
    expect(order.json().error.details).toEqual([{ location: "querystring", field: "ordering", code: "enum", message: "must be one of -created, created, -views, -likes" }]);
    const comments = await h.app.inject({ url: `/api/videos/${crypto.randomUUID()}/comments/?ordering=likes` });
    expect(comments.json().error.details).toEqual([{ location: "querystring", field: "ordering", code: "enum", message: "must be one of -created, created, -likes" }]);
    const limit = await h.app.inject({ url: "/api/videos/?limit=1000" });
    expect(limit.json().error.details).toEqual([{ location: "querystring", field: "limit", code: "maximum", message: expect.any(String) }]);
    const cursor = await h.app.inject({ url: "/api/videos/?cursor=garbage" });
    expect(cursor.json().error).toEqual({ code: "invalid_cursor", message: "The cursor is not valid.", details: [{ location: "querystring", field: "cursor", code: "invalid_cursor", message: "The cursor is not valid." }] });
    const path = await h.app.inject({ url: "/api/users/not-a-uuid/" });
    expect(path.json().error.details).toEqual([{ location: "params", field: "id", code: "format", message: expect.any(String) }]);
  });

  it("answers an unknown method on a known path 405 and an unparseable one 400, both in the error format", async () => {
    const propfind = await h.app.inject({ method: "PROPFIND" as "GET", url: "/api/health/" });
    expect(propfind.statusCode).toBe(405);
    expect(propfind.json().error).toMatchObject({ code: "method_not_allowed", details: { allow: expect.arrayContaining(["GET"]) } });

    // Node's parser refuses a method HTTP does not define before Fastify sees it: over a socket.
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { port } = h.app.server.address() as AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        const s = connect(port, "127.0.0.1", () => s.write("FOO /api/health/ HTTP/1.1\r\nHost: x\r\n\r\n"));
        let out = "";
        s.on("data", (d) => (out += d.toString()));
        s.on("end", () => resolve(out));
        s.on("error", reject);
        s.setTimeout(5000, () => reject(new Error("timeout")));
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toEqual({ error: { code: "unknown_method", message: expect.any(String), details: null } });
    } finally {
      await h.app.server.close();
    }
  });

  it("refuses a CORS preflight from an unlisted origin with 403 cors_origin_denied, and a malformed one with 400 JSON", async () => {
    const preflight = (origin: string, url = "/api/videos/") =>
      h.app.inject({ method: "OPTIONS", url, headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" } });
    const ok = await preflight(ALLOWED);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers["access-control-allow-origin"]).toBe(ALLOWED);
    for (const url of ["/api/videos/", "/api/videos/upload/", "/api/nowhere/"]) {
      const denied = await preflight("https://evil.example", url);
      expect(denied.statusCode, url).toBe(403);
      expect(denied.headers["access-control-allow-origin"]).toBeUndefined();
      expect(denied.json()).toEqual({ error: { code: "cors_origin_denied", message: expect.stringContaining("https://evil.example"), details: { origin: "https://evil.example" } } });
    }
    const malformed = await h.app.inject({ method: "OPTIONS", url: "/api/videos/", headers: { origin: ALLOWED } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("invalid_preflight");
    // tus discovery is a plain OPTIONS, not a preflight
    const discovery = await h.app.inject({ method: "OPTIONS", url: "/api/videos/upload/" });
    expect(discovery.statusCode).toBe(204);
    expect(discovery.headers["tus-version"]).toBe("1.0.0");
  });

  it("tells a plain GET on a WebSocket URL to upgrade, in the error format", async () => {
    const r = await h.app.inject({ url: `/ws/stream/${crypto.randomUUID()}/` });
    expect(r.statusCode).toBe(426);
    expect(r.headers.upgrade).toBe("websocket");
    expect(r.json().error.code).toBe("upgrade_required");
  });
});

describe("undeclared statuses", () => {
  it("are caught on every answer, hijacked ones too, and declared ones are not", async () => {
    const app = Fastify();
    app.addSchema(ErrorResponse);
    app.addHook("onRoute", declareCommonStatuses);
    const seen: UndeclaredStatus[] = [];
    app.addHook("onResponse", async (req, reply) => {
      const v = undeclaredStatus(req, reply);
      if (v) seen.push(v);
    });
    const onlyOk = { response: { 200: { type: "null", description: "ok" } } } as FastifySchema;
    app.get("/teapot", { schema: onlyOk }, async (_req, reply) => reply.status(418).send());
    app.get("/raw", { schema: onlyOk }, async (_req, reply) => {
      reply.hijack();
      reply.raw.writeHead(206).end();
    });
    app.get("/fine", { schema: { response: { 200: { type: "null", description: "ok" }, ...errors([404, "nope"]) } } }, async (req, reply) => {
      return (req.query as { missing?: string }).missing ? reply.status(404).send({ error: { code: "not_found", message: "no", details: null } }) : reply.send(null);
    });
    await app.ready();
    await app.inject({ url: "/teapot" });
    await app.inject({ url: "/raw" });
    await app.inject({ url: "/fine" });
    await app.inject({ url: "/fine?missing=1" });
    // 401 is declared on every route (a bad bearer is refused anywhere), as is 429 (the rate limit)
    await app.inject({ url: "/nowhere" });
    await app.close();
    expect(seen).toEqual([
      { method: "GET", url: "/teapot", status: 418 },
      { method: "GET", url: "/raw", status: 206 },
    ]);
  });

  it("fail the test file that meets one, when its harness closes", async () => {
    const other = await createHarness();
    other.undeclared.push({ method: "GET", url: "/api/x/", status: 418, test: "a test" });
    await expect(other.close()).rejects.toThrow(/undeclared_status: .*GET \/api\/x\/ → 418 \(a test\)/s);
  });
});
