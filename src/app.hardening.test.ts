/**
 * Hardening of the HTTP layer (issue 13): credentials never reach the logs (`?%74oken=` is
 * `token` to the parser, so it is to the redaction), a forged Host header never makes it into
 * a URL the API hands out, and connection timeouts are deliberate: trickled headers and bodies
 * are cut off, uploads are bounded by idle time instead of a total, idle keep-alive connections
 * close, and closing the app does not wait for clients that send nothing. Real sockets on
 * loopback; every wait is bounded.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "./app.js";
import { composeDomains } from "./composition.js";
import { loadConfig } from "./config.js";
import { createContext, type AppContext } from "./context.js";
import { isCredentialName, redactUrl } from "./lib/log-redaction.js";
import { createHarness, type Harness } from "./test/app-harness.js";
import { authHeader, createUser } from "./test/users.fixtures.js";

// ---------------------------------------------------------------------------------------------
// Raw sockets
// ---------------------------------------------------------------------------------------------

interface RawClient {
  socket: net.Socket;
  /** everything the server sent */
  received(): string;
  /** resolves with the ms since connect when the server ends the connection */
  closed: Promise<number>;
}

function connect(port: number): RawClient {
  const socket = net.connect(port, "127.0.0.1");
  const t0 = Date.now();
  let got = "";
  socket.on("data", (d) => (got += d.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now() - t0)));
  return { socket, received: () => got, closed };
}

/** Writes `bytes` one at a time every `everyMs` until done or the socket closes. */
function trickle(c: RawClient, bytes: string | Buffer, everyMs: number): () => void {
  const buf = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
  let i = 0;
  const timer = setInterval(() => {
    if (i >= buf.length || c.socket.destroyed) return clearInterval(timer);
    c.socket.write(buf.subarray(i, i + 1));
    i++;
  }, everyMs);
  return () => clearInterval(timer);
}

