/**
 * A short-lived cache of open file descriptors and their stat, for the disk hot path: a 1 MiB
 * range GET then costs one pread and one writev instead of open + fstat + read + close. Entries
 * live `ttlMs` (default 2 s): storage writes replace files by rename, so an fd pins the version it
 * opened and the cache picks up a new version within the TTL. Descriptors in use by a response
 * are reference-counted and closed only once released.
 *
 * The entries live in an `LRUCache` (bounded by `maxEntries`, `ttl` = `ttlMs`) whose `dispose`
 * only *retires* an entry: whatever drops it (LRU eviction, TTL expiry, `evictPrefix`, `close`), an
 * entry still referenced by a streaming response keeps its descriptor open, and `release` closes
 * it when the last reference goes. Only an unreferenced retired entry is closed at once.
 */
import { close as fsClose, constants, fstat, open as fsOpen, read as fsRead, type BigIntStats } from "node:fs";
import { LRUCache } from "lru-cache";

export interface OpenFile {
  readonly fd: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** same formula as DiskStorage.stat: size, mtime (ns) and inode */
  readonly etag: string;
}

interface Entry extends OpenFile {
  refs: number;
  /** dropped from the cache; closed when the last reference is released */
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
  private readonly cache: LRUCache<string, Entry>;
  /** in-flight opens, so concurrent misses for one path share one open + fstat (not a cache) */
  private readonly opening = new Map<string, Promise<Entry>>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * `maxEntries` (512) keeps the cache well under the usual 1024-descriptor soft limit, leaving
   * room for sockets, the database and descriptors still held by responses after eviction.
   */
  constructor(ttlMs = 2000, maxEntries = 512) {
    // lru-cache reads ttl 0 as "never expires" and wants an integer: 0 here means "do not reuse".
    this.cache = new LRUCache<string, Entry>({ max: maxEntries, ttl: Math.max(1, Math.round(ttlMs)), dispose: (e) => this.retire(e) });
    // lru-cache drops stale entries lazily (on get); expired descriptors are closed by this sweep.
    this.sweeper = setInterval(() => this.cache.purgeStale(), Math.max(ttlMs, 250));
    this.sweeper.unref();
  }

  /** An open file for `path` (absolute), referenced until `release`; FileNotFound when missing. */
  async acquire(path: string): Promise<OpenFile> {
    // A stale hit is dropped (and retired) by `get` itself.
    const hit = this.cache.get(path);
    if (hit) {
      hit.refs++;
      return hit;
    }
    let p = this.opening.get(path);
    if (!p) {
      p = this.openEntry(path).finally(() => this.opening.delete(path));
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

  private async openEntry(path: string): Promise<Entry> {
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
      evicted: false,
    };
    // At `maxEntries` the least recently used entry is retired (see `retire`).
    this.cache.set(path, e);
    return e;
  }

  /** The cache's `dispose`: the entry left the cache; its fd closes now only if no response holds it. */
  private retire(e: Entry): void {
    if (e.evicted) return;
    e.evicted = true;
    if (e.refs <= 0) closeFd(e.fd);
  }

  /** Drops every entry whose path starts with `prefix` (a deleted or replaced video). */
  evictPrefix(prefix: string): void {
    // Expired entries (which `keys()` skips) go too, so no descriptor of a deleted file lingers.
    this.cache.purgeStale();
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.cache.clear();
  }
}
