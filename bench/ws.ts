/**
 * bench/ws: live playback control fanned out to 1,000 WebSocket clients in one session, against a
 * bare `ws` server (WebSocketServer, no framework) broadcasting the same frames, in the same run.
 *
 *   npx tsx bench/ws.ts [--clients 1000] [--events 50] [--interval-ms 100] [--burst 30] [--rounds 2] [--batch 50] [--keep] [--profile DIR]
 *
 * Starts vidflux as a child process the way `npm start` runs it (tsc output on plain node) with an
 * embedded config (temp DATA_DIR, SQLite, the in-process state hub), rate limits on but raised so
 * the bench measures fan-out, not the limiter refusing it. In its database, directly: one ready
 * public video (the playback fixtures' media) and `--clients` users with access tokens signed by
 * the users domain's TokenService. User 0 creates a watch room (`control: "owner"`) over HTTP and
 * every user joins it with one socket (connecting `--batch` at a time): a watch party, so presence
 * (1,000 members, each a user) is as real as the state frames; a personal session with 1,000
 * devices of one user would fan out the same way but is nobody's use.
 *
 * The baseline, started next to it, gets the same clients and URLs, greets each socket, and
 * answers each seek with a state frame of the very shape vidflux sent (captured during a warm-up
 * socket's seek), serialized once, to every client. Both servers keep their 1,000 clients (all in
 * this process) connected while the phases alternate between them, `--rounds` times, so a busy
 * moment of the machine hits both alike; the best round of each counts. From socket 0 (the
 * controller, the room's owner):
 *   1. paced: `--events` seeks, one every `--interval-ms`, to positions never used before; each
 *      state frame is matched to its seek by position, and latency is send time in the controller
 *      → receipt in each client (one process, one clock): p50, p99, max; messages/s delivered.
 *      Every 100 ms by default: the most one device may send for long in production (the default
 *      PLAYBACK_CONTROL_RATE, 10/s), 10,000 frames/s here. At 20 ms (50,000 frames/s), on the
 *      2-vCPU machine this was written on, the bare server and the clients were saturated too,
 *      and p99 measured a queue rather than delivery;
 *   2. burst: `--burst` seeks back to back (30: the default PLAYBACK_CONTROL_BURST): messages/s
 *      delivered when nothing paces the server.
 * Memory is each server process's VmRSS (from /proc, so the clients' memory is not counted): idle
 * (vidflux after the warm-up socket came and went, so lazily loaded code is not counted as
 * per-socket memory) and with every socket connected (and, for vidflux, presence settled): the
 * growth is what 1,000 sockets cost. Each phase also prints the server's CPU time per delivered
 * frame (the cost of the fan-out itself, the number least coloured by other load) and this
 * process's event-loop use (near 100%: the clients were the bottleneck, for both servers).
 * Prints numbers and goals (p99 < 50 ms, growth < 100 MB), each PASS or FAIL; exits 1 when a goal
 * is missed. Every wait has a timeout, and a watchdog ends the run after WATCHDOG_MS.
 *
 * File descriptors: this process holds one per client socket (2,000), each server one per socket.
 * Node raises its soft `ulimit -n` to the hard limit at start-up, so only a hard limit below that
 * is a problem: the bench then tries prlimit(1) (which only root may use to raise it) and
 * otherwise stops, saying so, before opening anything.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { loadConfig } from "../src/config.js";
import { closeDomains, composeDomains } from "../src/composition.js";
import { createContext } from "../src/context.js";
import { newId, nowIso } from "../src/lib/ids.js";
import { PLAYBACK_DURATION_S, playbackMedia } from "../src/apps/playback/playback.fixtures.js";
import { insertReadyVideo } from "../src/apps/streaming/streaming.fixtures.js";
import { buildServer, freePort, statusOf, waitHttp } from "./bench-lib.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const CLIENTS = opt("clients", 1000);
const EVENTS = opt("events", 50);
const INTERVAL_MS = opt("interval-ms", 100);
const BURST = opt("burst", 30);
const BATCH = opt("batch", 50);
/** Each phase runs this many times per server, alternating servers; the best round of each counts. */
const ROUNDS = opt("rounds", 2);
const KEEP = args.includes("--keep");
/** `--profile <dir>`: the vidflux server writes a V8 CPU profile there when it exits (where its time goes). */
const PROFILE_DIR = args.includes("--profile") ? path.resolve(args[args.indexOf("--profile") + 1] ?? "bench-ws-profile") : null;
const GOAL_P99_MS = 50;
const GOAL_GROWTH_MB = 100;
/** Every wait of the bench ends: a socket that does not open or greet in this time fails the run. */
const CONNECT_TIMEOUT_MS = 10_000;
const PHASE_TIMEOUT_MS = 10_000;
/** The whole bench, whatever hangs: past this the children are killed and the run fails. */
const WATCHDOG_MS = 150_000;

