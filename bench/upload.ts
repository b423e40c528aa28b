/**
 * bench/upload: throughput of a 1 GiB tus upload on loopback, as a ratio to writing the same
 * bytes to the same disk with `dd bs=1M conv=fsync`, in the same run; and the server's peak RSS.
 *
 *   npx tsx bench/upload.ts [--size-mb 1024] [--chunk-mb 64] [--runs 3] [--keep]
 *
 * Starts vidflux as a child process the way `npm start` runs it (tsc output on plain node) with an
 * embedded config (temp DATA_DIR, SQLite, disk storage, no worker), creates an uploader and a token
 * directly in its database, then `--runs` times: `dd` of the size to DATA_DIR, and one tus upload
 * (POST, then PATCHes of `--chunk-mb`, each fsynced by the server before it answers) timed from
 * the POST to the last 204. Medians of both; the server's VmHWM after all uploads.
 * Prints the numbers and the goals (>= 0.7x dd, RSS < 200 MB); exits 1 when a goal is missed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.js";
import { closeDomains, composeDomains } from "../src/composition.js";
import { createContext } from "../src/context.js";
import { newId, nowIso } from "../src/lib/ids.js";
import { buildServer, freePort, statusOf, waitHttp } from "./bench-lib.js";


const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MiB = 1024 * 1024;
const SIZE = opt("size-mb", 1024) * MiB;
const CHUNK = opt("chunk-mb", 64) * MiB;
const RUNS = opt("runs", 3);
const KEEP = args.includes("--keep");
const GOAL_RATIO = 0.7;
const GOAL_RSS_MB = 200;

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};




interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(url: string, method: string, headers: Record<string, string>, body?: Readable): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body) body.pipe(req);
    else req.end();
  });
}


/**
 * `length` bytes of upload data starting at `offset`: an ISO-BMFF `ftyp` box first (the server
 * sniffs the first bytes and would refuse anything that does not look like a video), then a
 * random 4 MiB block repeated. Generated on the fly: the bench holds no GiB buffer either.
 */
function dataStream(block: Buffer, offset: number, length: number): Readable {
  let pos = offset;
  const end = offset + length;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (pos >= end) return void this.push(null);
      const at = pos % block.length;
      const n = Math.min(block.length - at, end - pos, MiB);
      this.push(block.subarray(at, at + n));
      pos += n;
    },
  });
}

function makeBlock(): Buffer {
  const block = randomBytes(4 * MiB);
  const ftyp = Buffer.from("00000018667479706d703432000000006d70343269736f6d", "hex");
  ftyp.copy(block, 0);
  return block;
}

