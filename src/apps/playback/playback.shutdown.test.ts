/**
 * Graceful shutdown of the real entry point (`src/server.ts`, what `npm start` runs; the file sits
 * beside the playback fixtures its live connections need) in a child process on a temp SQLite
 * DATA_DIR, with its embedded worker. SIGTERM while a slow download is in
 * flight (a 48 MiB MP4 to a client that stops reading), a playback WebSocket is open and a long
 * poll waits: the download completes to its last byte, a request arriving on its connection
 * meanwhile finds `/api/health/ready/` answering 503 `shutting_down`, the socket gets close frame
 * 1001, the long poll answers at once, no new connection is accepted, and the process exits 0
 * within SHUTDOWN_TIMEOUT. A second signal ends a stuck shutdown at once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { openDb } from "../../platform/db/db.js";
import { childEnv } from "../../test/child-env.js";
import { openWs } from "../../test/ws-client.js";
import { insertReadyVideo } from "../streaming/streaming.fixtures.js";
import { playbackMedia } from "./playback.fixtures.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SERVER_ENTRY = path.join(ROOT, "src/server.ts");
const SHUTDOWN_TIMEOUT_S = 8;
const DOWNLOAD_BYTES = 48 * 1024 * 1024;
const dirs: string[] = [];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

class ServerProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", SERVER_ENTRY], { cwd: ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-50_000);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async listening(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes("vidflux listening on")) {
      if (!this.alive) throw new Error(`the server exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`the server did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

let server: ServerProcess | null = null;
afterEach(async (t) => {
  if (t.task.result?.state === "fail" && server) console.warn(`server output:\n${server.output}`);
  if (server?.alive) server.child.kill("SIGKILL");
  await server?.exited;
  server = null;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(extra: Record<string, string> = {}): Promise<{ base: string; port: number; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-shutdown-"));
  dirs.push(dataDir);
  const port = await freePort();
  server = new ServerProcess({
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: "127.0.0.1",
    RATE_LIMIT: "false",
    SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S),
    PLAYBACK_LONG_POLL_MS: "60000",
    ...extra,
  });
  await server.listening();
  return { base: `http://127.0.0.1:${port}`, port, dataDir };
}

/** A ready public video in the server's database (its own SQLite file), with a big 480p MP4 on disk. */
async function seedVideo(base: string, dataDir: string): Promise<string> {
  const r = await fetch(`${base}/api/auth/register/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "owner", email: "owner@example.com", password: "violet-umbrella-42" }),
  });
  expect(r.status).toBe(201);
  const owner = ((await r.json()) as { user: { id: string } }).user.id;
  const config = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir });
  const db = await openDb(config.db, { migrate: false });
  const id = crypto.randomUUID();
  try {
    await insertReadyVideo({ db }, { id, ownerId: owner, visibility: "public", media: playbackMedia(id), durationS: 120 });
  } finally {
    await db.destroy();
  }
  const mp4 = path.join(config.storage.mediaDir, `videos/${id}/mp4/480p.mp4`);
  mkdirSync(path.dirname(mp4), { recursive: true });
  writeFileSync(mp4, Buffer.alloc(DOWNLOAD_BYTES, 7));
  return id;
}

/** A raw HTTP/1.1 connection: every byte received is kept, reading can be paused. */
function rawConnection(port: number): { socket: Socket; received: () => Buffer; closed: Promise<void> } {
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("npm start: SIGTERM", () => {
  it("drains: the slow download completes, readiness says 503 shutting_down, WebSockets get 1001, the long poll answers, exit 0 in time", async () => {
    const { base, port, dataDir } = await start();
    const id = await seedVideo(base, dataDir);

    // a playback WebSocket, and an HTTP device's long poll waiting for a change that never comes
    const ws = openWs(`ws://127.0.0.1:${port}/ws/stream/${id}/?device=tv`);
    const hello = await ws.nextOf((f) => f.type === "state");
    expect(hello.type).toBe("state");
    const first = await fetch(`${base}/api/stream/${id}/state/?device=remote`);
    expect(first.status).toBe(200);
    const version = ((await first.json()) as { state: { version: number } }).state.version;
    const longPoll = fetch(`${base}/api/stream/${id}/state/?device=remote&since=${version}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { state: { version: number } }, at: Date.now() }));

    // the slow request: a 48 MiB download whose client stops reading after the first bytes
    const dl = rawConnection(port);
    dl.socket.write(`GET /api/videos/${id}/stream/480p/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until("the download's first bytes", () => dl.received().length > 0);
    dl.socket.pause();
    await new Promise((r) => setTimeout(r, 300));
    expect(dl.received().toString("latin1")).toMatch(/^HTTP\/1\.1 200 /);

    const t0 = Date.now();
    server!.child.kill("SIGTERM");
    await until("the server to start draining", () => server!.output.includes('"msg":"shutting down"'));

    // the long poll answers now with the unchanged state, not after its 60 s
    const polled = await longPoll;
    expect(polled.status).toBe(200);
    expect(polled.body.state.version).toBe(version);
    expect(polled.at - t0).toBeLessThan(3000);
    // the WebSocket is closed with 1001 "going away"
    expect(await ws.closed).toEqual({ code: 1001, reason: "server shutting down" });
    // no new connection is accepted
    await expect(fetch(`${base}/api/health/live/`)).rejects.toThrow();

    // on the download's connection, a request arriving while draining finds readiness 503
    dl.socket.write("GET /api/health/ready/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((r) => setTimeout(r, 500));
    expect(server!.alive).toBe(true);
    dl.socket.resume();
    await dl.closed;
    const text = dl.received().toString("latin1");
    const headEnd = text.indexOf("\r\n\r\n");
    expect(text.slice(0, headEnd)).toMatch(new RegExp(`content-length: ${DOWNLOAD_BYTES}`, "i"));
    const rest = text.slice(headEnd + 4 + DOWNLOAD_BYTES);
    expect(rest).toMatch(/^HTTP\/1\.1 503 /);
    expect(rest).toMatch(/connection: close/i);
    const body = JSON.parse(rest.slice(rest.indexOf("\r\n\r\n") + 4)) as { error: { code: string; details: { failing: string[] } } };
    expect(body.error.code).toBe("not_ready");
    expect(body.error.details.failing).toEqual(["shutting_down"]);

    const exit = await server!.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1000);
    expect(server!.output).toContain('"msg":"shut down"');
  }, 90_000);

  it("cuts what is still running at SHUTDOWN_TIMEOUT and exits 0; a second signal exits at once", async () => {
    const { base, port, dataDir } = await start({ SHUTDOWN_TIMEOUT: "2" });
    const id = await seedVideo(base, dataDir);
    const stuck = rawConnection(port);
    stuck.socket.write(`GET /api/videos/${id}/stream/480p/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until("the download's first bytes", () => stuck.received().length > 0);
    stuck.socket.pause();

    const t0 = Date.now();
    server!.child.kill("SIGTERM");
    const exit = await server!.exited;
    // the client never read: its download was cut at the bound, then the process ended normally
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeGreaterThanOrEqual(1900);
    expect(exit.at - t0).toBeLessThan(2000 + 5000);
    expect(server!.output).toContain("requests still running at SHUTDOWN_TIMEOUT");
    stuck.socket.destroy();

    const again = await start({ SHUTDOWN_TIMEOUT: "30" });
    const id2 = await seedVideo(again.base, again.dataDir);
    const stuck2 = rawConnection(again.port);
    stuck2.socket.write(`GET /api/videos/${id2}/stream/480p/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until("the download's first bytes", () => stuck2.received().length > 0);
    stuck2.socket.pause();
    const t1 = Date.now();
    server!.child.kill("SIGTERM");
    await until("the server to start draining", () => server!.output.includes('"msg":"shutting down"'));
    server!.child.kill("SIGINT");
    const forced = await server!.exited;
    expect(forced).toMatchObject({ code: 1, signal: null });
    expect(forced.at - t1).toBeLessThan(5000);
    expect(server!.output).toContain("second signal: exiting now");
    stuck2.socket.destroy();
  }, 120_000);
});
