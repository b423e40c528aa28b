/**
 * The tus 1.0 endpoint over inject: creation, PATCH in one or many chunks, resume after a broken
 * connection, checksum, offsets, expiry and sweep, size and quota limits, permissions,
 * termination, concatenation, method override, live progress events and fail-fast sniffing.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { appendFile, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import type { VideoEvent } from "../../platform/events/events.js";
import { videoKeys } from "../videos/index.js";
import {
  makeMp4,
  sha256,
  TUS,
  tusCreate,
  tusHead,
  tusPatch,
  videoRow,
  waitForStatus,
} from "./upload.fixtures.js";

const MiB = 1024 * 1024;

describe("tus upload endpoint", () => {
  let h: Harness;
  let dir: string;
  let mp4: Buffer;
  const uploader = () => createUser(h, { role: "uploader" });

  beforeAll(async () => {
    h = await createHarness({ MAX_UPLOAD_SIZE: "45M", USER_VIDEO_QUOTA: "50M", MAX_CONCURRENT_UPLOADS: "3", SIMPLE_UPLOAD_MAX: "1M" });
    dir = mkdtempSync(path.join(tmpdir(), "vidflux-upload-tus-"));
    mp4 = await makeMp4(dir);
  });
  afterAll(async () => {
    if (h) {
      await h.domains.uploads.validation.idle();
      await h.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function storedOriginal(videoId: string): Promise<Buffer> {
    return h.ctx.storage.getBuffer(videoKeys.original(videoId));
  }

  it("answers OPTIONS with the protocol's capabilities", async () => {
    const r = await h.app.inject({ method: "OPTIONS", url: "/api/videos/upload/" });
    expect(r.statusCode).toBe(204);
    expect(r.headers["tus-version"]).toBe("1.0.0");
    expect(String(r.headers["tus-extension"]).split(",")).toEqual(
      expect.arrayContaining(["creation", "creation-with-upload", "termination", "expiration", "checksum", "concatenation"]),
    );
    expect(r.headers["tus-max-size"]).toBe(String(45 * MiB));
    expect(String(r.headers["tus-checksum-algorithm"]).split(",")).toEqual(expect.arrayContaining(["sha1", "md5", "sha256"]));
  });

  it("uploads in one PATCH: Video row at creation, validating, then queued with a byte-exact original", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length, { metadata: { filename: "holiday.mp4", filetype: "video/mp4", title: "Holiday", description: "Sea", visibility: "unlisted", language: "fr" } });
    expect(c.r.statusCode).toBe(201);
    // relative (RFC 9110 §10.2.2): never built from the client's Host header
    expect(c.location).toMatch(/^\/api\/videos\/upload\/[0-9a-f-]{36}\/$/);
    expect(c.r.headers["tus-resumable"]).toBe("1.0.0");
    expect(c.r.headers["upload-expires"]).toMatch(/GMT$/);
    const videoId = c.videoId!;
    // The video exists at once, status uploading, readable through the API during the upload.
    const during = await h.app.inject({ url: `/api/videos/${videoId}/`, headers: authHeader(u.access) });
    expect(during.statusCode).toBe(200);
    expect(during.json()).toMatchObject({ id: videoId, status: "uploading", title: "Holiday", visibility: "unlisted", language: "fr", original_filename: "holiday.mp4" });
    const p = await tusPatch(h, u.access, c.path!, 0, mp4);
    expect(p.statusCode).toBe(204);
    expect(p.headers["upload-offset"]).toBe(String(mp4.length));
    expect(p.headers["video-id"]).toBe(videoId);
    const v = await waitForStatus(h, videoId);
    expect(v.status).toBe("queued");
    expect(v.size_bytes).toBe(mp4.length);
    expect(v.source_key).toBe(videoKeys.original(videoId));
    expect(sha256(await storedOriginal(videoId))).toBe(sha256(mp4));
    // The staging file is gone once the original is stored.
    expect(existsSync(path.join(h.config.dataDir, "uploads", c.path!.split("/")[4]!))).toBe(false);
  });

  it("uploads in many chunks and reports each offset", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length, { metadata: { filename: "chunks.mp4" } });
    const chunk = 7_000;
    for (let off = 0; off < mp4.length; off += chunk) {
      const r = await tusPatch(h, u.access, c.path!, off, mp4.subarray(off, off + chunk));
      expect(r.statusCode).toBe(204);
      expect(Number(r.headers["upload-offset"])).toBe(Math.min(mp4.length, off + chunk));
      if (off + chunk < mp4.length) expect(r.headers["upload-expires"]).toMatch(/GMT$/);
    }
    const head = await tusHead(h, u.access, c.path!);
    expect(head.statusCode).toBe(200);
    expect(head.headers["upload-offset"]).toBe(String(mp4.length));
    expect(head.headers["upload-length"]).toBe(String(mp4.length));
    expect(head.headers["cache-control"]).toBe("no-store");
    const v = await waitForStatus(h, c.videoId!);
    expect(v).toMatchObject({ status: "queued", title: "chunks" });
    expect(sha256(await storedOriginal(c.videoId!))).toBe(sha256(mp4));
  });

  it("keeps what arrived before a connection broke and resumes from HEAD's offset, byte-exact", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    const cut = 40_000;
    // A real socket: the client announces the whole file, sends 40 kB and its connection dies.
    const base = await h.app.listen({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => {
      const req = http.request(`${base}${c.path}`, {
        method: "PATCH",
        headers: { ...TUS, ...authHeader(u.access), "content-type": "application/offset+octet-stream", "upload-offset": "0", "content-length": String(mp4.length) },
      });
      req.on("error", () => resolve());
      // The connection dies a second after the bytes left: time for the handler to pass auth and
      // the upload lock (a PostgreSQL query and a Redis round trip, slow on a loaded machine) and
      // read them; killed before the handler runs, nothing was received yet and 0 is right.
      req.write(mp4.subarray(0, cut), () => setTimeout(() => req.destroy(), 1000));
    });
    // The server notices the broken connection and commits what it received.
    // By deadline, not by count: on a loaded CI machine the close can take seconds to surface.
    let offset = -1;
    for (const deadline = Date.now() + 20_000; offset !== cut && Date.now() < deadline; ) {
      const head = await tusHead(h, u.access, c.path!);
      offset = Number(head.headers["upload-offset"]);
      if (offset !== cut) await new Promise((r) => setTimeout(r, 20));
    }
    expect(offset).toBe(cut);
    const r = await tusPatch(h, u.access, c.path!, offset, mp4.subarray(offset));
    expect(r.statusCode).toBe(204);
    expect(r.headers["upload-offset"]).toBe(String(mp4.length));
    await waitForStatus(h, c.videoId!, ["queued"]);
    expect(sha256(await storedOriginal(c.videoId!))).toBe(sha256(mp4));
  });

  it("verifies checksums: 460 discards the chunk, a good sha1/md5/sha256 is accepted, an unknown algorithm is 400", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    const part = (a: number, b: number) => mp4.subarray(a, b);
    const digest = (alg: string, b: Buffer) => createHash(alg).update(b).digest("base64");
    const bad = await tusPatch(h, u.access, c.path!, 0, part(0, 10_000), { "upload-checksum": `sha1 ${digest("sha1", part(1, 10_001))}` });
    expect(bad.statusCode).toBe(460);
    expect(bad.json().error.code).toBe("checksum_mismatch");
    expect((await tusHead(h, u.access, c.path!)).headers["upload-offset"]).toBe("0");
    const unknown = await tusPatch(h, u.access, c.path!, 0, part(0, 10_000), { "upload-checksum": `crc32 ${Buffer.alloc(4).toString("base64")}` });
    expect(unknown.statusCode).toBe(400);
    let off = 0;
    for (const [alg, end] of [["sha1", 10_000], ["md5", 20_000], ["sha256", mp4.length]] as const) {
      const r = await tusPatch(h, u.access, c.path!, off, part(off, end), { "upload-checksum": `${alg} ${digest(alg, part(off, end))}` });
      expect(r.statusCode).toBe(204);
      off = end;
    }
    await waitForStatus(h, c.videoId!, ["queued"]);
    expect(sha256(await storedOriginal(c.videoId!))).toBe(sha256(mp4));
  });

  it("answers 409 to a wrong offset and leaves the upload untouched", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    expect((await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 5000))).statusCode).toBe(204);
    for (const wrong of [0, 4000, 6000]) {
      const r = await tusPatch(h, u.access, c.path!, wrong, mp4.subarray(wrong, wrong + 1000));
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe("offset_mismatch");
    }
    expect((await tusHead(h, u.access, c.path!)).headers["upload-offset"]).toBe("5000");
  });

  it("expires: 410 while the record is kept, 404 after the sweep, which removes the partial file and fails the video", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 5000));
    const id = c.path!.split("/")[4]!;
    const staged = path.join(h.config.dataDir, "uploads", id);
    expect(existsSync(staged)).toBe(true);
    await h.ctx.db.updateTable("uploads").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("id", "=", id).execute();
    const head = await tusHead(h, u.access, c.path!);
    expect(head.statusCode).toBe(410);
    expect(head.headers["upload-offset"]).toBeUndefined();
    const patch = await tusPatch(h, u.access, c.path!, 5000, mp4.subarray(5000, 6000));
    expect(patch.statusCode).toBe(410);
    expect(patch.json().error.code).toBe("upload_expired");
    const swept = await h.domains.uploads.sweepExpired();
    expect(swept.uploads).toBeGreaterThanOrEqual(1);
    expect((await tusHead(h, u.access, c.path!)).statusCode).toBe(404);
    expect(existsSync(staged)).toBe(false);
    expect(await videoRow(h, c.videoId!)).toMatchObject({ status: "failed", failure_code: "upload_expired" });
  });

  it("sweeps staging files that have no upload record once they are older than the expiry", async () => {
    const orphan = path.join(h.config.dataDir, "uploads", "0b9d1b5e-2f6c-4c53-9a53-6a3c1f1f0c11");
    await writeFile(orphan, "left over by a crash");
    const old = new Date(Date.now() - (h.config.upload.expiryS + 60) * 1000);
    await utimes(orphan, old, old);
    const fresh = path.join(h.config.dataDir, "uploads", "1b9d1b5e-2f6c-4c53-9a53-6a3c1f1f0c11");
    await writeFile(fresh, "being created right now");
    const swept = await h.domains.uploads.sweepExpired();
    expect(swept.orphanFiles).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    await rm(fresh);
  });

  it("resumes a validation a restart interrupted", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, mp4.length - 1));
    // As if the process died right after the last byte: file complete, video `validating`.
    const id = c.path!.split("/")[4]!;
    await appendFile(path.join(h.config.dataDir, "uploads", id), mp4.subarray(mp4.length - 1));
    await h.ctx.db.updateTable("uploads").set({ offset: mp4.length, state: "completed" }).where("id", "=", id).execute();
    await h.ctx.db.updateTable("videos").set({ status: "validating" }).where("id", "=", c.videoId!).execute();
    expect(await h.domains.uploads.validation.recover()).toBeGreaterThanOrEqual(1);
    await waitForStatus(h, c.videoId!, ["queued"]);
    expect(sha256(await storedOriginal(c.videoId!))).toBe(sha256(mp4));
  });

  it("removes a deleted account's uploads and staged bytes", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length, { headers: { "upload-concat": "partial" } });
    await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 1000));
    const staged = path.join(h.config.dataDir, "uploads", c.path!.split("/")[4]!);
    expect(existsSync(staged)).toBe(true);
    await h.domains.uploads.sweeper.removeUserContent(u.user.id);
    expect(existsSync(staged)).toBe(false);
    expect((await tusHead(h, u.access, c.path!)).statusCode).toBe(404);
  });

  it("refuses an Upload-Length over MAX_UPLOAD_SIZE (413) and cuts a body longer than the upload (413, nothing kept)", async () => {
    const u = await uploader();
    const big = await tusCreate(h, u.access, 45 * MiB + 1);
    expect(big.r.statusCode).toBe(413);
    expect(big.r.json().error.code).toBe("too_large");
    const c = await tusCreate(h, u.access, 10_000);
    // Declared too long: refused before reading.
    const declared = await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 10_001));
    expect(declared.statusCode).toBe(413);
    // Chunked, no Content-Length: the stream is cut when it passes the length.
    const { Readable } = await import("node:stream");
    const chunked = await tusPatch(h, u.access, c.path!, 0, Readable.from([mp4.subarray(0, 8000), mp4.subarray(8000, 12_000)]));
    expect(chunked.statusCode).toBe(413);
    expect(chunked.json().error.code).toBe("upload_length_exceeded");
    expect((await tusHead(h, u.access, c.path!)).headers["upload-offset"]).toBe("0");
  });

  it("enforces the quota (413 quota_exceeded) and the concurrent uploads limit (429)", async () => {
    const u = await uploader();
    const a = await tusCreate(h, u.access, 40 * MiB);
    expect(a.r.statusCode).toBe(201);
    const over = await tusCreate(h, u.access, 11 * MiB);
    expect(over.r.statusCode).toBe(413);
    expect(over.r.json().error).toMatchObject({ code: "quota_exceeded", details: { limit: 50 * MiB } });
    await tusCreate(h, u.access, 10);
    await tusCreate(h, u.access, 10);
    const fourth = await tusCreate(h, u.access, 10);
    expect(fourth.r.statusCode).toBe(429);
    expect(fourth.r.json().error.code).toBe("too_many_uploads");
    // Terminating one frees a slot (and its quota).
    expect((await h.app.inject({ method: "DELETE", url: a.path!, headers: { ...TUS, ...authHeader(u.access) } })).statusCode).toBe(204);
    expect((await tusCreate(h, u.access, 11 * MiB)).r.statusCode).toBe(201);
  });

  it("needs the upload right (401 anonymous, 403 for a `user`) and hides other users' uploads (404)", async () => {
    const plain = await createUser(h, { role: "user" });
    const anon = await h.app.inject({ method: "POST", url: "/api/videos/upload/", headers: { ...TUS, "upload-length": "10" } });
    expect(anon.statusCode).toBe(401);
    const forbidden = await tusCreate(h, plain.access, 10);
    expect(forbidden.r.statusCode).toBe(403);
    const owner = await uploader();
    const other = await uploader();
    const c = await tusCreate(h, owner.access, mp4.length);
    expect((await tusHead(h, other.access, c.path!)).statusCode).toBe(404);
    const patch = await tusPatch(h, other.access, c.path!, 0, mp4.subarray(0, 100));
    expect(patch.statusCode).toBe(404);
    expect(patch.json().error.code).toBe("upload_not_found");
    expect((await h.app.inject({ method: "DELETE", url: c.path!, headers: { ...TUS, ...authHeader(other.access) } })).statusCode).toBe(404);
    expect((await tusHead(h, owner.access, c.path!)).statusCode).toBe(200);
  });

  it("checks the protocol headers: 412 without Tus-Resumable, 415 for another Content-Type, 400 for bad metadata", async () => {
    const u = await uploader();
    const noVersion = await h.app.inject({ method: "POST", url: "/api/videos/upload/", headers: { ...authHeader(u.access), "upload-length": "10" } });
    expect(noVersion.statusCode).toBe(412);
    expect(noVersion.headers["tus-version"]).toBe("1.0.0");
    const c = await tusCreate(h, u.access, mp4.length);
    const wrongType = await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 10), { "content-type": "application/octet-stream" });
    expect(wrongType.statusCode).toBe(415);
    // Every refused header is an input problem naming it, with the error's code.
    expect(wrongType.json().error).toMatchObject({ code: "unsupported_media_type", details: [{ location: "headers", field: "content-type", code: "unsupported_media_type", message: expect.any(String) }] });
    const noLength = await tusCreate(h, u.access, null);
    expect(noLength.r.statusCode).toBe(400);
    expect(noLength.r.json().error).toMatchObject({ code: "missing_upload_length", details: [{ location: "headers", field: "upload-length", code: "missing_upload_length", message: "is required" }] });
    const deferred = await tusCreate(h, u.access, null, { headers: { "upload-defer-length": "1" } });
    expect(deferred.r.statusCode).toBe(400);
    const badMeta = await tusCreate(h, u.access, 10, { headers: { "upload-metadata": "title !!!" } });
    expect(badMeta.r.statusCode).toBe(400);
    expect(badMeta.r.json().error.details).toEqual([{ location: "headers", field: "upload-metadata", code: "invalid_upload_metadata", message: expect.any(String) }]);
    const badVisibility = await tusCreate(h, u.access, 10, { metadata: { visibility: "secret" } });
    expect(badVisibility.r.statusCode).toBe(400);
    expect(badVisibility.r.json().error).toMatchObject({ code: "validation_error", details: [{ location: "metadata", field: "visibility", code: "enum", message: expect.any(String) }] });
    const longTitle = await tusCreate(h, u.access, 10, { metadata: { title: "x".repeat(201) } });
    expect(longTitle.r.statusCode).toBe(400);
  });

  it("echoes Upload-Metadata on HEAD and accepts creation-with-upload", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length, { metadata: { filename: "a.mp4", title: "With upload" }, body: mp4.subarray(0, 20_000) });
    expect(c.r.statusCode).toBe(201);
    expect(c.r.headers["upload-offset"]).toBe("20000");
    const head = await tusHead(h, u.access, c.path!);
    expect(head.headers["upload-metadata"]).toBe(`filename ${Buffer.from("a.mp4").toString("base64")},title ${Buffer.from("With upload").toString("base64")}`);
    expect(head.headers["video-id"]).toBe(c.videoId);
    expect((await tusPatch(h, u.access, c.path!, 20_000, mp4.subarray(20_000))).statusCode).toBe(204);
    await waitForStatus(h, c.videoId!, ["queued"]);
  });

  it("terminates an unfinished upload: 204, then 404, and its video is gone", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 1000));
    const del = await h.app.inject({ method: "DELETE", url: c.path!, headers: { ...TUS, ...authHeader(u.access) } });
    expect(del.statusCode).toBe(204);
    expect(del.headers["tus-resumable"]).toBe("1.0.0");
    expect((await tusHead(h, u.access, c.path!)).statusCode).toBe(404);
    expect(await videoRow(h, c.videoId!)).toBeUndefined();
  });

  it("stops an upload whose video was deleted through the videos API", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    await tusPatch(h, u.access, c.path!, 0, mp4.subarray(0, 1000));
    const del = await h.app.inject({ method: "DELETE", url: `/api/videos/${c.videoId}/`, headers: authHeader(u.access) });
    expect(del.statusCode).toBe(204);
    expect((await tusPatch(h, u.access, c.path!, 1000, mp4.subarray(1000, 2000))).statusCode).toBe(404);
    expect((await tusHead(h, u.access, c.path!)).statusCode).toBe(404);
  });

  it("concatenates partial uploads into a final one (and refuses PATCH on the final)", async () => {
    const u = await uploader();
    const cut = 33_333;
    const p1 = await tusCreate(h, u.access, cut, { headers: { "upload-concat": "partial" } });
    const p2 = await tusCreate(h, u.access, mp4.length - cut, { headers: { "upload-concat": "partial" } });
    expect(p1.videoId).toBeNull();
    // Parts may be sent in any order, in parallel.
    await Promise.all([tusPatch(h, u.access, p2.path!, 0, mp4.subarray(cut)), tusPatch(h, u.access, p1.path!, 0, mp4.subarray(0, cut))]);
    expect((await tusHead(h, u.access, p1.path!)).headers["upload-concat"]).toBe("partial");
    const final = await tusCreate(h, u.access, null, { metadata: { filename: "parallel.mp4" }, headers: { "upload-concat": `final;${p1.location} ${p2.path}` } });
    expect(final.r.statusCode).toBe(201);
    const head = await tusHead(h, u.access, final.path!);
    expect(head.headers["upload-offset"]).toBe(String(mp4.length));
    expect(head.headers["upload-concat"]).toMatch(/^final;/);
    expect((await tusPatch(h, u.access, final.path!, mp4.length, Buffer.alloc(0))).statusCode).toBe(403);
    await waitForStatus(h, final.videoId!, ["queued"]);
    expect(sha256(await storedOriginal(final.videoId!))).toBe(sha256(mp4));
  });

  it("accepts X-HTTP-Method-Override for clients that cannot send PATCH or DELETE", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    const r = await h.app.inject({
      method: "POST",
      url: c.path!,
      headers: { ...TUS, ...authHeader(u.access), "x-http-method-override": "PATCH", "content-type": "application/offset+octet-stream", "upload-offset": "0" },
      payload: mp4,
    });
    expect(r.statusCode).toBe(204);
    expect(r.headers["upload-offset"]).toBe(String(mp4.length));
    await waitForStatus(h, c.videoId!, ["queued"]);
  });

  it("publishes upload progress (≤ every 250 ms), then the status changes", async () => {
    const u = await uploader();
    const c = await tusCreate(h, u.access, mp4.length);
    const events: VideoEvent[] = [];
    const unsubscribe = await h.ctx.events.subscribe(c.videoId!, (e) => events.push(e));
    try {
      // Small PATCHes every 50 ms for ~0.6 s: many more PATCHes than events.
      const chunk = Math.ceil(mp4.length / 12);
      for (let off = 0; off < mp4.length; off += chunk) {
        await tusPatch(h, u.access, c.path!, off, mp4.subarray(off, off + chunk));
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitForStatus(h, c.videoId!, ["queued"]);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await unsubscribe();
    }
    const uploads = events.filter((e) => e.type === "upload");
    expect(uploads.length).toBeGreaterThanOrEqual(2);
    expect(uploads.length).toBeLessThan(12);
    const last = uploads[uploads.length - 1]!;
    expect(last).toMatchObject({ video_id: c.videoId, bytes_received: mp4.length, total: mp4.length, percent: 100, eta_s: 0 });
    expect(typeof last.rate_bytes_per_s).toBe("number");
    for (const e of uploads) expect(e.bytes_received as number).toBeLessThanOrEqual(mp4.length);
    // Throttled: taken 250 ms apart, except the final 100% event. `at` is stamped when the event
    // is published, a few ms after it was taken, so one late publish shortens the next gap; the
    // PATCHes come every ~50 ms, so an unthrottled stream would show gaps far below 150 ms.
    const times = uploads.map((e) => Date.parse(e.at));
    for (let i = 1; i < times.length - 1; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(150);
    const statuses = events.filter((e) => e.type === "status").map((e) => e.status);
    expect(statuses).toEqual(expect.arrayContaining(["validating", "queued"]));
    expect(statuses.indexOf("validating")).toBeLessThan(statuses.indexOf("queued"));
    // The progress column follows too.
    const row = await videoRow(h, c.videoId!);
    expect(row?.progress).toContain('"step":"queued"');
  });

  it("fails fast on the first bytes of something that is not a video", async () => {
    const u: TestUser = await uploader();
    const png = await readFile(path.join(dir, "clip.mp4")).then(() => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(5 * MiB, 1)]));
    const c = await tusCreate(h, u.access, png.length, { metadata: { filename: "picture.mp4" } });
    const first = await tusPatch(h, u.access, c.path!, 0, png.subarray(0, 4096));
    expect(first.statusCode).toBe(415);
    expect(first.json().error).toMatchObject({ code: "not_a_video", details: { video_id: c.videoId } });
    const next = await tusPatch(h, u.access, c.path!, 4096, png.subarray(4096, 8192));
    expect(next.statusCode).toBe(415);
    expect(next.json().error.code).toBe("not_a_video");
    expect((await tusHead(h, u.access, c.path!)).statusCode).toBe(415);
    expect(await videoRow(h, c.videoId!)).toMatchObject({ status: "failed", failure_code: "not_a_video" });
    expect(existsSync(path.join(h.config.dataDir, "uploads", c.path!.split("/")[4]!))).toBe(false);
  });
});
