/**
 * A short-lived cache of open file descriptors and their stat, for the disk hot path: a 1 MiB
 * range GET then costs one pread and one writev instead of open + fstat + read + close. Entries
 * live `ttlMs` (default 2 s): storage writes replace files by rename, so an fd pins the version it
 * opened and the cache picks up a new version within the TTL. Descriptors in use by a response
 * are reference-counted and closed only once released.
 */
import { close as fsClose, constants, fstat, open as fsOpen, read as fsRead, type BigIntStats } from "node:fs";

export interface OpenFile {
  readonly fd: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** same formula as DiskStorage.stat: size, mtime (ns) and inode */
  readonly etag: string;
}

interface Entry extends OpenFile {
  refs: number;
  expires: number;
  /** evicted from the map; closed when the last reference is released */
  evicted: boolean;
}

export class FileNotFound extends Error {
  readonly code = "ENOENT";
}

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, constants.O_RDONLY, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function fstatBig(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))));
}

function closeFd(fd: number): void {
  fsClose(fd, () => undefined);
}

/** Reads exactly `buf.length` bytes at `position`, looping over short reads. */
export function readFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (buf.length === 0) return resolve();
    let done = 0;
    const step = () =>
      fsRead(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error(`unexpected end of file at ${position + done}`));
        done += n;
        if (done >= buf.length) resolve();
        else step();
      });
    step();
  });
}

const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

export class OpenFileCache {
  private readonly map = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 512,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(ttlMs, 250));
    this.sweeper.unref();
  }

  /** An open file for `path` (absolute), referenced until `release`; FileNotFound when missing. */
  async acquire(path: string): Promise<OpenFile> {
    const now = Date.now();
    const hit = this.map.get(path);
    if (hit) {
      if (hit.expires > now) {
        hit.refs++;
        return hit;
      }
      this.evict(path, hit);
    }
    let p = this.opening.get(path);
    if (!p) {
      p = this.openEntry(path, now).finally(() => this.opening.delete(path));
      this.opening.set(path, p);
    }
    const e = await p;
    e.refs++;
    return e;
  }

  release(f: OpenFile): void {
    const e = f as Entry;
    e.refs--;
    if (e.refs <= 0 && e.evicted) closeFd(e.fd);
  }

  private async openEntry(path: string, now: number): Promise<Entry> {
    let fd: number;
    try {
      fd = await openFd(path);
    } catch (err) {
      if (MISSING.has((err as NodeJS.ErrnoException).code ?? "")) throw new FileNotFound(path);
      throw err;
    }
    let st: BigIntStats;
    try {
      st = await fstatBig(fd);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    // open(2) succeeds on a directory; a directory is not an object.
    if (!st.isFile()) {
      closeFd(fd);
      throw new FileNotFound(path);
    }
    const e: Entry = {
      fd,
      size: Number(st.size),
      mtimeMs: Number(st.mtimeNs / 1_000_000n),
      etag: `"${st.size.toString(16)}-${st.mtimeNs.toString(16)}-${st.ino.toString(16)}"`,
      refs: 0,
      expires: now + this.ttlMs,
      evicted: false,
    };
    if (this.map.size >= this.maxEntries) {
      const [oldKey, old] = this.map.entries().next().value as [string, Entry];
      this.evict(oldKey, old);
    }
    this.map.set(path, e);
    return e;
  }

  private evict(path: string, e: Entry): void {
    if (this.map.get(path) === e) this.map.delete(path);
    if (e.evicted) return;
    e.evicted = true;
    if (e.refs <= 0) closeFd(e.fd);
  }

  /** Drops every entry whose path starts with `prefix` (a deleted or replaced video). */
  evictPrefix(prefix: string): void {
    for (const [k, e] of this.map) if (k.startsWith(prefix)) this.evict(k, e);
  }

  private sweep(now: number): void {
    for (const [k, e] of this.map) if (e.expires <= now) this.evict(k, e);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const [k, e] of this.map) this.evict(k, e);
  }
}