/** Seek positions: distinct, exact in binary (so the state's rounded position is the same number). */
const POS0 = 10;
const STEP = 0.125;
const positionOf = (k: number) => POS0 + k * STEP;
const eventOf = (position: number) => Math.round((position - POS0) / STEP);

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Soft and hard limits on open files, from /proc (Node has no getrlimit). */
function fdLimits(pid: number | "self" = "self"): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  const n = (s: string | undefined) => (s === "unlimited" ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

function ensureFdLimit(need: number): void {
  const { soft, hard } = fdLimits();
  if (soft >= need) return;
  // Node already raised soft to hard; going further takes root (the servers inherit the result).
  spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${need}:${Math.max(need, hard)}`], { stdio: "ignore" });
  const now = fdLimits().soft;
  if (now < need) throw new Error(`open files limit ${now} < ${need} needed (hard ${hard}); raise it as root (ulimit -Hn ${need}) first`);
  log(`raised the open files limit from ${soft} to ${now}`);
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function request(method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, headers: { ...headers, ...(data ? { "content-type": "application/json" } : {}) }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : null });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end(data);
  });
}

interface Server {
  name: string;
  proc: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await once(proc, "exit");
  clearTimeout(killer);
}

async function startVidflux(serverJs: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [...(PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : []), serverJs], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  await waitHttp(`http://127.0.0.1:${port}/api/health/`);
  return { name: "vidflux", proc, port, stop: () => stopProc(proc) };
}

/**
 * The baseline: `ws` alone. One hello frame per connection (as vidflux greets), and each seek
 * answered to every client with one state frame serialized once, in vidflux's own shape.
 */
const BARE_SERVER = `
const { WebSocketServer } = require("ws");
const tpl = JSON.parse(process.env.BENCH_TEMPLATE);
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.PORT), maxPayload: 64 * 1024 });
let version = tpl.version;
wss.on("connection", (ws) => {
  ws.send(JSON.stringify({ type: "state", state: tpl.state, session: { kind: "room" }, members: [], by: null }));
  ws.on("message", (data) => {
    let m;
    try { m = JSON.parse(String(data)); } catch { return; }
    if (m.type !== "seek") return;
    version++;
    const now = Date.now();
    const raw = JSON.stringify({ type: "state", state: { ...tpl.state, position: m.position, version, updated_at: new Date(now).toISOString(), server_time: now }, by: tpl.by, version });
    for (const c of wss.clients) if (c.readyState === 1) c.send(raw);
  });
});
wss.on("listening", () => process.stdout.write("LISTENING\\n"));
process.on("SIGTERM", () => { for (const c of wss.clients) c.terminate(); wss.close(() => process.exit(0)); });
`;

async function startBare(template: string): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, ["-e", BARE_SERVER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", PORT: String(port), BENCH_TEMPLATE: template },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("the bare ws server did not start")), 10_000);
    proc.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("LISTENING")) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once("exit", () => reject(new Error("the bare ws server exited")));
  });
  return { name: "bare ws", proc, port, stop: () => stopProc(proc) };
}

/** One benchmark client: receipt times per event, and what it saw of presence. */
interface Client {
  ws: WebSocket;
  /** performance.now() at receipt, per event index (NaN: not received) */
  got: Float64Array;
  frames: number;
  duplicates: number;
  /** `count` of the last presence frame */
  presence: number;
}

/**
 * Opens one client and resolves once the server's first frame (the greeting) arrived. Frames
 * are not parsed whole: a state frame's position is read with a regexp and a presence frame's
 * count from its tail (1,000 members make it ~150 KB), so the clients stay cheap next to the
 * server and the same for both servers.
 */
