/**
 * The UploadByteStore contract (upload-store.ts), run against every implementation: what the
 * tus service relies on, whichever machine or bucket holds the bytes.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChecksumMismatchError, TooMuchDataError, type UploadByteStore } from "./upload-store.js";

const body = (b: Buffer | string) => Readable.from([Buffer.from(b)]);
/** Sends `first`, then breaks like a dropped connection. */
function broken(first: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(Buffer.from(first));
      setTimeout(() => this.destroy(new Error("connection reset by test")), 10);
    },
  });
}
const sha1 = (s: string) => ({ algorithm: "sha1" as const, digest: createHash("sha1").update(s).digest() });

export function uploadStoreContract(name: string, make: () => Promise<{ store: UploadByteStore; close(): Promise<void> }>): void {
  describe(`UploadByteStore contract: ${name}`, () => {
    let store: UploadByteStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await make());
      await store.init();
    });
    afterAll(async () => {
      await close();
    });
    async function upload(...chunks: string[]): Promise<string> {
      const id = randomUUID();
      await store.create(id);
      let offset = 0;
      for (const c of chunks) offset += (await store.append(id, body(c), { offset, limit: 1000 })).written;
      return id;
    }
    const content = async (id: string) => {
      const file = await store.localFile(id);
      try {
        return (await readFile(file.path)).toString();
      } finally {
        await file.release();
      }
    };

    it("appends chunks at their offsets and gives them back (head, size, local file)", async () => {
      const id = await upload("hello ", "world");
      expect(await store.size(id)).toBe(11);
      expect((await store.readHead(id, 5)).toString()).toBe("hello");
      expect((await store.readHead(id, 100)).toString()).toBe("hello world");
      expect(await content(id)).toBe("hello world");
      await expect(store.create(id)).rejects.toThrow();
    });

    it("drops bytes past the committed offset (never acknowledged)", async () => {
      const id = await upload("hello world");
      expect((await store.append(id, body("W"), { offset: 6, limit: 1000 })).written).toBe(1);
      expect(await content(id)).toBe("hello W");
    });

    it("keeps nothing of a refused chunk: checksum mismatch, too much data, an inspect throw", async () => {
      const id = await upload("abc");
      await expect(store.append(id, body("def"), { offset: 3, limit: 1000, checksum: sha1("xyz") })).rejects.toBeInstanceOf(ChecksumMismatchError);
      await expect(store.append(id, body("defg"), { offset: 3, limit: 3 })).rejects.toBeInstanceOf(TooMuchDataError);
      const refused = new Error("refused by inspect");
      await expect(
        store.append(id, body("def"), {
          offset: 3,
          limit: 1000,
          inspect: () => {
            throw refused;
          },
        }),
      ).rejects.toBe(refused);
      expect(await store.size(id)).toBe(3);
      expect((await store.append(id, body("def"), { offset: 3, limit: 1000, checksum: sha1("def") })).written).toBe(3);
      expect(await content(id)).toBe("abcdef");
    });

    it("inspects every byte in order before it counts", async () => {
      const id = await upload();
      const seen: Buffer[] = [];
      let last = 0;
      await store.append(id, Readable.from([Buffer.from("12"), Buffer.from("345")]), {
        offset: 0,
        limit: 1000,
        inspect: (chunk, received) => {
          seen.push(Buffer.from(chunk));
          last = received;
        },
      });
      expect(Buffer.concat(seen).toString()).toBe("12345");
      expect(last).toBe(5);
    });

    it("keeps what arrived of a broken body, unless a checksum was announced", async () => {
      const id = await upload("ab");
      const r = await store.append(id, broken("cd"), { offset: 2, limit: 1000 });
      expect(r.written).toBe(2);
      expect(r.interrupted).toBeInstanceOf(Error);
      await expect(store.append(id, broken("ef"), { offset: 4, limit: 1000, checksum: sha1("efgh") })).rejects.toBeInstanceOf(Error);
      expect(await content(id)).toBe("abcd");
    });

    it("concatenates complete uploads in order", async () => {
      const parts = [await upload("one,"), await upload("two,"), await upload("three")];
      const final = randomUUID();
      expect(await store.concat(final, parts)).toBe(13);
      for (const p of parts) await store.remove(p);
      expect(await content(final)).toBe("one,two,three");
    });

    it("lists what it holds and forgets what is removed", async () => {
      const id = await upload("x");
      expect((await store.list()).map((s) => s.id)).toContain(id);
      expect((await store.list()).find((s) => s.id === id)!.mtimeMs).toBeGreaterThan(Date.now() - 60_000);
      await store.remove(id);
      await store.remove(id);
      expect(await store.size(id)).toBeNull();
      expect((await store.list()).map((s) => s.id)).not.toContain(id);
    });
  });
}
