/**
 * The streaming routes over S3 storage (s3rver, a real S3 HTTP implementation): ranged GetObject
 * proxied through the API (`S3_STREAM_MODE=proxy`) and 302 redirects to presigned URLs
 * (`S3_STREAM_MODE=redirect`).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { startS3rver, type S3rverHandle } from "../../platform/storage/s3rver.fixtures.js";
import { parseMasterPlaylist, parseMediaPlaylist } from "./m3u8.js";
import { buildFixture, fixtureFiles, insertReadyVideo, storeFixture } from "./streaming.fixtures.js";

let s3: S3rverHandle;
let fixtureDir = "";
const files = new Map<string, Buffer>();

beforeAll(async () => {
  s3 = await startS3rver();
  fixtureDir = await mkdtemp(path.join(tmpdir(), "vidflux-stream-s3-fixture-"));
  await buildFixture(fixtureDir);
  for (const rel of await fixtureFiles(fixtureDir)) files.set(rel, await readFile(path.join(fixtureDir, rel)));
});

afterAll(async () => {
  await s3?.stop();
  if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
});

async function setup(mode: "proxy" | "redirect", visibility: "public" | "private" = "public") {
  const h = await createHarness({
    STORAGE: "s3",
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
    S3_PREFIX: `stream-${newId()}`,
    S3_STREAM_MODE: mode,
  });
  const owner = await createUser(h, { role: "uploader" });
  const id = newId();
  const media = await storeFixture(h.ctx.storage, id, fixtureDir);
  await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, media, visibility });
  return { h, id };
}

describe("S3 proxy mode", () => {
  let h: Harness;
  let id = "";
  beforeAll(async () => {
    ({ h, id } = await setup("proxy"));
  });
  afterAll(async () => {
    await h?.close();
  });

  it("streams ranges from ranged GetObject, byte-exact", async () => {
    const b = files.get("mp4/240p.mp4")!;
    const url = `/api/videos/${id}/stream/240p/`;
    const full = await h.app.inject({ url });
    expect(full.statusCode).toBe(200);
    expect(full.headers.etag).toBeTruthy();
    expect(full.rawPayload.equals(b)).toBe(true);
    for (const [range, s, e] of [
      ["bytes=0-0", 0, 0],
      ["bytes=0-99", 0, 99],
      ["bytes=100-", 100, b.length - 1],
      ["bytes=-500", b.length - 500, b.length - 1],
    ] as const) {
      const r = await h.app.inject({ url, headers: { range } });
      expect(r.statusCode, range).toBe(206);
      expect(r.headers["content-range"]).toBe(`bytes ${s}-${e}/${b.length}`);
      expect(r.rawPayload.equals(b.subarray(s, e + 1)), range).toBe(true);
    }
    const multi = await h.app.inject({ url, headers: { range: "bytes=0-9,5000-5009" } });
    expect(multi.statusCode).toBe(206);
    expect(multi.rawPayload.includes(b.subarray(5000, 5010))).toBe(true);
    expect((await h.app.inject({ url, headers: { range: `bytes=${b.length}-` } })).statusCode).toBe(416);
    expect((await h.app.inject({ url, headers: { "if-none-match": full.headers.etag as string } })).statusCode).toBe(304);
  });

  it("serves HLS playlists and segments", async () => {
    const master = await h.app.inject({ url: `/api/videos/${id}/hls/master.m3u8` });
    expect(master.statusCode).toBe(200);
    const first = parseMasterPlaylist(master.body).variants[0]!.uri;
    const media = await h.app.inject({ url: `/api/videos/${id}/hls/${first}` });
    const seg = parseMediaPlaylist(media.body).segments[0]!.uri;
    const dir = first.split("/")[0]!;
    const r = await h.app.inject({ url: `/api/videos/${id}/hls/${dir}/${seg}` });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("video/mp2t");
    expect(r.rawPayload.equals(files.get(`${dir}/${seg}`)!)).toBe(true);
    expect((await h.app.inject({ url: `/api/videos/${id}/segments/` })).json().renditions).toHaveLength(2);
  });
});

describe("S3 redirect mode", () => {
  let h: Harness;
  let id = "";
  beforeAll(async () => {
    ({ h, id } = await setup("redirect", "private"));
  });
  afterAll(async () => {
    await h?.close();
  });

  it("redirects authorized media requests to presigned URLs that honour Range", async () => {
    const token = encodeURIComponent(await h.domains.streaming.playback.issue(id));
    expect((await h.app.inject({ url: `/api/videos/${id}/stream/240p/` })).statusCode).toBe(404);
    const r = await h.app.inject({ url: `/api/videos/${id}/stream/240p/?token=${token}`, headers: { range: "bytes=0-99" } });
    expect(r.statusCode).toBe(302);
    expect(r.headers["cache-control"]).toBe("no-store");
    const s3r = await fetch(r.headers.location as string, { headers: { range: "bytes=10-19" } });
    expect(s3r.status).toBe(206);
    expect(Buffer.from(await s3r.arrayBuffer()).equals(files.get("mp4/240p.mp4")!.subarray(10, 20))).toBe(true);

    // Playlists stay proxied (they are rewritten with the token); segments redirect.
    const master = await h.app.inject({ url: `/api/videos/${id}/hls/master.m3u8?token=${token}` });
    expect(master.statusCode).toBe(200);
    expect(master.body).toContain(`240p/index.m3u8?token=${token}`);
    const seg = await h.app.inject({ url: `/api/videos/${id}/hls/240p/seg_000.ts?token=${token}` });
    expect(seg.statusCode).toBe(302);
    const body = Buffer.from(await (await fetch(seg.headers.location as string)).arrayBuffer());
    expect(body.equals(files.get("240p/seg_000.ts")!)).toBe(true);
    expect((await h.app.inject({ url: `/api/videos/${id}/hls/240p/nope.ts?token=${token}` })).statusCode).toBe(404);
  });
});
