/**
 * End to end with the real nginx (Debian's nginx-light) in front of the API, running the shipped
 * deploy/nginx.conf with only its addresses and paths replaced: with MEDIA_OFFLOAD=nginx, a
 * private video's Range request with its playback token comes back from nginx as 206 with the
 * exact bytes (nginx's sendfile, not Node), CORS kept; without the token or with a bad one the
 * API's 404/403 passes through and no byte is sent; the internal location cannot be asked for
 * directly; private playlists are still the API's, rewritten. Skipped (with a warning) when
 * nginx is not installed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { parseMediaPlaylist } from "./m3u8.js";
import { buildFixture, insertReadyVideo, storeFixture } from "./streaming.fixtures.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
if (!NGINX) console.warn("[vidflux] skipped: nginx offload e2e test (needs nginx: apt-get install nginx-light)");

const ORIGIN = "http://player.example";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Replaces `from` in `text`, failing when the shipped config no longer has it (the test would test nothing). */
function swap(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`deploy/nginx.conf no longer contains ${String(from)}`);
  return out;
}

/** deploy/nginx.conf, pointed at this API and media root, running unprivileged from `prefix`. */
function testConfig(prefix: string, listenPort: number, apiPort: number, mediaDir: string): string {
  let conf = readFileSync(path.join(ROOT, "deploy/nginx.conf"), "utf8");
  conf = swap(conf, /server api-1:8000;\s*server api-2:8000;/, `server 127.0.0.1:${apiPort};`);
  conf = swap(conf, "listen 80;", `listen 127.0.0.1:${listenPort};`);
  conf = swap(conf, "alias /data/media/;", `alias ${mediaDir}/;`);
  conf = swap(
    conf,
    /^http \{/m,
    `http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;`,
  );
  // As root (CI), workers would run as nobody and not read the harness's 0700 temp dirs.
  return `${process.getuid?.() === 0 ? "user root;\n" : ""}daemon off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\n${conf}`;
}

describe.skipIf(!NGINX)("nginx in front, MEDIA_OFFLOAD=nginx (the shipped deploy/nginx.conf)", () => {
  let h: Harness;
  let nginx: ChildProcess | null = null;
  let base = "";
  let dir = "";
  let videoId = "";
  let mp4 = Buffer.alloc(0);
  let segRel = "";
  let seg = Buffer.alloc(0);

  beforeAll(async () => {
    h = await createHarness({ MEDIA_OFFLOAD: "nginx", CORS_ORIGINS: ORIGIN });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const apiPort = (h.app.server.address() as AddressInfo).port;

    dir = await mkdtemp(path.join(tmpdir(), "vidflux-nginx-e2e-"));
    const fixture = path.join(dir, "fixture");
    await buildFixture(fixture);
    const owner = await createUser(h, { role: "uploader" });
    videoId = newId();
    const media = await storeFixture(h.ctx.storage, videoId, fixture);
    await insertReadyVideo(h.ctx, { id: videoId, ownerId: owner.user.id, media, visibility: "private" });
    mp4 = await readFile(path.join(fixture, "mp4/240p.mp4"));
    segRel = `240p/${parseMediaPlaylist(await readFile(path.join(fixture, "240p/index.m3u8"), "utf8")).segments[0]!.uri}`;
    seg = await readFile(path.join(fixture, segRel));

    const prefix = path.join(dir, "nginx");
    mkdirSync(path.join(prefix, "tmp"), { recursive: true });
    const port = await freePort();
    const conf = path.join(prefix, "nginx.conf");
    writeFileSync(conf, testConfig(prefix, port, apiPort, h.config.storage.mediaDir));
    const proc = spawn(NGINX!, ["-p", prefix, "-e", path.join(prefix, "error.log"), "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    nginx = proc;
    let stderr = "";
    proc.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${stderr}${existsSync(path.join(prefix, "error.log")) ? readFileSync(path.join(prefix, "error.log"), "utf8") : ""}`);
      const up = await get(`${base}/api/health/live/`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`nginx did not come up: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill("SIGQUIT");
      await once(nginx, "exit");
    }
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const streamUrl = (q = "") => `${base}/api/videos/${videoId}/stream/240p/${q}`;

  it("answers a private video's Range request with its token: 206 and the exact bytes from nginx, CORS kept", async () => {
    const t = encodeURIComponent(await h.domains.streaming.playback.issue(videoId));
    const r = await get(streamUrl(`?token=${t}`), { range: "bytes=1000-5095", origin: ORIGIN });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes 1000-5095/${mp4.length}`);
    expect(r.body.equals(mp4.subarray(1000, 5096))).toBe(true);
    expect(r.headers["content-type"]).toBe("video/mp4");
    expect(r.headers["cache-control"]).toBe("private, max-age=3600");
    expect(r.headers["access-control-allow-origin"]).toBe(ORIGIN);
    // nginx's own validator, and the internal URI never reaches the client
    expect(r.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers["x-accel-redirect"]).toBeUndefined();
    expect(r.headers["x-accel-expires"]).toBeUndefined();

    // If-Range with nginx's ETag keeps the range; a whole GET is the whole file
    expect((await get(streamUrl(`?token=${t}`), { range: "bytes=0-9", "if-range": r.headers.etag! })).status).toBe(206);
    const whole = await get(streamUrl(`?token=${t}`));
    expect([whole.status, whole.body.equals(mp4)]).toEqual([200, true]);

    const segment = await get(`${base}/api/videos/${videoId}/hls/${segRel}?token=${t}`);
    expect(segment.status).toBe(200);
    expect(segment.headers["content-type"]).toBe("video/mp2t");
    expect(segment.body.equals(seg)).toBe(true);
  });

  it("passes the API's refusals through (404 without a token, 403 with a bad one) and sends no media byte", async () => {
    const none = await get(streamUrl(), { range: "bytes=1000-5095" });
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body.toString()).error.code).toBe("video_not_found");
    const bad = await get(streamUrl("?token=garbage"), { range: "bytes=1000-5095" });
    expect(bad.status).toBe(403);
    expect(JSON.parse(bad.body.toString()).error.code).toBe("playback_token_invalid");
    const segment = await get(`${base}/api/videos/${videoId}/hls/${segRel}`);
    expect(segment.status).toBe(404);
    for (const r of [none, bad, segment]) expect(r.headers["x-accel-redirect"]).toBeUndefined();
  });

  it("keeps the internal location unreachable from outside", async () => {
    const r = await get(`${base}/internal-media/videos/${videoId}/mp4/240p.mp4`, { range: "bytes=1000-5095" });
    expect(r.status).toBe(404);
    expect(r.body.includes(mp4.subarray(1000, 1100))).toBe(false);
  });

  it("serves private playlists from the API, rewritten with the token", async () => {
    const t = encodeURIComponent(await h.domains.streaming.playback.issue(videoId));
    const r = await get(`${base}/api/videos/${videoId}/hls/240p/index.m3u8?token=${t}`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/vnd.apple.mpegurl");
    expect(r.body.toString()).toContain(`?token=${t}`);
  });
});
