/**
 * MEDIA_OFFLOAD=nginx, in process (no nginx: streaming.nginx.e2e.test.ts puts the real one in
 * front): access is checked exactly as without offload, then a media GET is answered with an
 * empty body and `X-Accel-Redirect: /internal-media/<storage key>` plus the headers nginx keeps;
 * a refused request gets the usual 403/404 and no redirect; a private video's playlists, which
 * are rewritten per token, are still generated here. Also: the config refuses offload with S3,
 * and /metrics counts offloaded answers apart from the bytes Node sent.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config.js";
import { cacheControl } from "../../contracts/media-layout.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { parseMediaPlaylist } from "./m3u8.js";
import { buildFixture, fixtureFiles, insertReadyVideo, storeFixture } from "./streaming.fixtures.js";

const ORIGIN = "http://player.example";
let h: Harness;
let fixtureDir = "";
let owner: TestUser;
let stranger: TestUser;
let pub = "";
let priv = "";
/** the first segment of the 240p rung, relative to `hls/` */
let seg = "";
const files = new Map<string, Buffer>();

const mp4 = (id: string) => `/api/videos/${id}/stream/240p/`;
const hls = (id: string, rel: string) => `/api/videos/${id}/hls/${rel}`;
const token = (id: string) => h.domains.streaming.playback.issue(id);

/** The value of one series in the Prometheus text format (0 when absent). */
function sample(text: string, name: string, route: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{route="${route}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

beforeAll(async () => {
  h = await createHarness({ MEDIA_OFFLOAD: "nginx", CORS_ORIGINS: ORIGIN });
  fixtureDir = await mkdtemp(path.join(tmpdir(), "vidflux-offload-fixture-"));
  await buildFixture(fixtureDir);
  for (const rel of await fixtureFiles(fixtureDir)) files.set(rel, await readFile(path.join(fixtureDir, rel)));
  seg = `240p/${parseMediaPlaylist(files.get("240p/index.m3u8")!.toString("utf8")).segments[0]!.uri}`;
  owner = await createUser(h, { role: "uploader" });
  stranger = await createUser(h, { role: "user" });
  const store = async (visibility: "public" | "private") => {
    const id = newId();
    await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, visibility, media: await storeFixture(h.ctx.storage, id, fixtureDir) });
    return id;
  };
  pub = await store("public");
  priv = await store("private");
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
});

function expectOffloaded(r: LightMyRequestResponse, key: string, contentType: string, cacheControl: RegExp): void {
  expect(r.statusCode).toBe(200);
  expect(r.headers["x-accel-redirect"]).toBe(`/internal-media/${key}`);
  expect(r.rawPayload.length).toBe(0);
  expect(r.headers["content-type"]).toBe(contentType);
  expect(r.headers["cache-control"]).toMatch(cacheControl);
  expect(r.headers["x-accel-expires"]).toBe("0");
  // nginx answers ranges and validators from the file itself: none of ours would survive
  expect(r.headers["content-range"]).toBeUndefined();
  expect(r.headers.etag).toBeUndefined();
}