function dd(file: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("dd", ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${SIZE / MiB}`, "conv=fsync"], { stdio: ["ignore", "ignore", "pipe"] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`dd failed: ${r.stderr?.toString()}`);
  rmSync(file, { force: true });
  return s;
}

async function tusUpload(base: string, token: string, block: Buffer): Promise<{ seconds: number; videoId: string }> {
  const auth = { authorization: `Bearer ${token}`, "tus-resumable": "1.0.0" };
  const meta = `filename ${Buffer.from("bench.mp4").toString("base64")},title ${Buffer.from("bench").toString("base64")}`;
  const t0 = process.hrtime.bigint();
  const created = await request(`${base}/api/videos/upload/`, "POST", { ...auth, "upload-length": String(SIZE), "upload-metadata": meta, "content-length": "0" });
  if (created.status !== 201) throw new Error(`POST ${created.status}: ${created.body}`);
  const url = new URL(String(created.headers.location), base).toString();
  let offset = 0;
  while (offset < SIZE) {
    const n = Math.min(CHUNK, SIZE - offset);
    const r = await request(url, "PATCH", { ...auth, "content-type": "application/offset+octet-stream", "upload-offset": String(offset), "content-length": String(n) }, dataStream(block, offset, n));
    if (r.status !== 204) throw new Error(`PATCH at ${offset}: ${r.status} ${r.body}`);
    offset = Number(r.headers["upload-offset"]);
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, videoId: String(created.headers["video-id"]) };
}

/** Waits for the upload's validation to end, so it does not overlap the next measurement. */
async function settle(base: string, token: string, videoId: string): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await request(`${base}/api/videos/${videoId}/`, "GET", { authorization: `Bearer ${token}` });
    const status = r.status === 200 ? (JSON.parse(r.body) as { status: string }).status : `http ${r.status}`;
    if (!["uploading", "validating"].includes(status)) return status;
    if (Date.now() > deadline) return status;
    await new Promise((res) => setTimeout(res, 200));
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "vidflux-bench-upload-"));
  let server: ChildProcess | null = null;
  let failed = false;
  try {
    const dataDir = path.join(dir, "data");
    const env: Record<string, string> = {
      NODE_ENV: "production",
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      EMBEDDED_WORKER: "false",
      RATE_LIMIT: "false",
      MAX_UPLOAD_SIZE: String(SIZE * 2),
      USER_VIDEO_QUOTA: String(SIZE * (RUNS + 2)),
    };
    const config = loadConfig(env);
    const ctx = await createContext(config);
    const userId = newId();
    await ctx.db
      .insertInto("users")
      .values({ id: userId, username: "bench", username_key: "bench", email: "bench@example.test", password_hash: "x", role: "uploader", display_name: "bench", bio: "", avatar_key: null, is_active: 1, date_joined: nowIso(), last_login: null })
      .execute();
    const domains = await composeDomains(ctx);
    const token = (await domains.users.auth.issueTokens({ id: userId, token_version: 0 })).access;
    await closeDomains(domains);
    await ctx.close();

    log(`building the server (tsc)…`);
    const serverJs = buildServer();
    const port = await freePort();
    const proc = spawn(process.execPath, [serverJs, "--api-only"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port), HOST: "127.0.0.1" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    server = proc;
    const base = `http://127.0.0.1:${port}`;
    await waitHttp(`${base}/api/health/`);
    const block = makeBlock();
    const startRss = statusOf(proc.pid!);

    const gib = SIZE / 1024 ** 3;
    log(`${gib.toFixed(2)} GiB, tus PATCHes of ${CHUNK / MiB} MiB, ${RUNS} runs, DATA_DIR ${dataDir}`);
    const ddS: number[] = [];
    const upS: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ddS.push(dd(path.join(dataDir, "dd.bin")));
      const up = await tusUpload(base, token, block);
      upS.push(up.seconds);
      const outcome = await settle(base, token, up.videoId);
      log(`  run ${i + 1}: dd ${(SIZE / MiB / ddS[i]!).toFixed(0)} MB/s (${ddS[i]!.toFixed(2)} s), tus ${(SIZE / MiB / up.seconds).toFixed(0)} MB/s (${up.seconds.toFixed(2)} s; video then ${outcome})`);
    }
    const ddRate = SIZE / MiB / median(ddS);
    const upRate = SIZE / MiB / median(upS);
    const ratio = upRate / ddRate;
    const st = statusOf(proc.pid!);
    const hwmMb = st.hwmKb / 1024;
    const ratioOk = ratio >= GOAL_RATIO;
    const rssOk = hwmMb < GOAL_RSS_MB;
    failed = !ratioOk || !rssOk;
    log("");
    log(`dd bs=1M conv=fsync  median ${ddRate.toFixed(0)} MiB/s`);
    log(`tus upload           median ${upRate.toFixed(0)} MiB/s`);
    log(`ratio                ${ratio.toFixed(2)}x (goal >= ${GOAL_RATIO}x) ${ratioOk ? "OK" : "MISSED"}`);
    log(`server RSS           at start ${(startRss.rssKb / 1024).toFixed(0)} MB, peak (VmHWM) ${hwmMb.toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB) ${rssOk ? "OK" : "MISSED"}`);
  } finally {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
    agent.destroy();
    if (KEEP) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