/** `closed`, or `null` when it did not happen within `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | null> => Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

const portOf = (app: App): number => {
  const a = app.server.address();
  if (!a || typeof a === "string") throw new Error("not listening");
  return a.port;
};

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

describe("credentials in logged URLs", () => {
  it("recognises credential names however they are spelled or encoded", () => {
    for (const n of ["token", "%74oken", "TOKEN", "access_token", "Access-Token", "refresh_token", "access", "refresh", "password", "client_secret", "api%5Fkey", "apiKey", "X-Amz-Signature", "X-Amz-Credential", "sig", "code", "id+token", "%74oken%"]) {
      expect(isCredentialName(n), n).toBe(true);
    }
    for (const n of ["device", "room", "limit", "cursor", "last_event_id", "v", "since", "ordering"]) expect(isCredentialName(n), n).toBe(false);
    expect(redactUrl("/a/?%74oken=abc&x=1&access_token=def#f")).toBe("/a/?%74oken=[REDACTED]&x=1&access_token=[REDACTED]#f");
    expect(redactUrl("/a/?token=a=b&token")).toBe("/a/?token=[REDACTED]&token");
  });

  describe("the request log of the real app", () => {
    let dir: string;
    let ctx: AppContext;
    let app: App;
    const lines: string[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "vidflux-logs-"));
      // The log does not depend on the database: SQLite in both modes.
      const config = loadConfig({ NODE_ENV: "test", DATA_DIR: dir, JWT_SECRET: "test-secret-test-secret-test-secret-0123456789", EMAIL_BACKEND: "file", RATE_LIMIT: "false", LOG_LEVEL: "info" });
      ctx = await createContext(config);
      const logStream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
          cb();
        },
      });
      app = await buildApp(ctx, await composeDomains(ctx), { logStream });
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await ctx?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("logs neither `%74oken` (which the guard reads as `token`) nor `access_token`, nor any other credential value", async () => {
      const secrets = ["s3cr3t-one", "s3cr3t-two", "s3cr3t-three", "s3cr3t-four", "s3cr3t-five", "s3cr3t-six", "s3cr3t-seven"];
      const url =
        `/api/health/?%74oken=${secrets[0]}&access_token=${secrets[1]}&keep=visible&Refresh_Token=${secrets[2]}` +
        `&password=${secrets[3]}&api%5Fkey=${secrets[4]}&X-Amz-Signature=${secrets[5]}&sig=${secrets[6]}`;
      // and the guard does read `%74oken` as `token`: a bad one is refused, so it is a credential
      const guarded = await app.inject({ url: `/api/videos/${crypto.randomUUID()}/events/?%74oken=${secrets[0]}` });
      expect(guarded.statusCode).toBe(401);
      expect(guarded.json().error.code).toBe("token_invalid");
      expect((await app.inject({ url })).statusCode).toBe(200);
      const logged = lines.filter((l) => l.includes("/api/health/") || l.includes("/events/"));
      expect(logged.length).toBeGreaterThan(0);
      const all = lines.join("\n");
      for (const s of secrets) expect(all, s).not.toContain(s);
      expect(all).toContain("keep=visible");
      expect(all).toContain("%74oken=[REDACTED]");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Host
// ---------------------------------------------------------------------------------------------

describe("a forged Host header", () => {
  let h: Harness;
  let trusted: Harness;
  beforeAll(async () => {
    h = await createHarness();
    trusted = await createHarness({ TRUSTED_HOSTS: "Videos.Example.org,localhost:8000" });
  });
  afterAll(async () => {
    await h?.close();
    await trusted?.close();
  });

  const withAvatar = async (hh: Harness) => {
    const u = await createUser(hh);
    await hh.ctx.db.updateTable("users").set({ avatar_key: `avatars/${u.user.id}/abcdef0123456789` }).where("id", "=", u.user.id).execute();
    return u;
  };

  it("is not reflected into tus Location (relative), avatar URLs or page links (relative without PUBLIC_URL)", async () => {
    const u = await createUser(h, { role: "uploader" });
    const c = await h.app.inject({
      method: "POST",
      url: "/api/videos/upload/",
      headers: { ...authHeader(u.access), host: "evil.example", "tus-resumable": "1.0.0", "upload-length": "1000", "upload-metadata": `filename ${Buffer.from("a.mp4").toString("base64")}` },
    });
    expect(c.statusCode).toBe(201);
    expect(c.headers.location).toMatch(/^\/api\/videos\/upload\/[0-9a-f-]{36}\/$/);

    const a = await withAvatar(h);
    const me = await h.app.inject({ url: "/api/users/me/", headers: { ...authHeader(a.access), host: "evil.example" } });
    expect(me.json().avatar["256"]).toMatch(/^\/api\/users\/[0-9a-f-]{36}\/avatar\/256\/\?v=abcdef0123456789$/);
    const profile = await h.app.inject({ url: `/api/users/${a.user.id}/`, headers: { host: "evil.example", "x-forwarded-host": "evil.example" } });
    expect(JSON.stringify(profile.json())).not.toContain("evil");

    const admin = await createUser(h, { role: "admin" });
    await createUser(h);
    const page = await h.app.inject({ url: "/api/users/?limit=1", headers: { ...authHeader(admin.access), host: "evil.example" } });
    expect(page.json().next).toMatch(/^\/api\/users\/\?limit=1&cursor=/);
    const videos = await h.app.inject({ url: "/api/videos/?limit=1", headers: { host: "evil.example" } });
    expect(JSON.stringify(videos.json())).not.toContain("evil");
  });

  it("a TRUSTED_HOSTS Host gets absolute URLs, any other one relative URLs", async () => {
    const a = await withAvatar(trusted);
    const good = await trusted.app.inject({ url: `/api/users/${a.user.id}/`, headers: { host: "videos.example.org" } });
    expect(good.json().avatar["64"]).toMatch(/^http:\/\/videos\.example\.org\/api\/users\//);
    const evil = await trusted.app.inject({ url: `/api/users/${a.user.id}/`, headers: { host: "evil.example" } });
    expect(evil.json().avatar["64"]).toMatch(/^\/api\/users\//);
  });
});

// ---------------------------------------------------------------------------------------------
// Connection timeouts
// ---------------------------------------------------------------------------------------------

describe("connection timeouts (all set to 1 s)", () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await createHarness({ HTTP_HEADERS_TIMEOUT: "1", HTTP_BODY_TIMEOUT: "1", HTTP_KEEPALIVE_TIMEOUT: "1" });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    port = portOf(h.app);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("a client trickling its headers (one byte a second) is cut off after HTTP_HEADERS_TIMEOUT with 408", async () => {
    const c = connect(port);
    const stop = trickle(c, "GET /api/health/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "a".repeat(50) + "\r\n\r\n", 1000);
    const ms = await within(c.closed, 4000);
    stop();
    c.socket.destroy();
    expect(ms, "still open after 4 s").not.toBeNull();
    expect(ms!).toBeGreaterThanOrEqual(900);
    expect(ms!).toBeLessThan(2500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.received()).toContain('"code":"request_timeout"');
  });

  it("a client trickling a JSON body is cut off after HTTP_BODY_TIMEOUT with 408", async () => {
    const c = connect(port);
    const body = JSON.stringify({ username: "someone", password: "x".repeat(150) });
    c.socket.write(`POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const stop = trickle(c, body, 200);
    const ms = await within(c.closed, 4000);
    stop();
    c.socket.destroy();
    expect(ms, "still open after 4 s").not.toBeNull();
    expect(ms!).toBeLessThan(2500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.received()).toContain('"code":"request_timeout"');
  });

  it("an idle keep-alive connection is closed after HTTP_KEEPALIVE_TIMEOUT", async () => {
    const c = connect(port);
    c.socket.write("GET /api/health/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const ms = await within(c.closed, 4000);
    c.socket.destroy();
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms, "still open after 4 s").not.toBeNull();
    expect(ms!).toBeLessThan(2500);
  });
});

describe("closing the app", () => {
  it("does not wait for connections that sent nothing, or half their headers", async () => {
    // A long headers timeout: what ends these connections must be the close, not the timeout.
    const h = await createHarness({ HTTP_HEADERS_TIMEOUT: "30" });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const port = portOf(h.app);
    const silent = connect(port);
    const half = connect(port);
    half.socket.write("GET /api/health/ HTTP/1.1\r\nHo");
    const body = connect(port);
    body.socket.write("POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const closed = await within(h.app.close(), 3000);
    const ms = Date.now() - t0;
    for (const c of [silent, half, body]) c.socket.destroy();
    await h.close();
    expect(closed, "app.close() still waiting after 3 s").not.toBeNull();
    expect(ms).toBeLessThan(1500);
  });
});