function openClient(url: string, totalEvents: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    // The servers send ASCII JSON: validating UTF-8 would only add client work to every frame.
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: CONNECT_TIMEOUT_MS });
    const c: Client = { ws, got: new Float64Array(totalEvents).fill(NaN), frames: 0, duplicates: 0, presence: 0 };
    let greeted = false;
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no greeting within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    ws.on("message", (data: Buffer) => {
      const at = performance.now();
      c.frames++;
      if (!greeted) {
        greeted = true;
        clearTimeout(t);
        resolve(c);
        return;
      }
      // `{"type":"` is 9 bytes: the 10th tells state (s) from presence (p).
      const kind = data[9];
      if (kind === 0x73 /* s */ && data[10] === 0x74 /* t */) {
        const m = /"position":([0-9.]+)/.exec(data.toString("latin1", 0, Math.min(data.length, 400)));
        if (!m) return;
        const k = eventOf(Number(m[1]));
        if (k < 0 || k >= totalEvents) return;
        if (Number.isNaN(c.got[k]!)) c.got[k] = at;
        else c.duplicates++;
      } else if (kind === 0x70 /* p */ && data[10] === 0x72 /* r */) {
        const m = /"count":(\d+)/.exec(data.toString("latin1", Math.max(0, data.length - 120)));
        if (m) c.presence = Number(m[1]);
      }
    });
    ws.on("error", (err) => {
      clearTimeout(t);
      reject(err);
    });
    ws.on("close", (code) => {
      clearTimeout(t);
      if (!greeted) reject(new Error(`closed ${code} before the greeting`));
    });
  });
}

async function connectAll(urls: string[], totalEvents: number): Promise<{ clients: Client[]; seconds: number }> {
  const t0 = performance.now();
  const clients: Client[] = [];
  for (let i = 0; i < urls.length; i += BATCH) {
    clients.push(...(await Promise.all(urls.slice(i, i + BATCH).map((u) => openClient(u, totalEvents)))));
  }
  return { clients, seconds: (performance.now() - t0) / 1000 };
}

async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          const t = setTimeout(() => {
            c.ws.terminate();
            resolve();
          }, 3000);
          c.ws.once("close", () => {
            clearTimeout(t);
            resolve();
          });
          c.ws.close();
        }),
    ),
  );
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) {
      log(`  (timed out after ${timeoutMs} ms waiting for ${what})`);
      return false;
    }
    await sleep(10);
  }
  return true;
}

interface PhaseResult {
  p50: number;
  p99: number;
  max: number;
  received: number;
  missing: number;
  duplicates: number;
  msgsPerS: number;
  seconds: number;
  clientElu: number;
  /** this (the clients') process's CPU time in the phase */
  clientCpuS: number;
  serverCpuS: number;
}

/**
 * Sends events [from, from + n) from the controller, every `intervalMs` (0: back to back), and
 * waits until every client got every one of them (or the phase times out).
 */
async function phase(server: Server, clients: Client[], from: number, n: number, intervalMs: number): Promise<PhaseResult> {
  const controller = clients[0]!;
  const sent = new Float64Array(n);
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = cpuSeconds(server.proc.pid!);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (intervalMs > 0) {
      const due = t0 + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
    }
    sent[i] = performance.now();
    controller.ws.send(JSON.stringify({ type: "seek", position: positionOf(from + i) }));
  }
  const complete = () => clients.every((c) => !Number.isNaN(c.got[from + n - 1]!) && c.got.subarray(from, from + n).every((x) => !Number.isNaN(x)));
  await until("every client to receive every event", complete, PHASE_TIMEOUT_MS);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const clientCpu = process.cpuUsage(clientCpu0);
  const cpu = cpuSeconds(server.proc.pid!) - cpu0;
  const lat: number[] = [];
  let last = t0;
  let duplicates = 0;
  for (const c of clients) {
    duplicates += c.duplicates;
    for (let i = 0; i < n; i++) {
      const at = c.got[from + i]!;
      if (Number.isNaN(at)) continue;
      lat.push(at - sent[i]!);
      if (at > last) last = at;
    }
  }
  const sorted = Float64Array.from(lat).sort();
  const seconds = (last - t0) / 1000;
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    received: lat.length,
    missing: clients.length * n - lat.length,
    duplicates,
    msgsPerS: lat.length / seconds,
    seconds,
    clientElu: elu,
    clientCpuS: (clientCpu.user + clientCpu.system) / 1e6,
    serverCpuS: cpu,
  };
}

