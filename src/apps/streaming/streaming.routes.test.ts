import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { parseMasterPlaylist, parseMediaPlaylist, resolveRelative } from "./m3u8.js";
import { formatHttpDate } from "./range.js";
import { buildFixture, fixtureFiles, fixtureKey, insertReadyVideo, storeFixture } from "./streaming.fixtures.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";

const ORIGIN = "http://player.example";
const UA = { "user-agent": "vitest-agent" };

let h: Harness;
let fixtureDir = "";
let owner: TestUser;
let stranger: TestUser;
let moderator: TestUser;
let pub: { id: string; media: TranscodeResult };
let priv: { id: string; media: TranscodeResult };
let big: { id: string; bytes: Buffer };
const files = new Map<string, Buffer>();

const mp4 = (id: string, q = "240p") => `/api/videos/${id}/stream/${q}/`;
const hls = (id: string, rel: string) => `/api/videos/${id}/hls/${rel}`;

async function views(id: string): Promise<number> {
  const r = await h.ctx.db.selectFrom("videos").select("views").where("id", "=", id).executeTakeFirstOrThrow();
  return Number(r.views);
}

/** Flushes the counter (after the fire-and-forget record landed) until the count settles on `want`. */
async function expectViews(id: string, want: number): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    await h.domains.streaming.views.flush();
    const n = await views(id);
    if (n === want || Date.now() > deadline) return expect(n).toBe(want);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Splits a multipart/byteranges body into its parts. */
function parseMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; data: Buffer }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)![1]!;
  const delim = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; data: Buffer }[] = [];
  let pos = body.indexOf(delim);
  for (;;) {
    const after = pos + delim.length;
    if (body.subarray(after, after + 2).toString() === "--") break;
    const headEnd = body.indexOf("\r\n\r\n", after);
    const headers = Object.fromEntries(
      body
        .subarray(after + 2, headEnd)
        .toString()
        .split("\r\n")
        .map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd);
    parts.push({ headers, data: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

const REDIS_PREFIX = `vidflux-test-${newId()}`;

beforeAll(async () => {
  h = await createHarness({
    CORS_ORIGINS: ORIGIN,
    // With REDIS_URL the Redis view counter (and its dedupe keys) is the one exercised.
    ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX } : {}),
  });
  fixtureDir = await mkdtemp(path.join(tmpdir(), "vidflux-stream-fixture-"));
  await buildFixture(fixtureDir);
  for (const rel of await fixtureFiles(fixtureDir)) files.set(rel, await readFile(path.join(fixtureDir, rel)));
  owner = await createUser(h, { role: "uploader" });
  stranger = await createUser(h, { role: "user" });
  moderator = await createUser(h, { role: "moderator" });

  const store = async (visibility: "public" | "private", description = "") => {
    const id = newId();
    const media = await storeFixture(h.ctx.storage, id, fixtureDir);
    await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, visibility, media, description });
    return { id, media };
  };
  pub = await store("public", "Chapters:\n0:00 Opening\n0:01 Closing\n");
  priv = await store("private");
  // Larger than the single-read limit (2 MiB), so the chunked pump is exercised too.
  const bigId = newId();
  const bytes = randomBytes(5 * 1024 * 1024 + 123);
  await h.ctx.storage.put(`videos/${bigId}/mp4/240p.mp4`, bytes);
  const bigMedia: TranscodeResult = { ...pub.media, renditions: [{ ...pub.media.renditions[0]!, mp4Key: `videos/${bigId}/mp4/240p.mp4`, sizeBytes: bytes.length }] };
  await insertReadyVideo(h.ctx, { id: bigId, ownerId: owner.user.id, media: bigMedia });
  big = { id: bigId, bytes };
  // Files written a moment ago cannot serve as strong If-Range dates (RFC 9110 §8.8.2.2): age them.
  const old = new Date(Date.now() - 3600_000);
  for (const id of [pub.id, priv.id, bigId]) {
    for (const key of await h.ctx.storage.list(`videos/${id}/`)) await utimes(h.ctx.storage.localPath(key)!, old, old);
  }
});

afterAll(async () => {
  const redis = h?.ctx.redis;
  if (redis) {
    await h.domains.streaming.views.flush();
    const keys = await redis.keys(`${REDIS_PREFIX}*`);
    if (keys.length) await redis.del(...keys);
  }
  await h?.close();
  if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
});

