/**
 * The one behavioural contract every Storage adapter must pass. Adapter-specific tests only add
 * setup (a temp dir, an s3rver); anything the app relies on belongs here so the adapters stay
 * interchangeable.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat as fsStat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidKeyError, isNotFoundError, type Storage } from "./storage.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("hex");
}

/** Bigger than one 8 MiB S3 part with a short tail, so multipart and its last-part handling both run. */
const LARGE_SIZE = 9 * 1024 * 1024 + 123;

const BAD_KEYS = ["", "../escape", "a/../../escape", "a/..", "/etc/passwd", "a\\b", "a\0b", "a//b", "./a", "a/./b", "a/"];

export function storageContract(
  name: string,
  makeStorage: () => Storage | Promise<Storage>,
  cleanup: () => Promise<void> = async () => undefined,
): void {
  describe(`Storage contract: ${name}`, () => {
    let s: Storage;
    let tmp: string;
    // Every test works under its own prefix so tests never see each other's objects.
    const ns = (): string => `contract-${randomUUID()}/`;

    beforeAll(async () => {
      s = await makeStorage();
      tmp = await mkdtemp(path.join(tmpdir(), "vidflux-storage-contract-"));
    });

    afterAll(async () => {
      await s?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
      await cleanup();
    });

    it("round-trips a Buffer, a string and a stream", async () => {
      const p = ns();
      const bin = randomBytes(4096);
      await s.put(`${p}bin`, bin, { contentType: "application/octet-stream" });
      await s.put(`${p}text.txt`, "héllo wörld", { contentType: "text/plain" });
      await s.put(`${p}stream`, Readable.from([Buffer.from("ab"), Buffer.from("cd"), Buffer.from("ef")]));

      expect((await s.getBuffer(`${p}bin`)).equals(bin)).toBe(true);
      expect((await readAll(await s.get(`${p}bin`))).equals(bin)).toBe(true);
      expect((await s.getBuffer(`${p}text.txt`)).toString("utf8")).toBe("héllo wörld");
      expect((await s.getBuffer(`${p}stream`)).toString()).toBe("abcdef");
      expect(await s.exists(`${p}bin`)).toBe(true);
    });

    it("serves byte-exact inclusive ranges", async () => {
      const key = `${ns()}ranged`;
      const data = randomBytes(1000);
      await s.put(key, data);
      const range = async (start: number, end: number) => readAll(await s.get(key, { start, end }));
      expect((await range(0, 0)).equals(data.subarray(0, 1))).toBe(true);
      expect((await range(100, 199)).equals(data.subarray(100, 200))).toBe(true);
      expect((await range(999, 999)).equals(data.subarray(999, 1000))).toBe(true);
      expect((await range(0, 999)).equals(data)).toBe(true);
      await expect(s.get(key, { start: 5, end: 4 })).rejects.toThrow(RangeError);
    });

    it("stats size, mtime and an etag that changes on overwrite", async () => {
      const key = `${ns()}stat.bin`;
      const before = Date.now();
      await s.put(key, Buffer.from("first version"));
      const a = await s.stat(key);
      expect(a).not.toBeNull();
      expect(a!.size).toBe(13);
      // S3 reports Last-Modified in whole seconds, hence the slack.
      expect(a!.mtimeMs).toBeGreaterThan(before - 5_000);
      expect(a!.mtimeMs).toBeLessThan(Date.now() + 5_000);
      expect(a!.etag).toMatch(/^"[^"]+"$/);

      await s.put(key, Buffer.from("second, longer version"));
      const b = await s.stat(key);
      expect(b!.size).toBe(22);
      expect(b!.etag).not.toBe(a!.etag);
      expect((await s.getBuffer(key)).toString()).toBe("second, longer version");
    });

    it("reports missing keys consistently", async () => {
      const key = `${ns()}missing/nothing.bin`;
      expect(await s.stat(key)).toBeNull();
      expect(await s.exists(key)).toBe(false);
      const getErr = await s.get(key).then(() => null, (e: unknown) => e);
      expect(isNotFoundError(getErr)).toBe(true);
      const rangeErr = await s.get(key, { start: 0, end: 10 }).then(() => null, (e: unknown) => e);
      expect(isNotFoundError(rangeErr)).toBe(true);
      const bufErr = await s.getBuffer(key).then(() => null, (e: unknown) => e);
      expect(isNotFoundError(bufErr)).toBe(true);
      const dest = path.join(tmp, randomUUID(), "missing.bin");
      const dlErr = await s.download(key, dest).then(() => null, (e: unknown) => e);
      expect(isNotFoundError(dlErr)).toBe(true);
      await expect(fsStat(dest)).rejects.toMatchObject({ code: "ENOENT" });
      // Deleting what is not there is not an error.
      await expect(s.delete(key)).resolves.toBeUndefined();
      // A "directory" (a prefix of other keys) is not an object.
      await s.put(`${key}.d/child`, "x");
      expect(await s.stat(`${key}.d`)).toBeNull();
      expect(isNotFoundError(await s.get(`${key}.d`).then(() => null, (e: unknown) => e))).toBe(true);
    });

    it("putFile and download move a multi-part-sized file intact", async () => {
      const key = `${ns()}originals/large.bin`;
      const src = path.join(tmp, `${randomUUID()}.bin`);
      await writeFile(src, randomBytes(LARGE_SIZE));
      const srcHash = await sha256File(src);

      await s.putFile(key, src, { contentType: "video/mp4" });
      expect((await s.stat(key))!.size).toBe(LARGE_SIZE);
      // The caller keeps its local file.
      expect((await fsStat(src)).size).toBe(LARGE_SIZE);

      const dest = path.join(tmp, randomUUID(), "nested", "copy.bin");
      await s.download(key, dest);
      expect(await sha256File(dest)).toBe(srcHash);

      // A range straddling the 8 MiB part boundary.
      const boundary = 8 * 1024 * 1024;
      const part = await readAll(await s.get(key, { start: boundary - 10, end: boundary + 9 }));
      expect(part.equals((await readFile(src)).subarray(boundary - 10, boundary + 10))).toBe(true);
    });

    it("put() accepts a long stream of small chunks", async () => {
      const key = `${ns()}streamed.bin`;
      const data = randomBytes(LARGE_SIZE);
      const chunkSize = 64 * 1024;
      const chunks = function* () {
        for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
      };
      await s.put(key, Readable.from(chunks()));
      const back = await s.getBuffer(key);
      expect(back.length).toBe(data.length);
      expect(back.equals(data)).toBe(true);
    });

    it("lists and deletes by prefix", async () => {
      const p = ns();
      const keys = ["a/1.ts", "a/2.ts", "a/sub/3.ts", "ab/4.ts", "b/5.ts"].map((k) => p + k);
      for (const k of keys) await s.put(k, k);

      expect(await s.list(p)).toEqual(keys);
      expect(await s.list(`${p}a/`)).toEqual([`${p}a/1.ts`, `${p}a/2.ts`, `${p}a/sub/3.ts`]);
      // A prefix ending mid-segment matches like a string prefix, as on S3.
      expect(await s.list(`${p}a`)).toEqual(keys.slice(0, 4));
      expect(await s.list(`${p}a/su`)).toEqual([`${p}a/sub/3.ts`]);
      expect(await s.list(`${p}nothing/`)).toEqual([]);

      await s.deletePrefix(`${p}a/`);
      expect(await s.list(p)).toEqual([`${p}ab/4.ts`, `${p}b/5.ts`]);
      expect(await s.exists(`${p}a/1.ts`)).toBe(false);

      await s.deletePrefix(`${p}a`);
      expect(await s.list(p)).toEqual([`${p}b/5.ts`]);

      await s.deletePrefix(`${p}nothing/`);
      await s.delete(`${p}b/5.ts`);
      expect(await s.list(p)).toEqual([]);
      await expect(s.deletePrefix("")).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it("rejects keys that could escape the root or differ between adapters", async () => {
      for (const bad of BAD_KEYS) {
        await expect(s.put(bad, "x"), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.get(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.getBuffer(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.stat(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.delete(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.presignedGetUrl(bad, 60), bad).rejects.toBeInstanceOf(InvalidKeyError);
        expect(() => s.localPath(bad), bad).toThrow(InvalidKeyError);
      }
      for (const bad of ["../", "a/../", "/abs/", "a\\"]) {
        await expect(s.list(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.deletePrefix(bad), bad).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });

    it("overwrites an existing object", async () => {
      const key = `${ns()}master.m3u8`;
      await s.put(key, "#EXTM3U\nold\n");
      await s.put(key, Readable.from([Buffer.from("#EXTM3U\nnew\n")]));
      expect((await s.getBuffer(key)).toString()).toBe("#EXTM3U\nnew\n");
      await s.putFile(key, await (async () => {
        const f = path.join(tmp, `${randomUUID()}.m3u8`);
        await writeFile(f, "#EXTM3U\nfrom file\n");
        return f;
      })());
      expect((await s.getBuffer(key)).toString()).toBe("#EXTM3U\nfrom file\n");
      expect(await s.list(key)).toEqual([key]);
    });

    it("stores empty objects", async () => {
      const key = `${ns()}empty`;
      await s.put(key, "");
      expect(await s.exists(key)).toBe(true);
      expect((await s.stat(key))!.size).toBe(0);
      expect((await s.getBuffer(key)).length).toBe(0);
      expect((await readAll(await s.get(key))).length).toBe(0);
      await s.put(`${key}-stream`, Readable.from([]));
      expect((await s.stat(`${key}-stream`))!.size).toBe(0);
    });

    it("exposes a local path (disk) or a presigned URL (S3)", async () => {
      const key = `${ns()}direct.bin`;
      const data = randomBytes(333);
      await s.put(key, data);
      const local = s.localPath(key);
      const url = await s.presignedGetUrl(key, 60);
      if (s.kind === "disk") {
        expect(url).toBeNull();
        expect(path.isAbsolute(local!)).toBe(true);
        expect((await readFile(local!)).equals(data)).toBe(true);
      } else {
        expect(local).toBeNull();
        const res = await fetch(url!);
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
      }
    });
  });
}