/** One server under test with its clients, and what was measured of it. */
interface Target {
  server: Server;
  clients: Client[];
  /** the next event index (positions are never reused, so a late frame is never miscounted) */
  next: number;
  idleMb: number;
  connectedMb: number;
  afterMb: number;
  hwmMb: number;
  connectS: number;
  /** the server's CPU time from the first connect until presence settled */
  connectCpuS: number;
  presenceSettled: boolean | null;
  paced: PhaseResult[];
  burst: PhaseResult[];
}

const mb = (kb: number) => kb / 1024;
/** Events per client over the whole run: every round's paced and burst phases. */
const TOTAL_EVENTS = ROUNDS * (EVENTS + BURST);

async function connectTarget(server: Server, urls: string[], expectPresence: boolean): Promise<Target> {
  const pid = server.proc.pid!;
  const idle = statusOf(pid);
  const cpu0 = cpuSeconds(pid);
  const { clients, seconds: connectS } = await connectAll(urls, TOTAL_EVENTS);
  // vidflux tells every member who is present (debounced): wait for the last such round to reach
  // everyone, so the memory is measured at rest and no presence frame lands inside a phase.
  const presenceSettled = expectPresence ? await until("presence to settle", () => clients.every((c) => c.presence === clients.length), 15_000) : null;
  const connectCpuS = cpuSeconds(pid) - cpu0;
  await sleep(500);
  const connected = statusOf(pid);
  return { server, clients, next: 0, idleMb: mb(idle.rssKb), connectedMb: mb(connected.rssKb), afterMb: 0, hwmMb: 0, connectS, connectCpuS, presenceSettled, paced: [], burst: [] };
}

async function runPhase(t: Target, kind: "paced" | "burst"): Promise<void> {
  const n = kind === "paced" ? EVENTS : BURST;
  const r = await phase(t.server, t.clients, t.next, n, kind === "paced" ? INTERVAL_MS : 0);
  t.next += n;
  t[kind].push(r);
  await sleep(200);
}

/** The round least disturbed by the rest of the machine: lowest p99 (paced) or most msgs/s (burst). */
function best(rs: PhaseResult[], by: "p99" | "msgsPerS"): PhaseResult {
  return rs.reduce((a, b) => (by === "p99" ? (b.p99 < a.p99 ? b : a) : b.msgsPerS > a.msgsPerS ? b : a));
}

/** Server CPU time per frame delivered, µs: what the fan-out costs, whatever else keeps the machine busy. */
const cpuPerFrame = (r: PhaseResult) => (r.serverCpuS * 1e6) / Math.max(1, r.received);

function fmtPhase(r: PhaseResult): string {
  return (
    `p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  max ${r.max.toFixed(2).padStart(6)} ms  ` +
    `${r.msgsPerS.toFixed(0).padStart(7)} msgs/s  (${r.received} frames in ${r.seconds.toFixed(2)} s${r.missing ? `, ${r.missing} MISSING` : ""}${r.duplicates ? `, ${r.duplicates} duplicates` : ""}; ` +
    `server CPU ${(r.serverCpuS * 1000).toFixed(0)} ms = ${cpuPerFrame(r).toFixed(2)} µs/frame, clients ${((r.clientCpuS * 1e6) / Math.max(1, r.received)).toFixed(2)} µs/frame, client loop ${(r.clientElu * 100).toFixed(0)}% busy)`
  );
}

function report(name: string, t: Target): void {
  log(`${name}`);
  log(`  connect ${CLIENTS} sockets in batches of ${BATCH}: ${t.connectS.toFixed(2)} s, server CPU ${t.connectCpuS.toFixed(2)} s until ${t.presenceSettled === null ? "greeted" : "presence settled"}${t.presenceSettled === false ? " (presence did NOT settle)" : ""}`);
  log(`  RSS idle ${t.idleMb.toFixed(1)} MB, ${CLIENTS} sockets connected ${t.connectedMb.toFixed(1)} MB (+${(t.connectedMb - t.idleMb).toFixed(1)} MB), after the events ${t.afterMb.toFixed(1)} MB, peak (VmHWM) ${t.hwmMb.toFixed(1)} MB`);
  t.paced.forEach((r, i) => log(`  paced #${i + 1}: ${EVENTS} seeks every ${INTERVAL_MS} ms: ${fmtPhase(r)}`));
  t.burst.forEach((r, i) => log(`  burst #${i + 1}: ${BURST} seeks back to back: ${fmtPhase(r)}`));
}