describe("progressive MP4 with ranges (RFC 9110 §14)", () => {
  const body = () => files.get("mp4/240p.mp4")!;

  it("serves the whole file with validators on a plain GET", async () => {
    const r = await h.app.inject({ url: mp4(pub.id) });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("video/mp4");
    expect(r.headers["accept-ranges"]).toBe("bytes");
    expect(Number(r.headers["content-length"])).toBe(body().length);
    expect(r.headers.etag).toMatch(/^"[0-9a-f-]+"$/);
    expect(r.headers["last-modified"]).toMatch(/GMT$/);
    expect(r.headers["cache-control"]).toContain("public");
    expect(r.rawPayload.equals(body())).toBe(true);
  });

  it("answers HEAD with the headers and no body", async () => {
    const r = await h.app.inject({ method: "HEAD", url: mp4(pub.id), headers: { range: "bytes=0-9" } });
    expect(r.statusCode).toBe(200);
    expect(Number(r.headers["content-length"])).toBe(body().length);
    expect(r.rawPayload.length).toBe(0);
  });

  it.each([
    ["bytes=0-99", 0, 99],
    ["bytes=100-", 100, -1],
    ["bytes=-500", -500, -1],
    ["bytes=5-5", 5, 5],
    ["bytes=1000-99999999", 1000, -1],
  ])("answers %s with 206 and the exact bytes", async (range, s, e) => {
    const b = body();
    const start = s < 0 ? b.length + s : s;
    const end = e < 0 ? b.length - 1 : e;
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range } });
    expect(r.statusCode).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes ${start}-${end}/${b.length}`);
    expect(Number(r.headers["content-length"])).toBe(end - start + 1);
    expect(r.rawPayload.equals(b.subarray(start, end + 1))).toBe(true);
  });

  it("answers 416 with bytes */size for an unsatisfiable range", async () => {
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range: `bytes=${body().length}-` } });
    expect(r.statusCode).toBe(416);
    expect(r.headers["content-range"]).toBe(`bytes */${body().length}`);
    expect(r.json().error.code).toBe("range_not_satisfiable");
  });

  it.each(["bytes=abc", "bytes=10-5", "items=0-1", "bytes=", "bytes 0-1"])("answers a malformed Range (%s) with the full 200", async (range) => {
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range } });
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.equals(body())).toBe(true);
  });

  it("answers several ranges with multipart/byteranges, byte-exact", async () => {
    const b = body();
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-9,1000-1099,-10" } });
    expect(r.statusCode).toBe(206);
    expect(r.headers["content-type"]).toMatch(/^multipart\/byteranges; boundary=/);
    expect(Number(r.headers["content-length"])).toBe(r.rawPayload.length);
    const parts = parseMultipart(r.rawPayload, r.headers["content-type"] as string);
    const want = [
      [0, 9],
      [1000, 1099],
      [b.length - 10, b.length - 1],
    ];
    expect(parts).toHaveLength(3);
    parts.forEach((p, i) => {
      const [s, e] = want[i]!;
      expect(p.headers["content-type"]).toBe("video/mp4");
      expect(p.headers["content-range"]).toBe(`bytes ${s}-${e}/${b.length}`);
      expect(p.data.equals(b.subarray(s!, e! + 1))).toBe(true);
    });
  });

  it("coalesces overlapping ranges into one part", async () => {
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-99,50-150" } });
    expect(r.statusCode).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes 0-150/${body().length}`);
    expect(r.rawPayload.equals(body().subarray(0, 151))).toBe(true);
  });

  it("ignores more than 20 ranges (200)", async () => {
    const many = Array.from({ length: 21 }, (_, i) => `${i * 1000}-${i * 1000 + 1}`).join(",");
    const r = await h.app.inject({ url: mp4(pub.id), headers: { range: `bytes=${many}` } });
    expect(r.statusCode).toBe(200);
  });

  it("honours If-Range with an ETag or the Last-Modified date", async () => {
    const { etag, "last-modified": lm } = (await h.app.inject({ method: "HEAD", url: mp4(pub.id) })).headers;
    const r1 = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-9", "if-range": etag as string } });
    expect(r1.statusCode).toBe(206);
    const r2 = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-9", "if-range": '"stale"' } });
    expect(r2.statusCode).toBe(200);
    expect(r2.rawPayload.equals(body())).toBe(true);
    const r3 = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-9", "if-range": lm as string } });
    expect(r3.statusCode).toBe(206);
    const r4 = await h.app.inject({ url: mp4(pub.id), headers: { range: "bytes=0-9", "if-range": formatHttpDate(Date.parse(lm as string) - 60_000) } });
    expect(r4.statusCode).toBe(200);
  });

  it("answers 304 to If-None-Match (weak comparison) and If-Modified-Since", async () => {
    const { etag, "last-modified": lm } = (await h.app.inject({ method: "HEAD", url: mp4(pub.id) })).headers;
    for (const headers of [{ "if-none-match": etag as string }, { "if-none-match": `W/${etag as string}` }, { "if-none-match": `"x", ${etag as string}` }, { "if-modified-since": lm as string }]) {
      const r = await h.app.inject({ url: mp4(pub.id), headers });
      expect(r.statusCode).toBe(304);
      expect(r.headers.etag).toBe(etag);
      expect(r.rawPayload.length).toBe(0);
    }
    const r = await h.app.inject({ url: mp4(pub.id), headers: { "if-modified-since": formatHttpDate(Date.parse(lm as string) - 1000) } });
    expect(r.statusCode).toBe(200);
    const pre = await h.app.inject({ url: mp4(pub.id), headers: { "if-match": '"nope"' } });
    expect(pre.statusCode).toBe(412);
  });

  it("streams files larger than one read in chunks, byte-exact", async () => {
    const b = big.bytes;
    const full = await h.app.inject({ url: mp4(big.id) });
    expect(full.statusCode).toBe(200);
    expect(full.rawPayload.equals(b)).toBe(true);
    const part = await h.app.inject({ url: mp4(big.id), headers: { range: "bytes=7-4000000" } });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.equals(b.subarray(7, 4000001))).toBe(true);
    const multi = await h.app.inject({ url: mp4(big.id), headers: { range: "bytes=0-2999999,4000000-4000099" } });
    const parts = parseMultipart(multi.rawPayload, multi.headers["content-type"] as string);
    expect(parts.map((p) => p.data.length)).toEqual([3_000_000, 100]);
    expect(parts[0]!.data.equals(b.subarray(0, 3_000_000))).toBe(true);
    expect(parts[1]!.data.equals(b.subarray(4_000_000, 4_000_100))).toBe(true);
  });

  it("answers 404 for unknown videos and qualities, 400 for malformed ones", async () => {
    expect((await h.app.inject({ url: mp4(newId()) })).statusCode).toBe(404);
    expect((await h.app.inject({ url: mp4(pub.id, "1080p") })).statusCode).toBe(404);
    expect((await h.app.inject({ url: mp4(pub.id, "best") })).statusCode).toBe(400);
    expect((await h.app.inject({ url: mp4("not-a-uuid") })).statusCode).toBe(404);
  });

  it("sends CORS headers to an allowed player origin", async () => {
    const r = await h.app.inject({ url: mp4(pub.id), headers: { origin: ORIGIN, range: "bytes=0-1" } });
    expect(r.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(String(r.headers["access-control-expose-headers"])).toContain("Content-Range");
    const pre = await h.app.inject({
      method: "OPTIONS",
      url: hls(pub.id, "240p/seg_000.ts"),
      headers: { origin: ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "range" },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(String(pre.headers["access-control-allow-headers"]).toLowerCase()).toContain("range");
    const other = await h.app.inject({ url: mp4(pub.id), headers: { origin: "http://evil.example", range: "bytes=0-1" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("HLS delivery", () => {
  it("serves the master and every playlist and segment it lists, byte-exact and typed", async () => {
    const master = await h.app.inject({ url: hls(pub.id, "master.m3u8"), headers: { origin: ORIGIN } });
    expect(master.statusCode).toBe(200);
    expect(master.headers["content-type"]).toBe("application/vnd.apple.mpegurl");
    expect(master.headers["cache-control"]).toBe("public, max-age=300");
    expect(master.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(master.body).toBe(files.get("master.m3u8")!.toString());
    const m = parseMasterPlaylist(master.body);
    const playlists = [...m.variants.map((v) => v.uri), ...m.media.map((x) => x.uri!)];
    expect(playlists).toHaveLength(5);
    let fetched = 0;
    for (const rel of playlists) {
      const pr = await h.app.inject({ url: hls(pub.id, rel) });
      expect(pr.statusCode, rel).toBe(200);
      expect(pr.headers["cache-control"]).toBe("public, max-age=300");
      for (const seg of parseMediaPlaylist(pr.body).segments) {
        const segRel = resolveRelative(`x/${rel}`, seg.uri)!.slice(2);
        const sr = await h.app.inject({ url: hls(pub.id, segRel) });
        expect(sr.statusCode, segRel).toBe(200);
        expect(sr.headers["content-type"]).toBe(segRel.endsWith(".vtt") ? "text/vtt; charset=utf-8" : "video/mp2t");
        expect(sr.rawPayload.equals(files.get(segRel)!)).toBe(true);
        if (segRel.endsWith(".ts")) expect(sr.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
        fetched++;
      }
    }
    expect(fetched).toBe(2 + 2 + 3 + 3 + 1);
  });

  it("marks playlists still growing with a short cache", async () => {
    const id = newId();
    await h.ctx.storage.put(`videos/${id}/hls/240p/index.m3u8`, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg_000.ts\n");
    await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, media: null });
    const r = await h.app.inject({ url: hls(id, "240p/index.m3u8") });
    expect(r.headers["cache-control"]).toBe("public, max-age=1");
  });

  it("supports ranges and conditional requests on segments", async () => {
    const seg = files.get("240p/seg_000.ts")!;
    const r = await h.app.inject({ url: hls(pub.id, "240p/seg_000.ts"), headers: { range: "bytes=188-375" } });
    expect(r.statusCode).toBe(206);
    expect(r.rawPayload.equals(seg.subarray(188, 376))).toBe(true);
    const again = await h.app.inject({ url: hls(pub.id, "240p/seg_000.ts"), headers: { "if-none-match": r.headers.etag as string } });
    expect(again.statusCode).toBe(304);
  });

  it("never resolves paths outside the video's hls folder", async () => {
    await h.ctx.storage.put(`videos/${pub.id}/original`, "secret");
    for (const rel of ["../original", "%2e%2e/original", "..%2foriginal", "240p/..%2f..%2foriginal", ".hidden.ts", "240p/seg_000.exe", "nope.ts", "a%00b.ts"]) {
      const r = await h.app.inject({ url: hls(pub.id, rel) });
      expect([400, 404], rel).toContain(r.statusCode);
      expect(r.body).not.toContain("secret");
    }
  });
});

describe("private playback", () => {
  const issue = (id: string) => h.domains.streaming.playback.issue(id);

  it("hides private media without credentials", async () => {
    expect((await h.app.inject({ url: hls(priv.id, "master.m3u8") })).statusCode).toBe(404);
    expect((await h.app.inject({ url: mp4(priv.id) })).statusCode).toBe(404);
    expect((await h.app.inject({ url: hls(priv.id, "master.m3u8"), headers: authHeader(stranger.access) })).statusCode).toBe(404);
  });

  it("serves every nested URI of a rewritten master with the token", async () => {
    const token = await issue(priv.id);
    const enc = encodeURIComponent(token);
    const master = await h.app.inject({ url: `${hls(priv.id, "master.m3u8")}?token=${enc}` });
    expect(master.statusCode).toBe(200);
    expect(master.headers["cache-control"]).toBe("private, no-store");
    expect(master.headers.etag).toBeUndefined();
    const m = parseMasterPlaylist(master.body);
    const uris = [...m.variants.map((v) => v.uri), ...m.media.map((x) => x.uri!)];
    expect(uris.every((u) => u.endsWith(`?token=${enc}`))).toBe(true);
    for (const uri of uris) {
      const pr = await h.app.inject({ url: hls(priv.id, uri) });
      expect(pr.statusCode, uri).toBe(200);
      expect(pr.headers["cache-control"]).toBe("private, no-store");
      for (const seg of parseMediaPlaylist(pr.body).segments) {
        expect(seg.uri.endsWith(`?token=${enc}`)).toBe(true);
        const dir = uri.split("?")[0]!.split("/").slice(0, -1).join("/");
        const sr = await h.app.inject({ url: hls(priv.id, `${dir}/${seg.uri}`) });
        expect(sr.statusCode).toBe(200);
        expect(sr.headers["cache-control"]).toMatch(/^private/);
        expect(sr.rawPayload.equals(files.get(`${dir}/${seg.uri.split("?")[0]}`)!)).toBe(true);
      }
    }
    const range = await h.app.inject({ url: `${mp4(priv.id)}?token=${enc}`, headers: { range: "bytes=0-99" } });
    expect(range.statusCode).toBe(206);
    expect(range.rawPayload.equals(files.get("mp4/240p.mp4")!.subarray(0, 100))).toBe(true);
  });

  it("refuses wrong, expired, other-video and non-playback tokens with 403", async () => {
    const secret = new TextEncoder().encode(h.config.auth.jwtSecret!);
    const expired = await new SignJWT({ vid: priv.id, typ: "playback" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("vidflux")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(secret);
    const forged = await new SignJWT({ vid: priv.id, typ: "playback" }).setProtectedHeader({ alg: "HS256" }).setIssuer("vidflux").setExpirationTime("1h").sign(new TextEncoder().encode("x".repeat(48)));
    const cases: [string, string][] = [
      ["garbage", "playback_token_invalid"],
      [forged, "playback_token_invalid"],
      [expired, "playback_token_expired"],
      [await issue(pub.id), "playback_token_wrong_video"],
      [owner.access, "playback_token_invalid"],
    ];
    for (const [token, code] of cases) {
      for (const url of [hls(priv.id, "master.m3u8"), hls(priv.id, "240p/seg_000.ts"), mp4(priv.id)]) {
        const r = await h.app.inject({ url: `${url}?token=${encodeURIComponent(token)}` });
        expect(r.statusCode, `${code} ${url}`).toBe(403);
        expect(r.json().error.code).toBe(code);
      }
    }
  });

  it("does not accept a playback token as an API credential", async () => {
    const r = await h.app.inject({ url: `/api/videos/${priv.id}/chapters/`, headers: authHeader(await issue(priv.id)) });
    expect(r.statusCode).toBe(401);
  });

  it("accepts the owner's and a moderator's bearer and hands nested URIs a token", async () => {
    for (const u of [owner, moderator]) {
      const master = await h.app.inject({ url: hls(priv.id, "master.m3u8"), headers: authHeader(u.access) });
      expect(master.statusCode).toBe(200);
      const token = /\?token=([^\s"]+)/.exec(master.body)![1]!;
      const r = await h.app.inject({ url: `${hls(priv.id, "240p/index.m3u8")}?token=${token}` });
      expect(r.statusCode).toBe(200);
      expect((await h.app.inject({ url: mp4(priv.id), headers: { ...authHeader(u.access), range: "bytes=0-0" } })).statusCode).toBe(206);
    }
  });

  it("needs no token for public videos and ignores one given", async () => {
    expect((await h.app.inject({ url: `${hls(pub.id, "master.m3u8")}?token=whatever` })).statusCode).toBe(200);
  });
});

describe("views", () => {
  it("counts a viewer once per window on the first MP4 bytes, first segments and POST /view/", async () => {
    const { id } = await (async () => {
      const vid = newId();
      const media = await storeFixture(h.ctx.storage, vid, fixtureDir);
      await insertReadyVideo(h.ctx, { id: vid, ownerId: owner.user.id, media });
      return { id: vid };
    })();
    const as = (ua: string) => ({ "user-agent": ua });
    // A range not starting at 0 is a seek, not a view start; HEAD is not a view.
    await h.app.inject({ url: mp4(id), headers: { ...as("a"), range: "bytes=100-200" } });
    await h.app.inject({ method: "HEAD", url: mp4(id), headers: as("a") });
    await expectViews(id, 0);
    await h.app.inject({ url: mp4(id), headers: { ...as("a"), range: "bytes=0-1" } });
    await h.app.inject({ url: mp4(id), headers: { ...as("a"), range: "bytes=0-" } });
    await expectViews(id, 1);
    // A second segment is not a start; the first segment of any rung is.
    await h.app.inject({ url: hls(id, "240p/seg_001.ts"), headers: as("b") });
    await expectViews(id, 1);
    await h.app.inject({ url: hls(id, "180p/seg_000.ts"), headers: as("b") });
    await h.app.inject({ url: hls(id, "240p/seg_000.ts"), headers: as("b") });
    await expectViews(id, 2);
    // Signed-in viewers are counted by account, whatever their user agent.
    const r1 = await h.app.inject({ method: "POST", url: `/api/videos/${id}/view/`, headers: { ...authHeader(stranger.access), ...as("c") } });
    const r2 = await h.app.inject({ method: "POST", url: `/api/videos/${id}/view/`, headers: { ...authHeader(stranger.access), ...as("d") } });
    expect([r1.statusCode, r1.json(), r2.json()]).toEqual([202, { counted: true }, { counted: false }]);
    await expectViews(id, 3);
    // The detail endpoint reads the same column.
    const detail = await h.app.inject({ url: `/api/videos/${id}/` });
    if (detail.statusCode === 200) expect(detail.json().views).toBe(3);
  });

  it("counts private views with a token and refuses POST /view/ without access", async () => {
    const before = await views(priv.id);
    const token = await h.domains.streaming.playback.issue(priv.id);
    expect((await h.app.inject({ method: "POST", url: `/api/videos/${priv.id}/view/` })).statusCode).toBe(404);
    const r = await h.app.inject({ method: "POST", url: `/api/videos/${priv.id}/view/?token=${encodeURIComponent(token)}`, headers: UA });
    expect(r.json()).toEqual({ counted: true });
    await expectViews(priv.id, before + 1);
  });
});

describe("chapters", () => {
  it("falls back to description timestamps", async () => {
    const r = await h.app.inject({ url: `/api/videos/${pub.id}/chapters/` });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual([
      { index: 0, title: "Opening", start: 0, end: 1 },
      { index: 1, title: "Closing", start: 1, end: 2 },
    ]);
  });

  it("lets the owner replace them, validated, and serves them as WebVTT", async () => {
    const url = `/api/videos/${pub.id}/chapters/`;
    const body = [
      { title: " Intro ", start: 0 },
      { title: "Main", start: 0.5 },
      { title: "Outro", start: 1.5 },
    ];
    expect((await h.app.inject({ method: "PUT", url, payload: body })).statusCode).toBe(401);
    expect((await h.app.inject({ method: "PUT", url, payload: body, headers: authHeader(stranger.access) })).statusCode).toBe(403);
    const bad: [unknown, string][] = [
      [[{ title: "A", start: 1 }, { title: "B", start: 0.5 }], "1.start"],
      [[{ title: "A", start: 2 }], "0.start"],
      [[{ title: "   ", start: 0 }], "0.title"],
      [[{ title: "x".repeat(101), start: 0 }], "0.title"],
    ];
    for (const [payload, field] of bad) {
      const r = await h.app.inject({ method: "PUT", url, payload: payload as object, headers: authHeader(owner.access) });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect((await h.app.inject({ method: "PUT", url, payload: [{ title: "A", start: -1 }], headers: authHeader(owner.access) })).statusCode).toBe(400);
    const ok = await h.app.inject({ method: "PUT", url, payload: body, headers: authHeader(owner.access) });
    expect(ok.statusCode).toBe(200);
    const want = [
      { index: 0, title: "Intro", start: 0, end: 0.5 },
      { index: 1, title: "Main", start: 0.5, end: 1.5 },
      { index: 2, title: "Outro", start: 1.5, end: 2 },
    ];
    expect(ok.json()).toEqual(want);
    expect((await h.app.inject({ url })).json()).toEqual(want);
    // A moderator may edit too; a list read with GET can be sent back as is.
    expect((await h.app.inject({ method: "PUT", url, payload: want, headers: authHeader(moderator.access) })).statusCode).toBe(200);
    const vtt = await h.app.inject({ url: `/api/videos/${pub.id}/chapters.vtt` });
    expect(vtt.headers["content-type"]).toBe("text/vtt; charset=utf-8");
    expect(vtt.body).toBe("WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.500\nIntro\n\n2\n00:00:00.500 --> 00:00:01.500\nMain\n\n3\n00:00:01.500 --> 00:00:02.000\nOutro\n");
    // Clearing brings the description's chapters back.
    const cleared = await h.app.inject({ method: "PUT", url, payload: [], headers: authHeader(owner.access) });
    expect(cleared.json().map((c: { title: string }) => c.title)).toEqual(["Opening", "Closing"]);
  });

  it("hides a private video's chapters without access", async () => {
    expect((await h.app.inject({ url: `/api/videos/${priv.id}/chapters/` })).statusCode).toBe(404);
    expect((await h.app.inject({ url: `/api/videos/${priv.id}/chapters/`, headers: authHeader(owner.access) })).statusCode).toBe(200);
    expect((await h.app.inject({ method: "PUT", url: `/api/videos/${priv.id}/chapters/`, payload: [], headers: authHeader(stranger.access) })).statusCode).toBe(404);
  });
});

describe("segmented structure", () => {
  it("lists each rung's segments and each chapter's segment span", async () => {
    await h.app.inject({
      method: "PUT",
      url: `/api/videos/${pub.id}/chapters/`,
      payload: [
        { title: "First", start: 0 },
        { title: "Second", start: 1.2 },
      ],
      headers: authHeader(owner.access),
    });
    const r = await h.app.inject({ url: `/api/videos/${pub.id}/segments/` });
    expect(r.statusCode).toBe(200);
    const s = r.json();
    expect(s.renditions.map((x: { quality: string }) => x.quality)).toEqual(["240p", "180p"]);
    for (const rung of s.renditions) {
      expect(rung.target_duration).toBe(1);
      expect(rung.ended).toBe(true);
      expect(rung.segments).toEqual([
        { index: 0, uri: `/api/videos/${pub.id}/hls/${rung.quality}/seg_000.ts`, start: 0, duration: 1 },
        { index: 1, uri: `/api/videos/${pub.id}/hls/${rung.quality}/seg_001.ts`, start: 1, duration: 1 },
      ]);
      expect((await h.app.inject({ url: rung.segments[1].uri })).statusCode).toBe(200);
    }
    expect(s.chapters).toEqual([
      { index: 0, title: "First", start: 0, end: 1.2, segments: { "240p": { first: 0, last: 1 }, "180p": { first: 0, last: 1 } } },
      { index: 1, title: "Second", start: 1.2, end: 2, segments: { "240p": { first: 1, last: 1 }, "180p": { first: 1, last: 1 } } },
    ]);
  });

  it("carries the playback token in a private video's segment URIs", async () => {
    const token = await h.domains.streaming.playback.issue(priv.id);
    const r = await h.app.inject({ url: `/api/videos/${priv.id}/segments/?token=${encodeURIComponent(token)}` });
    expect(r.statusCode).toBe(200);
    const uri = r.json().renditions[0].segments[0].uri as string;
    expect(uri).toContain(`?token=${encodeURIComponent(token)}`);
    expect((await h.app.inject({ url: uri })).statusCode).toBe(200);
  });
});

describe("cached video state", () => {
  it("stops serving at once when this process invalidates a video made private or deleted", async () => {
    const id = newId();
    const media = await storeFixture(h.ctx.storage, id, fixtureDir);
    await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, media });
    expect((await h.app.inject({ url: mp4(id), headers: { range: "bytes=0-9" } })).statusCode).toBe(206);
    await h.ctx.db.updateTable("videos").set({ visibility: "private" }).where("id", "=", id).execute();
    h.domains.streaming.invalidate(id);
    expect((await h.app.inject({ url: mp4(id), headers: { range: "bytes=0-9" } })).statusCode).toBe(404);
    await h.ctx.db.updateTable("videos").set({ visibility: "public" }).where("id", "=", id).execute();
    h.domains.streaming.invalidate(id);
    expect((await h.app.inject({ url: hls(id, "240p/seg_000.ts") })).statusCode).toBe(200);
    await h.ctx.storage.deletePrefix(`videos/${id}/`);
    await h.ctx.db.deleteFrom("videos").where("id", "=", id).execute();
    h.domains.streaming.invalidate(id);
    expect((await h.app.inject({ url: hls(id, "240p/seg_000.ts") })).statusCode).toBe(404);
  });

  it("picks up a replaced file within the cache TTL", async () => {
    const id = newId();
    const key = `videos/${id}/mp4/240p.mp4`;
    await h.ctx.storage.put(key, Buffer.from("version one"));
    const media: TranscodeResult = { ...pub.media, renditions: [{ ...pub.media.renditions[0]!, mp4Key: key }] };
    await insertReadyVideo(h.ctx, { id, ownerId: owner.user.id, media });
    expect((await h.app.inject({ url: mp4(id) })).body).toBe("version one");
    await h.ctx.storage.put(key, Buffer.from("version two!"));
    await new Promise((r) => setTimeout(r, 2100));
    const r = await h.app.inject({ url: mp4(id) });
    expect(r.body).toBe("version two!");
    expect(Number(r.headers["content-length"])).toBe(12);
  });
});

describe("keys", () => {
  it("places fixture files in the transcoder's layout", () => {
    expect(fixtureKey("v", "mp4/240p.mp4")).toBe("videos/v/mp4/240p.mp4");
    expect(fixtureKey("v", "240p/index.m3u8")).toBe("videos/v/hls/240p/index.m3u8");
  });
});
