/**
 * Hostile and odd files through the real tus endpoint: each ends with its failure code (or, for
 * odd but valid files, in `queued`), and the API keeps answering after every one of them.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import {
  elfBinary,
  makeAudioM4a,
  makeAudioOnlyMkv,
  makeAvi,
  makeFlv,
  makeGif,
  makeMjpegAvi,
  makeMkv,
  makeMp4,
  makeMp4IndexLast,
  makeMpegPs,
  makeOgv,
  makePng,
  makeTs,
  makeWav,
  makeWebm,
  mp4HeaderOnly,
  randomBytesSeeded,
  tusCreate,
  tusPatch,
  waitForStatus,
  withHugeDuration,
  withHugeResolution,
  zipArchive,
} from "./upload.fixtures.js";

interface Case {
  name: string;
  filename: string;
  data: () => Promise<Buffer>;
  /** failure code, or "queued" for a file that must be accepted */
  expect: string;
  /** refused while uploading (first bytes), rather than after completion */
  early?: boolean;
  check?: (h: Harness, videoId: string) => Promise<void>;
}

describe("hostile uploads", () => {
  let h: Harness;
  let dir: string;
  let mp4: Buffer;
  let uploader: TestUser;

  beforeAll(async () => {
    h = await createHarness({ MAX_CONCURRENT_UPLOADS: "50" });
    dir = mkdtempSync(path.join(tmpdir(), "vidflux-upload-hostile-"));
    mp4 = await makeMp4(dir);
    uploader = await createUser(h, { role: "uploader" });
  });
  afterAll(async () => {
    if (h) {
      await h.domains.uploads.validation.idle();
      await h.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const text = (s: string) => Promise.resolve(Buffer.from(s));
  const cases: Case[] = [
    { name: "zero bytes", filename: "empty.mp4", data: () => Promise.resolve(Buffer.alloc(0)), expect: "empty_file" },
    { name: "text renamed .mp4", filename: "notes.mp4", data: () => text("Dear diary,\nthis is not a video at all.\n".repeat(60)), expect: "not_a_video", early: true },
    { name: "HTML page", filename: "page.mp4", data: () => text(`<!DOCTYPE html><html><script>alert(1)</script>${"<p>x</p>".repeat(300)}</html>`), expect: "not_a_video", early: true },
    { name: "PNG image", filename: "image.mp4", data: () => makePng(dir), expect: "not_a_video", early: true },
    { name: "GIF animation", filename: "anim.mp4", data: () => makeGif(dir), expect: "not_a_video", early: true },
    { name: "ZIP archive", filename: "archive.mp4", data: async () => zipArchive("movie.mp4", mp4), expect: "not_a_video", early: true },
    { name: "ELF executable", filename: "a.out.mp4", data: async () => elfBinary(), expect: "not_a_video", early: true },
    { name: "PDF document", filename: "doc.mp4", data: () => text(`%PDF-1.7\n${"1 0 obj << /Type /Catalog >> endobj\n".repeat(50)}`), expect: "not_a_video", early: true },
    { name: "random bytes", filename: "noise.mkv", data: async () => randomBytesSeeded(300_000), expect: "not_a_video", early: true },
    { name: "WAV audio", filename: "tone.avi", data: () => makeWav(dir), expect: "not_a_video", early: true },
    { name: "polyglot: PNG header then an MP4", filename: "poly.mp4", data: async () => Buffer.concat([(await makePng(dir)).subarray(0, 64), mp4]), expect: "not_a_video", early: true },
    { name: "polyglot: HTML then an MP4", filename: "poly.html.mp4", data: async () => Buffer.concat([Buffer.from("<html><body><script>fetch('/x')</script></body></html>\n"), mp4]), expect: "not_a_video", early: true },
    { name: "Flash video (unsupported container)", filename: "old.flv", data: () => makeFlv(dir), expect: "unsupported_container", early: true },
    { name: "MPEG program stream (unsupported container)", filename: "dvd.mpg", data: () => makeMpegPs(dir), expect: "unsupported_container", early: true },
    { name: "truncated mp4 (index at the end, cut in half)", filename: "cut.mp4", data: async () => (await makeMp4IndexLast(dir)).subarray(0, 50_000), expect: "corrupt" },
    { name: "mp4 header only (no media data)", filename: "header.mp4", data: async () => mp4HeaderOnly(mp4), expect: "corrupt" },
    { name: "mp4 signature over a zip body", filename: "fake.mp4", data: async () => Buffer.concat([mp4.subarray(0, 32), zipArchive("x.bin", randomBytesSeeded(50_000, 7))]), expect: "corrupt" },
    { name: "audio-only mp4 (m4a)", filename: "song.mp4", data: () => makeAudioM4a(dir), expect: "no_video_stream" },
    { name: "mkv without video", filename: "radio.mkv", data: () => makeAudioOnlyMkv(dir), expect: "no_video_stream" },
    { name: "huge declared duration", filename: "forever.mp4", data: async () => withHugeDuration(mp4), expect: "too_long" },
    { name: "16000×16000 header", filename: "huge.avi", data: async () => withHugeResolution(await makeMjpegAvi(dir)), expect: "resolution_too_large" },
    { name: "MPEG-TS sync bytes over garbage", filename: "garbage.ts", data: async () => {
      const b = randomBytesSeeded(188 * 200, 9);
      for (let i = 0; i < b.length; i += 188) b[i] = 0x47;
      return b;
    }, expect: "corrupt" },
    {
      name: "unicode filename with a bidi override (valid clip)",
      filename: "vidéo 🎬 \u202egpj.mp4",
      data: async () => mp4,
      expect: "queued",
      check: async (hh, id) => {
        const v = await hh.app.inject({ url: `/api/videos/${id}/` });
        expect(v.json().original_filename).toBe("vidéo 🎬 gpj.mp4");
      },
    },
    {
      name: "`../` filename (valid clip)",
      filename: "../../../../etc/passwd.mp4",
      data: async () => mp4,
      expect: "queued",
      check: async (hh, id) => {
        const v = await hh.app.inject({ url: `/api/videos/${id}/` });
        expect(v.json().original_filename).toBe("passwd.mp4");
        // Nothing was written next to the data dir: staging and media are keyed by ids only.
        expect(readdirSync(path.dirname(hh.config.dataDir)).filter((n) => n === "etc")).toEqual([]);
      },
    },
    { name: "Matroska (valid)", filename: "ok.mkv", data: () => makeMkv(dir), expect: "queued" },
    { name: "WebM (valid)", filename: "ok.webm", data: () => makeWebm(dir), expect: "queued" },
    { name: "AVI (valid)", filename: "ok.avi", data: () => makeAvi(dir), expect: "queued" },
    { name: "MPEG-TS (valid)", filename: "ok.ts", data: () => makeTs(dir), expect: "queued" },
    { name: "Ogg Theora (valid)", filename: "ok.ogv", data: () => makeOgv(dir), expect: "queued" },
  ];

  it("has at least 20 hostile files", () => {
    expect(cases.filter((c) => c.expect !== "queued").length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)("$name → $expect", async (c) => {
    const data = await c.data();
    const created = await tusCreate(h, uploader.access, data.length, { metadata: { filename: c.filename } });
    expect(created.r.statusCode).toBe(201);
    const videoId = created.videoId!;
    if (data.length > 0) {
      // Sent in 64 kB chunks like a real client; an early refusal stops at the first one.
      let status = 204;
      for (let off = 0; off < data.length && status === 204; off += 65_536) {
        const r = await tusPatch(h, uploader.access, created.path!, off, data.subarray(off, off + 65_536));
        status = r.statusCode;
        if (status !== 204) {
          expect(c.early, `refused while uploading: ${r.body}`).toBe(true);
          expect(r.statusCode).toBe(415);
          expect(r.json().error.code).toBe(c.expect);
          expect(off).toBe(0);
        }
      }
      if (c.early) expect(status).toBe(415);
    }
    const v = await waitForStatus(h, videoId);
    if (c.expect === "queued") {
      expect(v.status, `${v.failure_code}: ${v.failure_message}`).toBe("queued");
    } else {
      expect(v.status).toBe("failed");
      expect(v.failure_code, v.failure_message ?? "").toBe(c.expect);
      expect(v.failure_message).toBeTruthy();
      // A refused file is never kept.
      expect(await h.ctx.storage.exists(`videos/${videoId}/original`)).toBe(false);
    }
    await c.check?.(h, videoId);
    const health = await h.app.inject({ url: "/api/health/" });
    expect(health.statusCode).toBe(200);
  });
});