async function prepare(env: Record<string, string>): Promise<{ videoId: string; tokens: string[] }> {
  const config = loadConfig(env);
  const ctx = await createContext(config);
  const domains = await composeDomains(ctx);
  try {
    const ids = Array.from({ length: CLIENTS }, () => newId());
    const now = nowIso();
    // In chunks: one statement per 200 rows stays under SQLite's bound-parameter limit.
    for (let i = 0; i < ids.length; i += 200) {
      await ctx.db
        .insertInto("users")
        .values(
          ids.slice(i, i + 200).map((id, j) => ({
            id,
            username: `bench_${i + j}`,
            username_key: `bench_${i + j}`,
            email: `bench_${i + j}@example.test`,
            password_hash: "x",
            role: i + j === 0 ? ("uploader" as const) : ("user" as const),
            display_name: `Bench ${i + j}`,
            bio: "",
            avatar_key: null,
            is_active: 1,
            date_joined: now,
            last_login: null,
          })),
        )
        .execute();
    }
    // One session each (access tokens are bound to a live refresh-token family).
    const tokens = await Promise.all(ids.map(async (id) => (await domains.users.auth.issueTokens({ id, token_version: 0 })).access));
    const videoId = newId();
    await insertReadyVideo(ctx, { id: videoId, ownerId: ids[0]!, visibility: "public", media: playbackMedia(videoId), durationS: PLAYBACK_DURATION_S });
    return { videoId, tokens };
  } finally {
    await closeDomains(domains);
    await ctx.close();
  }
}

/** One socket joins user 0's personal session, seeks, leaves: warms the server and yields the frame template. */
async function warmUp(port: number, videoId: string, token: string): Promise<string> {
  const c = await openClient(`ws://127.0.0.1:${port}/ws/stream/${videoId}/?token=${token}&device=warmup`, 1);
  const frame = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no state frame after the warm-up seek")), 5000);
    c.ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      if (text.startsWith('{"type":"state"') && text.includes('"by":"warmup"')) {
        clearTimeout(t);
        resolve(text);
      }
    });
  });
  c.ws.send(JSON.stringify({ type: "seek", position: positionOf(0) }));
  const text = await frame;
  await closeAll([c]);
  return text;
}

/** Every server started, stopped at the end (or killed by the watchdog). */
const servers: Server[] = [];

