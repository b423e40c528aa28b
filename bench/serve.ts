/**
 * bench/serve: vidflux's media serving against nginx serving the same files, in the same run.
 *
 *   npx tsx bench/serve.ts [--duration 10] [--rounds 2] [--connections 32] [--size-mb 2048] [--keep]
 *
 * Starts vidflux (a child process with an embedded config: temp DATA_DIR, SQLite, disk storage, a
 * generated file and a video row) and nginx from Debian (temp config, 127.0.0.1, same root),
 * installing `nginx-light` and `wrk` with apt-get when missing. Then, with wrk on loopback:
 *   1. 1 MiB Range GETs at random offsets of the big file: requests/s and p99, ratio to nginx;
 *   2. HLS segment GETs, random segments of a 240p-1080p CBR ladder with 4 s segments (the
 *      default segment length), ratio to nginx; and, informational, of a tiny 1 s 240p clip
 *      (~50 KB segments), where per-request overhead rather than bytes dominates;
 * Each measurement alternates nginx and vidflux `--rounds` times and keeps each one's best run.
 * Beside 1 and 2, the offload rows (MEDIA_OFFLOAD=nginx): nginx in front of a second vidflux,
 * which checks a *private* video's playback token and answers X-Accel-Redirect, and nginx sends
 * the file from its internal location; ratio to plain nginx serving the same file (goal >= 0.9x).
 *   3. a fresh server's peak RSS (VmHWM) while 50 clients stream the whole big file (25 as fast
 *      as they can, 25 throttled like players) for the run's duration.
 * Prints numbers and goals (>= 0.6x nginx, RSS < 200 MB); exits 1 when a goal is missed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, statSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { loadConfig } from "../src/config.js";
import { createContext } from "../src/context.js";
import { newId, nowIso } from "../src/lib/ids.js";
import { buildFixture, insertReadyVideo, storeFixture } from "../src/apps/streaming/streaming.fixtures.js";
import { buildServer, freePort, statusOf, waitHttp } from "./bench-lib.js";


const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const DURATION_S = opt("duration", 10);
const CONNECTIONS = opt("connections", 32);
const SIZE = opt("size-mb", 2048) * 1024 * 1024;
const KEEP = args.includes("--keep");
/** Each measurement runs this many times, alternating servers; the best run of each counts. */
const ROUNDS = opt("rounds", 2);
const CHUNK = 1024 * 1024;
const GOAL_RATIO = 0.6;
/** nginx -> API access check -> internal location, against plain nginx (issue 15). */
const GOAL_OFFLOAD_RATIO = 0.9;
const GOAL_RSS_MB = 200;

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

function have(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function ensureTools(): { nginx: string; wrk: string } {
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  const missing = [...(nginx ? [] : ["nginx-light"]), ...(have("wrk") ? [] : ["wrk"])];
  if (missing.length) {
    log(`installing ${missing.join(", ")} with apt-get…`);
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    const r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed`);
  }
  const nginxPath = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  if (!nginxPath || !have("wrk")) throw new Error("nginx or wrk is still missing");
  return { nginx: nginxPath, wrk: "wrk" };
}



function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

/** Writes `size` bytes of incompressible data (a random 4 MiB block repeated). */
function writeBigFile(file: string, size: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const block = randomBytes(4 * 1024 * 1024);
  const fd = openSync(file, "w");
  try {
    for (let off = 0; off < size; off += block.length) writeSync(fd, block, 0, Math.min(block.length, size - off));
    // Let writeback finish now rather than compete with the first measurement.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A realistic HLS ladder (4 s segments, CBR bitrates of a 240p-1080p ladder) for segment GETs (pure argv). */
export const LADDER = [
  { quality: "240p", size: "426x240", kbps: 400 },
  { quality: "480p", size: "854x480", kbps: 1200 },
  { quality: "720p", size: "1280x720", kbps: 2800 },
  { quality: "1080p", size: "1920x1080", kbps: 5000 },
];

export function ladderArgs(dir: string, durationS: number, segmentS = 4): string[] {
  const fps = 30;
  const a = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=${fps}:duration=${durationS}`];
  a.push("-filter_complex", `[0:v]split=${LADDER.length}${LADDER.map((_, i) => `[s${i}]`).join("")};${LADDER.map((r, i) => `[s${i}]scale=${r.size.replace("x", ":")}[o${i}]`).join(";")}`);
  LADDER.forEach((r, i) => {
    const b = `${r.kbps}k`;
    a.push("-map", `[o${i}]`, "-c:v", "libx264", "-preset", "ultrafast", "-b:v", b, "-minrate", b, "-maxrate", b, "-bufsize", `${r.kbps * 2}k`, "-x264-params", "nal-hrd=cbr");
    a.push("-g", String(fps * segmentS), "-keyint_min", String(fps * segmentS), "-sc_threshold", "0", "-an");
    a.push("-f", "hls", "-hls_time", String(segmentS), "-hls_playlist_type", "vod", "-hls_segment_filename", path.join(dir, r.quality, "seg_%03d.ts"), path.join(dir, r.quality, "index.m3u8"));
  });
  return a;
}

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  mbps: number;
}

