import { fstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileNotFound, OpenFileCache, readFully, type OpenFile } from "./open-files.js";

const dir = mkdtempSync(join(tmpdir(), "vidflux-open-files-"));
const file = (name: string, body = name) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fs.close is asynchronous: give it a turn of the event loop before probing the descriptor. */
const tick = () => new Promise((r) => setTimeout(r, 20));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

async function text(f: OpenFile): Promise<string> {
  const buf = Buffer.alloc(f.size);
  await readFully(f.fd, buf, 0);
  return buf.toString();
}

describe("OpenFileCache", () => {
  it("shares one descriptor between acquires and concurrent misses", async () => {
    const cache = new OpenFileCache(10_000, 8);
    const p = file("shared");
    const [a, b] = await Promise.all([cache.acquire(p), cache.acquire(p)]);
    const c = await cache.acquire(p);
    expect(a.fd).toBe(b.fd);
    expect(c.fd).toBe(a.fd);
    expect(await text(a)).toBe("shared");
    for (const f of [a, b, c]) cache.release(f);
    cache.close();
    await tick();
    expect(isOpen(a.fd)).toBe(false);
  });

  it("reports missing files and directories as FileNotFound", async () => {
    const cache = new OpenFileCache();
    await expect(cache.acquire(join(dir, "nope"))).rejects.toBeInstanceOf(FileNotFound);
    await expect(cache.acquire(dir)).rejects.toBeInstanceOf(FileNotFound);
    cache.close();
  });

  it("never closes a descriptor in use when the LRU bound evicts it", async () => {
    const cache = new OpenFileCache(10_000, 2);
    const held = await cache.acquire(file("held"));
    const idle = await cache.acquire(file("idle"));
    cache.release(idle);
    // Two more files push both earlier entries out.
    for (const name of ["x1", "x2"]) cache.release(await cache.acquire(file(name)));
    await tick();
    expect(isOpen(idle.fd)).toBe(false);
    expect(isOpen(held.fd)).toBe(true);
    expect(await text(held)).toBe("held");
    cache.release(held);
    await tick();
    expect(isOpen(held.fd)).toBe(false);
    cache.close();
  });

  it("reopens after the TTL, keeping the old descriptor until its response releases it", async () => {
    const cache = new OpenFileCache(50, 8);
    const p = file("ttl", "v1");
    const old = await cache.acquire(p);
    await sleep(80);
    rmSync(p);
    writeFileSync(p, "v2-longer");
    const fresh = await cache.acquire(p);
    expect(fresh.fd).not.toBe(old.fd);
    expect(await text(fresh)).toBe("v2-longer");
    expect(await text(old)).toBe("v1");
    cache.release(old);
    await tick();
    expect(isOpen(old.fd)).toBe(false);
    cache.release(fresh);
    cache.close();
  });

  it("closes expired idle descriptors in the background sweep", async () => {
    const cache = new OpenFileCache(50, 8);
    const f = await cache.acquire(file("swept"));
    cache.release(f);
    expect(isOpen(f.fd)).toBe(true);
    await sleep(600);
    expect(isOpen(f.fd)).toBe(false);
    cache.close();
  });

  it("evictPrefix and close retire entries, closing only the unreferenced ones", async () => {
    const cache = new OpenFileCache(10_000, 8);
    const heldA = await cache.acquire(file("a-held"));
    const idleA = await cache.acquire(file("a-idle"));
    cache.release(idleA);
    const other = await cache.acquire(file("b-other"));
    cache.evictPrefix(join(dir, "a-"));
    await tick();
    expect(isOpen(idleA.fd)).toBe(false);
    expect(isOpen(heldA.fd)).toBe(true);
    expect(isOpen(other.fd)).toBe(true);
    // a new acquire of the evicted path opens it again
    const again = await cache.acquire(join(dir, "a-held"));
    expect(again.fd).not.toBe(heldA.fd);
    cache.release(again);
    cache.close();
    await tick();
    expect(isOpen(again.fd)).toBe(false);
    expect(isOpen(other.fd)).toBe(true);
    for (const f of [heldA, other]) cache.release(f);
    await tick();
    expect(isOpen(heldA.fd)).toBe(false);
    expect(isOpen(other.fd)).toBe(false);
  });
});
