/**
 * Real clients against the app listening on 127.0.0.1: tus-js-client (one request, chunks with an
 * interruption and resume, parallel uploads through concatenation, a refused file) and the simple
 * multipart/form-data POST sent by fetch.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DetailedError, Upload, type HttpRequest, type HttpResponse } from "tus-js-client";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser } from "../../test/users.fixtures.js";
import { videoKeys } from "../videos/index.js";
import { makeMp4, sha256, waitForStatus } from "./upload.fixtures.js";

interface Result {
  videoId: string | null;
  methods: string[];
  progress: number[];
  error: Error | DetailedError | null;
}

describe("real clients", () => {
  let h: Harness;
  let dir: string;
  let mp4: Buffer;
  let base: string;

  beforeAll(async () => {
    h = await createHarness({ SIMPLE_UPLOAD_MAX: "512K", MAX_CONCURRENT_UPLOADS: "10" });
    dir = mkdtempSync(path.join(tmpdir(), "vidflux-upload-client-"));
    mp4 = await makeMp4(dir);
    base = await h.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    if (h) {
      await h.domains.uploads.validation.idle();
      await h.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a tus-js-client upload to the end (success or error); `tweak` may set more options. */
  function tusClient(access: string, data: Buffer, options: ConstructorParameters<typeof Upload>[1], tweak?: (u: Upload) => void): Promise<Result> {
    const res: Result = { videoId: null, methods: [], progress: [], error: null };
    return new Promise((resolve) => {
      const upload = new Upload(data, {
        endpoint: `${base}/api/videos/upload/`,
        headers: authHeader(access),
        metadata: { filename: "client.mp4", filetype: "video/mp4", title: "From tus-js-client" },
        retryDelays: null,
        ...options,
        onBeforeRequest: (req: HttpRequest) => void res.methods.push(req.getMethod()),
        onAfterResponse: (_req: HttpRequest, r: HttpResponse) => {
          res.videoId = r.getHeader("Video-Id") ?? res.videoId;
        },
        onProgress: (sent) => void res.progress.push(sent),
        onSuccess: () => resolve(res),
        onError: (err) => {
          res.error = err;
          resolve(res);
        },
      });
      tweak?.(upload);
      upload.start();
    });
  }

  it("uploads with tus-js-client in one request", async () => {
    const u = await createUser(h, { role: "uploader" });
    const r = await tusClient(u.access, mp4, {});
    expect(r.error).toBeNull();
    expect(r.methods).toEqual(["POST", "PATCH"]);
    expect(r.progress[r.progress.length - 1]).toBe(mp4.length);
    const v = await waitForStatus(h, r.videoId!);
    expect(v).toMatchObject({ status: "queued", title: "From tus-js-client", original_filename: "client.mp4" });
    expect(sha256(await h.ctx.storage.getBuffer(videoKeys.original(r.videoId!)))).toBe(sha256(mp4));
  });

  it("resumes with tus-js-client after an interruption (HEAD, then the missing bytes), byte-exact", async () => {
    const u = await createUser(h, { role: "uploader" });
    let upload: Upload | null = null;
    let aborted = false;
    const r = await tusClient(u.access, mp4, { chunkSize: 16 * 1024 }, (up) => {
      upload = up;
      up.options.onChunkComplete = (_size, accepted) => {
        if (!aborted && accepted >= 48 * 1024) {
          aborted = true;
          // The connection "drops"; the client comes back a moment later and resumes.
          void up.abort().then(() => setTimeout(() => up.start(), 50));
        }
      };
    });
    expect(upload).not.toBeNull();
    expect(r.error).toBeNull();
    expect(aborted).toBe(true);
    expect(r.methods[0]).toBe("POST");
    expect(r.methods).toContain("HEAD");
    expect(r.methods.filter((m) => m === "POST")).toHaveLength(1);
    await waitForStatus(h, r.videoId!, ["queued"]);
    expect(sha256(await h.ctx.storage.getBuffer(videoKeys.original(r.videoId!)))).toBe(sha256(mp4));
  });

  it("uploads in parallel with tus-js-client (partial uploads + concatenation)", async () => {
    const u = await createUser(h, { role: "uploader" });
    const r = await tusClient(u.access, mp4, { parallelUploads: 3 });
    expect(r.error).toBeNull();
    expect(r.methods.filter((m) => m === "POST")).toHaveLength(4);
    await waitForStatus(h, r.videoId!, ["queued"]);
    expect(sha256(await h.ctx.storage.getBuffer(videoKeys.original(r.videoId!)))).toBe(sha256(mp4));
  });

  it("gives tus-js-client a clear error for a file that is not a video", async () => {
    const u = await createUser(h, { role: "uploader" });
    const html = Buffer.from(`<!doctype html><title>x</title>${"<p>hello</p>".repeat(2000)}`);
    const r = await tusClient(u.access, html, {});
    expect(r.error).toBeInstanceOf(DetailedError);
    const res = (r.error as DetailedError).originalResponse;
    expect(res?.getStatus()).toBe(415);
    expect(JSON.parse(res!.getBody()).error.code).toBe("not_a_video");
    expect((await waitForStatus(h, r.videoId!)).failure_code).toBe("not_a_video");
  });

  describe("simple multipart upload", () => {
    async function post(access: string, fields: Record<string, string>, file: Buffer | null, filename = "simple.mp4") {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      if (file) form.append("file", new Blob([new Uint8Array(file)], { type: "video/mp4" }), filename);
      return fetch(`${base}/api/videos/upload/`, { method: "POST", headers: authHeader(access), body: form });
    }

    it("answers 201 with the video, then validates it like a tus upload", async () => {
      const u = await createUser(h, { role: "uploader" });
      const r = await post(u.access, { title: "Simple", description: "One request", visibility: "private" }, mp4);
      expect(r.status).toBe(201);
      const body = (await r.json()) as { id: string; status: string; title: string; visibility: string; original_filename: string; size_bytes: number };
      expect(body).toMatchObject({ status: "validating", title: "Simple", visibility: "private", original_filename: "simple.mp4", size_bytes: mp4.length });
      expect(r.headers.get("video-id")).toBe(body.id);
      await waitForStatus(h, body.id, ["queued"]);
      expect(sha256(await h.ctx.storage.getBuffer(videoKeys.original(body.id)))).toBe(sha256(mp4));
    });

    it("refuses a file over SIMPLE_UPLOAD_MAX (413), a non-video (415), a missing file (400) and a `user` (403)", async () => {
      const u = await createUser(h, { role: "uploader" });
      const big = Buffer.concat([mp4, Buffer.alloc(600 * 1024)]);
      const tooBig = await post(u.access, { title: "Big" }, big);
      expect(tooBig.status).toBe(413);
      expect(((await tooBig.json()) as { error: { code: string } }).error.code).toBe("too_large");
      const notVideo = await post(u.access, { title: "Text" }, Buffer.from("just some text, not a video\n".repeat(100)), "notes.mp4");
      expect(notVideo.status).toBe(415);
      expect(((await notVideo.json()) as { error: { code: string } }).error.code).toBe("not_a_video");
      const noFile = await post(u.access, { title: "Nothing" }, null);
      expect(noFile.status).toBe(400);
      const plain = await createUser(h, { role: "user" });
      expect((await post(plain.access, { title: "No right" }, mp4)).status).toBe(403);
      // Nothing was left behind in staging (the refused and accepted files alike).
      await h.domains.uploads.validation.idle();
      expect(readdirSync(path.join(h.config.dataDir, "uploads"))).toEqual([]);
      const health = await fetch(`${base}/api/health/`);
      expect(health.status).toBe(200);
    });
  });
});