function rangeScript(dir: string, size: number): string {
  const file = path.join(dir, "range.lua");
  writeFileSync(
    file,
    `
math.randomseed(42)
local size = ${size}
local chunk = ${CHUNK}
request = function()
  local start = math.floor(math.random() * (size - chunk))
  return wrk.format("GET", nil, { ["Range"] = "bytes=" .. start .. "-" .. (start + chunk - 1) })
end
${DONE_LUA}`,
  );
  return file;
}

function pathsScript(dir: string, name: string, paths: string[]): string {
  const file = path.join(dir, `${name}.lua`);
  writeFileSync(
    file,
    `
math.randomseed(42)
local paths = { ${paths.map((p) => JSON.stringify(p)).join(", ")} }
request = function()
  return wrk.format("GET", paths[math.random(1, #paths)])
end
${DONE_LUA}`,
  );
  return file;
}

const DONE_LUA = `
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
`;

function wrk(url: string, script: string | null, connections: number, durationS: number): WrkResult {
  const a = ["-t", "2", "-c", String(connections), "-d", `${durationS}s`, "--timeout", "10s"];
  if (script) a.push("-s", script);
  a.push(url);
  const r = spawnSync("wrk", a, { encoding: "utf8", timeout: (durationS + 30) * 1000 });
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(r.stdout ?? "");
  if (!m) throw new Error(`wrk failed: ${r.stdout}\n${r.stderr}`);
  const [requests, durUs, bytes, p50, p99, errors, non2xx] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return { rps: requests / (durUs / 1e6), p50Ms: p50 / 1000, p99Ms: p99 / 1000, errors, non2xx, mbps: bytes / (durUs / 1e6) / 1e6 };
}

function bestOf(nginx: () => WrkResult, vidflux: () => WrkResult): { n: WrkResult; v: WrkResult } {
  let n: WrkResult | null = null;
  let v: WrkResult | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const a = nginx();
    const b = vidflux();
    if (!n || a.rps > n.rps) n = a;
    if (!v || b.rps > v.rps) v = b;
  }
  return { n: n!, v: v! };
}

function fmt(r: WrkResult): string {
  return `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(7)} ms  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  ${r.mbps.toFixed(0).padStart(6)} MB/s${r.errors || r.non2xx ? `  errors ${r.errors} non-2xx ${r.non2xx}` : ""}`;
}


interface Server {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}


let serverJs = "";