async function main(): Promise<void> {
  if (positionOf(TOTAL_EVENTS) > PLAYBACK_DURATION_S) throw new Error(`too many events for a ${PLAYBACK_DURATION_S} s video: lower --rounds, --events or --burst`);
  // Both servers' clients live here at once; each server holds one descriptor per socket.
  ensureFdLimit(2 * CLIENTS + 512);
  const watchdog = setTimeout(() => {
    console.error(`bench/ws: still running after ${WATCHDOG_MS / 1000} s; giving up`);
    for (const s of servers) s.proc.kill("SIGKILL");
    process.exit(2);
  }, WATCHDOG_MS);
  // Fires only if something still holds the process open; a finished run exits without it.
  watchdog.unref();
  const started = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), "vidflux-bench-ws-"));
  let failed = false;
  try {
    const env = {
      NODE_ENV: "production",
      DATA_DIR: path.join(dir, "data"),
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      EMBEDDED_WORKER: "false",
      // On, as in production, but out of the way: 1,000 upgrades from one address, and a
      // controller that keeps seeking through every round without refill pauses.
      RATE_LIMIT: "true",
      RATE_LIMIT_MAX: "1000000",
      PLAYBACK_CONTROL_RATE: "10000",
      PLAYBACK_CONTROL_BURST: "10000",
    };
    log(`preparing ${CLIENTS} users, their tokens and a video; building the server…`);
    const { videoId, tokens } = await prepare(env);
    const serverJs = buildServer();

    const vid = await startVidflux(serverJs, env);
    servers.push(vid);
    const room = await request("POST", `http://127.0.0.1:${vid.port}/api/stream/${videoId}/rooms/`, { control: "owner" }, { authorization: `Bearer ${tokens[0]}` });
    const code = (room.json as { code?: string } | null)?.code;
    if (room.status !== 201 || !code) throw new Error(`room not created: ${room.status} ${JSON.stringify(room.json)}`);
    const template = await warmUp(vid.port, videoId, tokens[0]!);
    const tpl = JSON.parse(template) as { state: Record<string, unknown>; by: string; version: number };
    log(`vidflux pid ${vid.proc.pid}, room ${code} (control: owner); frames: state ${Buffer.byteLength(template)} B; ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}`);
    const urlsFor = (port: number) => tokens.map((t, i) => `ws://127.0.0.1:${port}/ws/stream/${videoId}/?token=${t}&room=${code}&device=d${i}`);

    // Both servers up with 1,000 clients each (in this process), then the phases alternate
    // between them, round after round, so a busy moment of the machine hits both alike.
    const bare = await startBare(JSON.stringify({ state: tpl.state, by: "d0", version: 0 }));
    servers.push(bare);
    await sleep(500);
    const b = await connectTarget(bare, urlsFor(bare.port), false);
    const v = await connectTarget(vid, urlsFor(vid.port), true);
    try {
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of r % 2 ? [v, b] : [b, v]) await runPhase(t, "paced");
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of r % 2 ? [v, b] : [b, v]) await runPhase(t, "burst");
      }
      for (const t of [b, v]) {
        const st = statusOf(t.server.proc.pid!);
        t.afterMb = mb(st.rssKb);
        t.hwmMb = mb(st.hwmKb);
      }
      if (KEEP) {
        log(`--keep: vidflux left running at http://127.0.0.1:${vid.port} (video ${videoId}, room ${code}), its ${CLIENTS} clients connected. Ctrl-C to end.`);
        clearTimeout(watchdog);
        await new Promise((r) => process.once("SIGINT", r));
      }
    } finally {
      await closeAll([...b.clients, ...v.clients]);
    }
    await bare.stop();
    await vid.stop();

    log("");
    report(`bare ws (baseline, pid ${bare.proc.pid})`, b);
    report(`vidflux (room of ${CLIENTS} members, pid ${vid.proc.pid})`, v);
    const [vp, bp, vb, bb] = [best(v.paced, "p99"), best(b.paced, "p99"), best(v.burst, "msgsPerS"), best(b.burst, "msgsPerS")];
    const growth = v.connectedMb - v.idleMb;
    const complete = [...v.paced, ...v.burst].every((r) => r.missing === 0);
    const p99ok = vp.p99 < GOAL_P99_MS && complete;
    const growthOk = growth < GOAL_GROWTH_MB;
    if (!p99ok || !growthOk) failed = true;
    log("");
    log(`best of ${ROUNDS} rounds, vidflux / bare ws: paced p99 ${vp.p99.toFixed(2)} / ${bp.p99.toFixed(2)} ms = ${(vp.p99 / bp.p99).toFixed(2)}x, paced msgs/s ${(vp.msgsPerS / bp.msgsPerS).toFixed(2)}x, ` +
      `burst msgs/s ${vb.msgsPerS.toFixed(0)} / ${bb.msgsPerS.toFixed(0)} = ${(vb.msgsPerS / bb.msgsPerS).toFixed(2)}x, ` +
      `server CPU per delivered frame (burst) ${cpuPerFrame(vb).toFixed(2)} / ${cpuPerFrame(bb).toFixed(2)} µs = ${(cpuPerFrame(vb) / cpuPerFrame(bb)).toFixed(2)}x, RSS growth ${growth.toFixed(1)} / ${(b.connectedMb - b.idleMb).toFixed(1)} MB`);
    if (vp.clientElu > 0.8 || bp.clientElu > 0.8) log(`note: the clients' event loop was over 80% busy in the best paced rounds (${(vp.clientElu * 100).toFixed(0)}% / ${(bp.clientElu * 100).toFixed(0)}%): latencies include queueing in the clients, for both servers (load average now ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs)`);
    log(`goal: paced delivery p99 < ${GOAL_P99_MS} ms to all ${CLIENTS} clients: ${vp.p99.toFixed(2)} ms${complete ? "" : " (frames missing)"} ${p99ok ? "PASS" : "FAIL"}`);
    log(`goal: RSS growth for ${CLIENTS} sockets < ${GOAL_GROWTH_MB} MB: ${growth.toFixed(1)} MB ${growthOk ? "PASS" : "FAIL"}`);
    log(`bench/ws took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    clearTimeout(watchdog);
    for (const s of servers.reverse()) await s.stop().catch(() => undefined);
    if (KEEP) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