describe("MEDIA_OFFLOAD=nginx: what the API answers nginx", () => {
  it("hands a public video's MP4 (any Range) and HLS files to nginx, with CORS as usual", async () => {
    const r = await h.app.inject({ url: mp4(pub), headers: { range: "bytes=100-199", origin: ORIGIN } });
    expectOffloaded(r, `videos/${pub}/mp4/240p.mp4`, "video/mp4", /public/);
    expect(r.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expectOffloaded(await h.app.inject({ url: hls(pub, seg) }), `videos/${pub}/hls/${seg}`, "video/mp2t", /public/);
    // a public playlist is the stored file: offloaded too, with the Node path's Cache-Control
    const master = await h.app.inject({ url: hls(pub, "master.m3u8") });
    expectOffloaded(master, `videos/${pub}/hls/master.m3u8`, "application/vnd.apple.mpegurl", /public/);
    const rung = await h.app.inject({ url: hls(pub, "240p/index.m3u8") });
    expectOffloaded(rung, `videos/${pub}/hls/240p/index.m3u8`, "application/vnd.apple.mpegurl", /public/);
    // finished: the video is ready, the media playlist has EXT-X-ENDLIST
    expect(master.headers["cache-control"]).toBe(cacheControl("playlist", false, true));
    expect(rung.headers["cache-control"]).toBe(cacheControl("playlist", false, true));
    // HEAD too: nginx answers it from the file
    expectOffloaded(await h.app.inject({ method: "HEAD", url: mp4(pub) }), `videos/${pub}/mp4/240p.mp4`, "video/mp4", /public/);
  });

  it("hands a private video's MP4 and segments to nginx with the playback token or the owner's bearer", async () => {
    const t = await token(priv);
    const withToken = await h.app.inject({ url: `${mp4(priv)}?token=${encodeURIComponent(t)}`, headers: { range: "bytes=0-99" } });
    expectOffloaded(withToken, `videos/${priv}/mp4/240p.mp4`, "video/mp4", /^private, max-age=3600$/);
    expectOffloaded(await h.app.inject({ url: mp4(priv), headers: authHeader(owner.access) }), `videos/${priv}/mp4/240p.mp4`, "video/mp4", /^private, max-age=3600$/);
    const segment = await h.app.inject({ url: `${hls(priv, seg)}?token=${encodeURIComponent(t)}` });
    expectOffloaded(segment, `videos/${priv}/hls/${seg}`, "video/mp2t", /private/);
  });

  it("still generates a private video's playlists (rewritten per token), with a body and no redirect", async () => {
    const t = await token(priv);
    for (const rel of ["master.m3u8", "240p/index.m3u8"]) {
      const r = await h.app.inject({ url: `${hls(priv, rel)}?token=${encodeURIComponent(t)}` });
      expect(r.statusCode, rel).toBe(200);
      expect(r.headers["x-accel-redirect"], rel).toBeUndefined();
      expect(r.body, rel).toContain(`token=${encodeURIComponent(t)}`);
      expect(r.headers["cache-control"], rel).toMatch(/no-store/);
    }
  });

  it("refuses as before, without any redirect: no credential 404, a bad token 403, a stranger 404, missing files 404", async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      [mp4(priv), {}, 404, "video_not_found"],
      [`${mp4(priv)}?token=garbage`, {}, 403, "playback_token_invalid"],
      [`${mp4(priv)}?token=${encodeURIComponent(await token(pub))}`, {}, 403, "playback_token_wrong_video"],
      [mp4(priv), authHeader(stranger.access), 404, "video_not_found"],
      [hls(priv, seg), {}, 404, "video_not_found"],
      [`${hls(priv, seg)}?token=garbage`, {}, 403, "playback_token_invalid"],
      [`/api/videos/${pub}/stream/720p/`, {}, 404, "format_not_found"],
      [hls(pub, "240p/seg_99999.ts"), {}, 404, "media_not_found"],
      [hls(pub, "360p/index.m3u8"), {}, 404, "media_not_found"],
      [`/api/videos/${newId()}/stream/240p/`, {}, 404, "video_not_found"],
    ];
    for (const [url, headers, status, code] of cases) {
      const r = await h.app.inject({ url, headers });
      expect([url, r.statusCode, r.json().error.code]).toEqual([url, status, code]);
      expect(r.headers["x-accel-redirect"], url).toBeUndefined();
    }
  });

  it("hands thumbnails to nginx too (a missing one is our 404)", async () => {
    await h.ctx.storage.put(`videos/${pub}/thumbs/poster.jpg`, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    expectOffloaded(await h.app.inject({ url: `/api/videos/${pub}/thumbs/poster.jpg` }), `videos/${pub}/thumbs/poster.jpg`, "image/jpeg", /public/);
    const missing = await h.app.inject({ url: `/api/videos/${pub}/thumbs/c3.jpg` });
    expect([missing.statusCode, missing.headers["x-accel-redirect"]]).toEqual([404, undefined]);
  });

  it("counts offloaded answers in /metrics, not as media bytes Node served", async () => {
    const route = "/api/videos/:id/stream/:quality/";
    const before = (await h.app.inject({ url: "/metrics" })).body;
    for (let i = 0; i < 3; i++) expect((await h.app.inject({ url: mp4(pub) })).statusCode).toBe(200);
    const after = (await h.app.inject({ url: "/metrics" })).body;
    expect(sample(after, "vidflux_media_offloaded_responses_total", route) - sample(before, "vidflux_media_offloaded_responses_total", route)).toBe(3);
    expect(sample(after, "vidflux_media_bytes_served_total", route)).toBe(sample(before, "vidflux_media_bytes_served_total", route));
  });
});

describe("MEDIA_OFFLOAD settings", () => {
  const base = { NODE_ENV: "test", DATA_DIR: "/tmp/vidflux-offload-config" };
  it("defaults to none with the /internal-media/ prefix", () => {
    expect(loadConfig(base).storage.offload).toEqual({ mode: "none", prefix: "/internal-media/" });
    expect(loadConfig({ ...base, MEDIA_OFFLOAD: "nginx", MEDIA_OFFLOAD_PREFIX: "/x-media/v1/" }).storage.offload).toEqual({ mode: "nginx", prefix: "/x-media/v1/" });
  });

  it("refuses offload with S3 storage, naming the alternative", () => {
    expect(() => loadConfig({ ...base, MEDIA_OFFLOAD: "nginx", STORAGE: "s3", S3_BUCKET: "b" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, MEDIA_OFFLOAD: "nginx", STORAGE: "s3", S3_BUCKET: "b" })).toThrow(/MEDIA_OFFLOAD=nginx needs STORAGE=disk.*S3_STREAM_MODE=redirect/);
    expect(loadConfig({ ...base, STORAGE: "s3", S3_BUCKET: "b" }).storage.offload.mode).toBe("none");
  });

  it.each(["internal-media/", "/internal-media", "/a/../b/", "/a b/", "/a?b/", "/"])("refuses the prefix %j", (prefix) => {
    expect(() => loadConfig({ ...base, MEDIA_OFFLOAD_PREFIX: prefix })).toThrow(/MEDIA_OFFLOAD_PREFIX must be/);
  });
});
