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

/** The store under test and two helpers, set up by the contract's `beforeAll`. */
class Subject {
  constructor(readonly store: UploadByteStore) {}

  /** A new upload holding `chunks`, appended one after the other. */
  async upload(...chunks: string[]): Promise<string> {
    const id = randomUUID();
    await this.store.create(id);
    let offset = 0;
    for (const c of chunks) offset += (await this.store.append(id, body(c), { offset, limit: 1000 })).written;
    return id;
  }

  /** The upload's bytes, read through `localFile` (as validation does). */
  async content(id: string): Promise<string> {
    const file = await this.store.localFile(id);
    try {
      return (await readFile(file.path)).toString();
    } finally {
      await file.release();
    }
  }
}

export function uploadStoreContract(name: string, make: () => Promise<{ store: UploadByteStore; close(): Promise<void> }>): void {
  describe(`UploadByteStore contract: ${name}`, () => {
    let subject: Subject | null = null;
    let close: () => Promise<void> = async () => undefined;
    beforeAll(async () => {
      const made = await make();
      close = made.close;
      await made.store.init();
      subject = new Subject(made.store);
    });
    afterAll(async () => {
      await close();
    });
    const s = () => subject!;
    appendCases(s);
    refusalCases(s);
    lifecycleCases(s);
  });
}

function appendCases(s: () => Subject): void {
  it("appends chunks at their offsets and gives them back (head, size, local file)", async () => {
    const id = await s().upload("hello ", "world");
    expect(await s().store.size(id)).toBe(11);
    expect((await s().store.readHead(id, 5)).toString()).toBe("hello");
    expect((await s().store.readHead(id, 100)).toString()).toBe("hello world");
    expect(await s().content(id)).toBe("hello world");
    await expect(s().store.create(id)).rejects.toThrow();
  });

  it("drops bytes past the committed offset (never acknowledged)", async () => {
    const id = await s().upload("hello world");
    expect((await s().store.append(id, body("W"), { offset: 6, limit: 1000 })).written).toBe(1);
    expect(await s().content(id)).toBe("hello W");
  });

  it("inspects every byte in order before it counts", async () => {
    const id = await s().upload();
    const seen: Buffer[] = [];
    let last = 0;
    await s().store.append(id, Readable.from([Buffer.from("12"), Buffer.from("345")]), {
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
    const id = await s().upload("ab");
    const r = await s().store.append(id, broken("cd"), { offset: 2, limit: 1000 });
    expect(r.written).toBe(2);
    expect(r.interrupted).toBeInstanceOf(Error);
    await expect(s().store.append(id, broken("ef"), { offset: 4, limit: 1000, checksum: sha1("efgh") })).rejects.toBeInstanceOf(Error);
    expect(await s().content(id)).toBe("abcd");
  });
}

function refusalCases(s: () => Subject): void {
  it("keeps nothing of a refused chunk: checksum mismatch, too much data, an inspect throw", async () => {
    const { store } = s();
    const id = await s().upload("abc");
    await expect(store.append(id, body("def"), { offset: 3, limit: 1000, checksum: sha1("xyz") })).rejects.toBeInstanceOf(ChecksumMismatchError);
    await expect(store.append(id, body("defg"), { offset: 3, limit: 3 })).rejects.toBeInstanceOf(TooMuchDataError);
    const refused = new Error("refused by inspect");
    const inspect = () => {
      throw refused;
    };
    await expect(store.append(id, body("def"), { offset: 3, limit: 1000, inspect })).rejects.toBe(refused);
    expect(await store.size(id)).toBe(3);
    expect((await store.append(id, body("def"), { offset: 3, limit: 1000, checksum: sha1("def") })).written).toBe(3);
    expect(await s().content(id)).toBe("abcdef");
  });
}

function lifecycleCases(s: () => Subject): void {
  it("concatenates complete uploads in order", async () => {
    const parts = [await s().upload("one,"), await s().upload("two,"), await s().upload("three")];
    const final = randomUUID();
    expect(await s().store.concat(final, parts)).toBe(13);
    for (const p of parts) await s().store.remove(p);
    expect(await s().content(final)).toBe("one,two,three");
  });

  it("lists what it holds and forgets what is removed", async () => {
    const { store } = s();
    const id = await s().upload("x");
    expect((await store.list()).map((u) => u.id)).toContain(id);
    expect((await store.list()).find((u) => u.id === id)!.mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    await store.remove(id);
    await store.remove(id);
    expect(await store.size(id)).toBeNull();
    expect((await store.list()).map((u) => u.id)).not.toContain(id);
  });
}