async function startVidflux(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [serverJs], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/api/health/`);
  return {
    proc,
    url,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      await once(proc, "exit");
    },
  };
}

/**
 * Plain nginx on `root`; with `offloadApi`, a second server (its url is `offloadUrl`) proxying
 * /api/ to that vidflux with the internal location of deploy/nginx.conf (MEDIA_OFFLOAD=nginx).
 */
async function startNginx(nginx: string, dir: string, root: string, offloadApi?: string): Promise<Server & { offloadUrl: string }> {
  const port = await freePort();
  const offloadPort = offloadApi ? await freePort() : 0;
  const offloadServer = offloadApi
    ? `
  upstream offload_api { server ${offloadApi.replace(/^http:\/\//, "")}; keepalive 64; }
  server {
    listen 127.0.0.1:${offloadPort};
    location /api/ {
      proxy_pass http://offload_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /internal-media/ {
      internal;
      alias ${root}/;
      max_ranges 20;
    }
  }`
    : "";
  const prefix = path.join(dir, "nginx");
  mkdirSync(path.join(prefix, "tmp"), { recursive: true });
  const conf = path.join(prefix, "nginx.conf");
  // Debian's defaults where they matter (sendfile, one worker per core); no access log on either side.
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes auto;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  types { video/mp4 mp4; video/mp2t ts; application/vnd.apple.mpegurl m3u8; text/vtt vtt; }
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }${offloadServer}
}
`,
  );
  const proc = spawn(nginx, ["-p", prefix, "-c", conf], { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/`);
  return {
    proc,
    url,
    offloadUrl: `http://127.0.0.1:${offloadPort}`,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGQUIT");
      await once(proc, "exit");
    },
  };
}

/** `n` clients reading `url` whole, throttled to about `bytesPerS` each (players, not downloaders). */
function slowClients(url: string, n: number, bytesPerS: number, durationS: number): Promise<number> {
  let total = 0;
  const clients: http.ClientRequest[] = [];
  for (let i = 0; i < n; i++) {
    const req = http.get(url, (res) => {
      let budget = bytesPerS / 10;
      const tick = setInterval(() => {
        budget = bytesPerS / 10;
        res.resume();
      }, 100);
      res.on("data", (c: Buffer) => {
        total += c.length;
        budget -= c.length;
        if (budget <= 0) res.pause();
      });
      res.on("close", () => clearInterval(tick));
    });
    req.on("error", () => undefined);
    clients.push(req);
  }
  return new Promise((resolve) =>
    setTimeout(() => {
      for (const c of clients) c.destroy();
      resolve(total);
    }, durationS * 1000),
  );
}

async function main(): Promise<void> {
  const tools = ensureTools();
  const dir = await mkdtemp(path.join(tmpdir(), "vidflux-bench-serve-"));
  const servers: Server[] = [];
  let failed = false;
  try {
    const dataDir = path.join(dir, "data");
    const mediaDir = path.join(dataDir, "media");
    const env = {
      NODE_ENV: "production",
      DATA_DIR: dataDir,
      MEDIA_DIR: mediaDir,
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      EMBEDDED_WORKER: "false",
      RATE_LIMIT: "false",
    };

    // The data: a big file as one rung's MP4, and a converted clip for segment GETs.
    log(`generating a ${(SIZE / 1024 ** 3).toFixed(2)} GiB file and a converted clip…`);
    const config = loadConfig(env);
    const ctx = await createContext(config);
    const userId = newId();
    await ctx.db
      .insertInto("users")
      .values({ id: userId, username: "bench", username_key: "bench", email: "bench@example.test", password_hash: "x", role: "uploader", display_name: "bench", bio: "", avatar_key: null, is_active: 1, date_joined: nowIso(), last_login: null })
      .execute();
    const clipDir = path.join(dir, "clip");
    await buildFixture(clipDir, { durationS: 10, segmentS: 1 });
    const videoId = newId();
    const media = await storeFixture(ctx.storage, videoId, clipDir, { durationS: 10 });
    const bigKey = `videos/${videoId}/mp4/big.mp4`;
    writeBigFile(path.join(mediaDir, bigKey), SIZE);
    media.renditions.push({ ...media.renditions[0]!, quality: "1080p", mp4Key: bigKey, sizeBytes: SIZE });
    await insertReadyVideo(ctx, { id: videoId, ownerId: userId, media, durationS: 10 });
    const small = (await ctx.storage.list(`videos/${videoId}/hls/`)).filter((k) => k.endsWith(".ts"));
    // The ladder's segments go to a second video, in the same layout.
    const ladderId = newId();
    const ladderDir = path.join(mediaDir, "videos", ladderId, "hls");
    for (const r of LADDER) mkdirSync(path.join(ladderDir, r.quality), { recursive: true });
    const enc = spawnSync("ffmpeg", ladderArgs(ladderDir, 20), { stdio: ["ignore", "ignore", "inherit"] });
    if (enc.status !== 0) throw new Error("ffmpeg failed to encode the ladder");
    await insertReadyVideo(ctx, { id: ladderId, ownerId: userId, media: null, durationS: 20 });
    const segments = (await ctx.storage.list(`videos/${ladderId}/hls/`)).filter((k) => k.endsWith(".ts"));
    // The offload rows' private video: the big file as its MP4, the ladder's segments (a symlink
    // to the ladder's hls/ folder: storage and nginx both follow it), a playback token minted
    // directly with the server's key (the bench server has no sign-in round trip to spare).
    const privId = newId();
    mkdirSync(path.join(mediaDir, "videos", privId), { recursive: true });
    symlinkSync(ladderDir, path.join(mediaDir, "videos", privId, "hls"));
    await insertReadyVideo(ctx, { id: privId, ownerId: userId, media: { ...media, renditions: [{ ...media.renditions[0]!, quality: "1080p", mp4Key: bigKey, sizeBytes: SIZE }] }, durationS: 20, visibility: "private" });
    const privToken = await new SignJWT({ vid: privId, pe: 0, typ: "playback" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt()
      .setIssuer("vidflux")
      .setExpirationTime("6h")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    const tokenQuery = `?token=${encodeURIComponent(privToken)}`;
    const meanKb = (keys: string[]) => keys.reduce((n, k) => n + statSync(path.join(mediaDir, k)).size, 0) / keys.length / 1024;
    await ctx.close();

    serverJs = buildServer();
    const vid = await startVidflux(env);
    servers.push(vid);
    const off = await startVidflux({ ...env, MEDIA_OFFLOAD: "nginx" });
    servers.push(off);
    const ngx = await startNginx(tools.nginx, dir, mediaDir, off.url);
    servers.push(ngx);
    const offBig = `${ngx.offloadUrl}/api/videos/${privId}/stream/1080p/${tokenQuery}`;
    const vidBig = `${vid.url}/api/videos/${videoId}/stream/1080p/`;
    const ngxBig = `${ngx.url}/${bigKey}`;

    // Both serve the same bytes.
    for (const range of ["bytes=0-1048575", `bytes=${SIZE - 1048576}-`, "bytes=123456789-124505364"]) {
      const [a, b] = [await get(vidBig, { range }), await get(ngxBig, { range })];
      if (a.status !== 206 || b.status !== 206 || !a.body.equals(b.body)) throw new Error(`vidflux and nginx disagree on ${range} (${a.status}/${b.status})`);
      const c = await get(offBig, { range });
      if (c.status !== 206 || !c.body.equals(b.body)) throw new Error(`the offload disagrees with nginx on ${range} (${c.status})`);
    }
    // The offload checks access: without the token the private video is a 404, and no byte goes out.
    const refused = await get(offBig.slice(0, offBig.indexOf("?")), { range: "bytes=0-1048575" });
    if (refused.status !== 404) throw new Error(`the offload answered ${refused.status} without a token`);
    log(`vidflux ${vid.url} (pid ${vid.proc.pid}), nginx ${ngx.url}; wrk -t2 -c${CONNECTIONS} -d${DURATION_S}s`);

    // Warm the page cache and both servers' caches.
    wrk(ngxBig, rangeScript(dir, SIZE), CONNECTIONS, 2);
    wrk(vidBig, rangeScript(dir, SIZE), CONNECTIONS, 2);

    const results: { name: string; v: WrkResult; n: WrkResult; rssKb: number; informational?: boolean; goal?: number; who?: string }[] = [];
    const rs = rangeScript(dir, SIZE);
    results.push({ name: "1 MiB Range GET (random offsets)", ...bestOf(() => wrk(ngxBig, rs, CONNECTIONS, DURATION_S), () => wrk(vidBig, rs, CONNECTIONS, DURATION_S)), rssKb: statusOf(vid.proc.pid!).hwmKb });
    wrk(offBig, rs, CONNECTIONS, 2);
    results.push({
      name: "1 MiB Range GET, private video with token, offload (nginx -> vidflux access check -> X-Accel-Redirect -> internal location)",
      ...bestOf(() => wrk(ngxBig, rs, CONNECTIONS, DURATION_S), () => wrk(offBig, rs, CONNECTIONS, DURATION_S)),
      rssKb: statusOf(off.proc.pid!).hwmKb,
      goal: GOAL_OFFLOAD_RATIO,
      who: "offload",
    });

    const segBench = (name: string, id: string, keys: string[]) => {
      const prefix = `videos/${id}/hls/`;
      const vs = pathsScript(dir, `v-${name}`, keys.map((k) => `/api/videos/${id}/hls/${k.slice(prefix.length)}`));
      const ns = pathsScript(dir, `n-${name}`, keys.map((k) => `/${k}`));
      wrk(vid.url, vs, CONNECTIONS, 2);
      return { ...bestOf(() => wrk(ngx.url, ns, CONNECTIONS, DURATION_S), () => wrk(vid.url, vs, CONNECTIONS, DURATION_S)), rssKb: statusOf(vid.proc.pid!).hwmKb };
    };
    const ladder = segBench("ladder", ladderId, segments);
    results.push({ name: `HLS segment GET (240p-1080p ladder, 4 s, ${segments.length} segments, mean ${meanKb(segments).toFixed(0)} KiB)`, ...ladder });
    {
      const prefix = `videos/${ladderId}/hls/`;
      const os = pathsScript(dir, "o-ladder", segments.map((k) => `/api/videos/${privId}/hls/${k.slice(prefix.length)}${tokenQuery}`));
      const ns = pathsScript(dir, "n-ladder-o", segments.map((k) => `/${k}`));
      wrk(ngx.offloadUrl, os, CONNECTIONS, 2);
      results.push({
        name: `HLS segment GET (the ladder), private video with token, offload`,
        ...bestOf(() => wrk(ngx.url, ns, CONNECTIONS, DURATION_S), () => wrk(ngx.offloadUrl, os, CONNECTIONS, DURATION_S)),
        rssKb: statusOf(off.proc.pid!).hwmKb,
        goal: GOAL_OFFLOAD_RATIO,
        who: "offload",
      });
    }
    const tiny = segBench("tiny", videoId, small);
    results.push({ name: `HLS segment GET (tiny: 240p/180p 1 s test clip, mean ${meanKb(small).toFixed(0)} KiB; request-overhead bound, informational)`, ...tiny, informational: true });
    const afterLoad = statusOf(vid.proc.pid!);
    if (KEEP) {
      log(`--keep: servers left running for inspection: vidflux ${vid.url} nginx ${ngx.url}; ladder ${ladderId}, clip ${videoId}. Ctrl-C to end.`);
      await new Promise((r) => process.once("SIGINT", r));
    }
    await vid.stop();
    await off.stop();

    log("");
    for (const r of results) {
      const ratio = r.v.rps / r.n.rps;
      const goal = r.goal ?? GOAL_RATIO;
      const ok = ratio >= goal && r.v.errors === 0 && r.v.non2xx === 0;
      if (!ok && !r.informational) failed = true;
      log(`${r.name}`);
      log(`  nginx   ${fmt(r.n)}`);
      log(`  ${(r.who ?? "vidflux").padEnd(7)} ${fmt(r.v)}  (vidflux VmHWM so far ${(r.rssKb / 1024).toFixed(0)} MB)`);
      log(`  ratio   ${ratio.toFixed(2)}x nginx${r.informational ? " (no goal)" : ` (goal >= ${goal}x) ${ok ? "OK" : "MISSED"}`}`);
    }
    log(`vidflux peak RSS (VmHWM) over the request benches: ${(afterLoad.hwmKb / 1024).toFixed(0)} MB (${CONNECTIONS} concurrent requests)`);

    // Peak memory of a fresh server while 50 clients stream the big file.
    const fresh = await startVidflux(env);
    servers.push(fresh);
    const baseline = statusOf(fresh.proc.pid!);
    let peakRss = 0;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, statusOf(fresh.proc.pid!).rssKb);
      } catch {
        /* process gone */
      }
    }, 100);
    const fastUrl = `${fresh.url}/api/videos/${videoId}/stream/1080p/`;
    const slow = slowClients(fastUrl, 25, 2 * 1024 * 1024, DURATION_S);
    const fast = spawn("wrk", ["-t", "1", "-c", "25", "-d", `${DURATION_S}s`, "--timeout", `${DURATION_S + 5}s`, fastUrl], { stdio: "ignore" });
    const slowBytes = await slow;
    await once(fast, "exit");
    clearInterval(sampler);
    const st = statusOf(fresh.proc.pid!);
    const hwmMb = st.hwmKb / 1024;
    const rssOk = hwmMb < GOAL_RSS_MB;
    if (!rssOk) failed = true;
    log("");
    log(`50 clients streaming the ${(SIZE / 1024 ** 3).toFixed(2)} GiB file for ${DURATION_S} s (25 unthrottled, 25 at 2 MiB/s: ${(slowBytes / 1e6).toFixed(0)} MB read)`);
    log(`  vidflux RSS at start ${(baseline.rssKb / 1024).toFixed(0)} MB, peak (VmHWM) ${hwmMb.toFixed(0)} MB, sampled max ${(peakRss / 1024).toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB) ${rssOk ? "OK" : "MISSED"}`);
  } finally {
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
