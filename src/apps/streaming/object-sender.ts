/**
 * Writes one stored object (or an in-memory body) to an HTTP response, applying the range and
 * conditional logic of `range.ts`. Three byte sources:
 *  - disk: a cached open fd; ranges up to SMALL_RANGE are read with one pread into one buffer and
 *    sent with one `res.end(buf)` (a single writev with the headers); larger ones are pumped in
 *    CHUNK-sized reads through two reusable buffers, so memory per stream stays at 2 × CHUNK
 *    whatever the file size and the client's speed;
 *  - S3: ranged GetObject streamed through (Content-Length is known from the plan);
 *  - memory: a buffer (rewritten playlists, generated VTT).
 * Responses are written on the raw `ServerResponse` after `reply.hijack()`, with the headers
 * Fastify's hooks already set (CORS, helmet) copied over.
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { ObjectInfo, Storage } from "../../platform/storage/storage.js";
import { isNotFoundError } from "../../platform/storage/storage.js";
import { multipartPlan, planResponse, validatorHeaders, type ByteRange, type Representation, type ResponsePlan } from "./range.js";
import { OpenFileCache, readFully, FileNotFound, type OpenFile } from "./open-files.js";
import { BufferPool } from "./buffer-pool.js";

/** Ranges up to this size are read into one buffer and written in one call. */
export const SMALL_RANGE = 2 * 1024 * 1024;
/** Chunk size of the pump for larger ranges. */
export const CHUNK = 256 * 1024;

export interface ByteSource extends Representation {
  /** Reads [start, end] (inclusive) into one buffer (possibly pooled: hand it to `recycle` once written). */
  read(range: ByteRange): Promise<Buffer>;
  /** Takes back a buffer returned by `read` once the socket no longer needs it. */
  recycle(buf: Buffer): void;
  /** Writes [start, end] to `res` with backpressure; resolves when written or the client left. */
  pump(range: ByteRange, res: ServerResponse): Promise<void>;
  release(): void;
}

/** Resolves true once the chunk was handed to the OS (its buffer may be reused), false on error. */
function waitWritten(res: ServerResponse, buf: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    res.write(buf, (err) => resolve(!err));
  });
}

export class FdSource implements ByteSource {
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;

  constructor(
    private readonly cache: OpenFileCache,
    private readonly file: OpenFile,
    private readonly pool: BufferPool,
  ) {
    this.size = file.size;
    this.etag = file.etag;
    this.lastModifiedMs = file.mtimeMs;
  }

  async read(r: ByteRange): Promise<Buffer> {
    const len = r.end - r.start + 1;
    const buf = this.pool.take(len);
    const view = buf.length === len ? buf : buf.subarray(0, len);
    try {
      await readFully(this.file.fd, view, r.start);
    } catch (err) {
      this.pool.give(buf);
      throw err;
    }
    return view;
  }

  recycle(view: Buffer): void {
    // Pooled buffers own their whole ArrayBuffer (allocUnsafeSlow), so the view leads back to it.
    this.pool.give(Buffer.from(view.buffer, 0, view.buffer.byteLength));
  }

  async pump(r: ByteRange, res: ServerResponse): Promise<void> {
    const size = Math.min(CHUNK, r.end - r.start + 1);
    const bufs = [this.pool.take(size), this.pool.take(size)];
    const inFlight: (Promise<boolean> | null)[] = [null, null];
    let ok = true;
    let pos = r.start;
    let i = 0;
    try {
      while (pos <= r.end && !res.destroyed) {
        const slot = i++ % 2;
        // Wait until the socket took the bytes last written from this buffer before overwriting
        // it; meanwhile the other buffer's bytes are in flight, so reading overlaps sending.
        if (inFlight[slot] && !(await inFlight[slot])) ok = false;
        if (!ok || res.destroyed) break;
        const n = Math.min(size, r.end - pos + 1);
        const view = bufs[slot]!.subarray(0, n);
        await readFully(this.file.fd, view, pos);
        pos += n;
        inFlight[slot] = waitWritten(res, view);
      }
      for (const w of inFlight) if (w && !(await w)) ok = false;
    } catch (err) {
      ok = false;
      throw err;
    } finally {
      // A buffer whose write failed may still be referenced by a cancelled write: leave it to the GC.
      if (ok && !res.destroyed) for (const b of bufs) this.pool.give(b);
    }
  }

  release(): void {
    this.cache.release(this.file);
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly body: Buffer,
    readonly etag: string | null = null,
    readonly lastModifiedMs: number | null = null,
  ) {
    this.size = body.length;
  }

  async read(r: ByteRange): Promise<Buffer> {
    return this.body.subarray(r.start, r.end + 1);
  }

  recycle(): void {}

  async pump(r: ByteRange, res: ServerResponse): Promise<void> {
    await waitWritten(res, this.body.subarray(r.start, r.end + 1));
  }

  release(): void {}
}

export class StorageSource implements ByteSource {
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    readonly size: number,
    readonly etag: string | null,
    readonly lastModifiedMs: number | null,
  ) {}

  async read(r: ByteRange): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.storage.get(this.key, r)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  recycle(): void {}

  async pump(r: ByteRange, res: ServerResponse): Promise<void> {
    const body: Readable = await this.storage.get(this.key, r);
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off("close", onClose);
        resolve();
      };
      const onClose = () => {
        body.destroy();
        done();
      };
      res.once("close", onClose);
      body.on("error", (err) => {
        // Headers are out: the only honest signal left is to cut the connection.
        res.destroy(err);
        done();
      });
      body.on("end", done);
      body.pipe(res, { end: false });
    });
  }

  release(): void {}
}

/** A header Node may deliver as a list (repeated field): the list's members joined, as §5.3 combines them. */
function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * At most this many S3 stats: the segments and MP4s being streamed by this process right now
 * (a segment is re-requested within seconds by players seeking or retrying); ~100 bytes each.
 */
const STAT_CACHE_MAX = 4096;

/** S3 stat results are kept briefly too: a HEAD per range request would double the latency. */
class StatCache {
  /** `{ info: null }` records a missing object (lru-cache values cannot be null) */
  private readonly cache: LRUCache<string, { info: ObjectInfo | null }>;
  constructor(ttlMs: number) {
    // lru-cache reads ttl 0 as "never expires" and wants an integer: 0 here means "do not reuse".
    this.cache = new LRUCache({ max: STAT_CACHE_MAX, ttl: Math.max(1, Math.round(ttlMs)) });
  }
  async get(storage: Storage, key: string): Promise<ObjectInfo | null> {
    const hit = this.cache.get(key);
    if (hit) return hit.info;
    const info = await storage.stat(key);
    this.cache.set(key, { info });
    return info;
  }
  evictPrefix(prefix: string): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }
}

export interface SendOptions {
  contentType: string;
  cacheControl: string;
  /** extra headers (e.g. Content-Disposition) */
  headers?: Record<string, string>;
  /** told the plan before any byte is written (view counting) */
  onPlan?: (plan: ResponsePlan) => void;
}

export class ObjectSender {
  private readonly files: OpenFileCache;
  private readonly stats: StatCache;
  private readonly pool = new BufferPool();

  constructor(
    private readonly storage: Storage,
    opts: { cacheTtlMs?: number } = {},
  ) {
    this.files = new OpenFileCache(opts.cacheTtlMs ?? 2000);
    this.stats = new StatCache(opts.cacheTtlMs ?? 2000);
  }

  /** The byte source of a stored key, or null when the object does not exist. */
  async open(key: string): Promise<ByteSource | null> {
    const local = this.storage.localPath(key);
    if (local !== null) {
      try {
        return new FdSource(this.files, await this.files.acquire(local), this.pool);
      } catch (err) {
        if (err instanceof FileNotFound || isNotFoundError(err)) return null;
        throw err;
      }
    }
    const info = await this.stats.get(this.storage, key);
    return info ? new StorageSource(this.storage, key, info.size, info.etag, info.mtimeMs) : null;
  }

  /**
   * Whether the object exists, through the same short-lived caches as `open` (offload answers
   * 404 like a Node-sent answer would, at the cost of a cache hit rather than a stat per request).
   */
  async exists(key: string): Promise<boolean> {
    const src = await this.open(key);
    src?.release();
    return src !== null;
  }

  /** Reads a whole (small) object: playlists. Null when missing or larger than `maxBytes`. */
  async readAll(key: string, maxBytes = 16 * 1024 * 1024): Promise<{ body: Buffer; etag: string | null; lastModifiedMs: number | null } | null> {
    const src = await this.open(key);
    if (!src) return null;
    try {
      if (src.size > maxBytes) return null;
      let body = Buffer.alloc(0);
      if (src.size > 0) {
        // A copy: the read buffer may be pooled, and callers keep the body.
        const buf = await src.read({ start: 0, end: src.size - 1 });
        body = Buffer.from(buf);
        src.recycle(buf);
      }
      return { body, etag: src.etag, lastModifiedMs: src.lastModifiedMs };
    } finally {
      src.release();
    }
  }

  /**
   * Answers a GET/HEAD from `src` (released when done): 200, 206 (single or multipart), 304,
   * 412 or 416 as `planResponse` decides. Takes over the reply (hijack).
   */
  async send(req: FastifyRequest, reply: FastifyReply, src: ByteSource, opts: SendOptions): Promise<void> {
    const h = req.headers;
    let plan: ResponsePlan;
    try {
      plan = planResponse(
        {
          method: req.method,
          range: one(h.range),
          ifRange: one(h["if-range"]),
          ifMatch: one(h["if-match"]),
          ifNoneMatch: one(h["if-none-match"]),
          ifModifiedSince: one(h["if-modified-since"]),
          ifUnmodifiedSince: one(h["if-unmodified-since"]),
        },
        src,
      );
      opts.onPlan?.(plan);
    } catch (err) {
      src.release();
      throw err;
    }
    const res = reply.raw;
    const base: Record<string, string | number | string[]> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) base[k] = v as string | number | string[];
    base["cache-control"] = opts.cacheControl;
    base["accept-ranges"] = "bytes";
    Object.assign(base, validatorHeaders(src), opts.headers);
    const head = req.method === "HEAD";

    try {
      switch (plan.status) {
        case 304:
          // §15.4.5: a 304 carries the validators and Cache-Control a 200 would have, no content.
          reply.hijack();
          res.writeHead(304, base);
          res.end();
          return;
        case 412:
        case 416: {
          const body = JSON.stringify({
            error:
              plan.status === 412
                ? { code: "precondition_failed", message: "A precondition of the request is not met.", details: null }
                : { code: "range_not_satisfiable", message: "The requested range is outside the object.", details: { size: src.size } },
          });
          const hdrs: Record<string, string | number | string[]> = { ...base, "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "cache-control": "no-store" };
          if (plan.status === 416) hdrs["content-range"] = plan.contentRange;
          reply.hijack();
          res.writeHead(plan.status, hdrs);
          res.end(head ? undefined : body);
          return;
        }
        case 200:
          await this.writeRange(reply, res, plan.status, { ...base, "content-type": opts.contentType, "content-length": src.size }, src, src.size === 0 || head ? null : { start: 0, end: src.size - 1 });
          return;
        case 206:
          if ("range" in plan) {
            const r = plan.range;
            await this.writeRange(reply, res, 206, { ...base, "content-type": opts.contentType, "content-range": plan.contentRange, "content-length": r.end - r.start + 1 }, src, head ? null : r);
            return;
          }
          await this.writeMultipart(reply, res, base, src, plan.ranges, opts.contentType);
          return;
      }
    } finally {
      src.release();
    }
  }

  private async writeRange(reply: FastifyReply, res: ServerResponse, status: number, headers: Record<string, string | number | string[]>, src: ByteSource, r: ByteRange | null): Promise<void> {
    if (r === null) {
      reply.hijack();
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const len = r.end - r.start + 1;
    if (len <= SMALL_RANGE) {
      // Read before committing to a status, so a read error still becomes a clean 500.
      const buf = await src.read(r);
      reply.hijack();
      res.writeHead(status, headers);
      // 'finish' = the bytes were handed to the OS: the buffer can serve the next request.
      res.end(buf, () => src.recycle(buf));
      return;
    }
    reply.hijack();
    res.writeHead(status, headers);
    await this.pumpGuarded(res, () => src.pump(r, res));
    if (!res.destroyed) res.end();
  }

  private async writeMultipart(reply: FastifyReply, res: ServerResponse, base: Record<string, string | number | string[]>, src: ByteSource, ranges: ByteRange[], partType: string): Promise<void> {
    // The boundary must not occur in the parts (RFC 2046 §5.1.1): 24 random hex characters make a
    // collision with media bytes practically impossible.
    const mp = multipartPlan(ranges, src.size, partType, `vidflux-${randomBytes(12).toString("hex")}`);
    reply.hijack();
    res.writeHead(206, { ...base, "content-type": mp.contentType, "content-length": mp.length });
    await this.pumpGuarded(res, async () => {
      for (const part of mp.parts) {
        if (res.destroyed) return;
        await waitWritten(res, part.head);
        const len = part.range.end - part.range.start + 1;
        if (len <= SMALL_RANGE) {
          const buf = await src.read(part.range);
          if (await waitWritten(res, buf)) src.recycle(buf);
        } else {
          await src.pump(part.range, res);
        }
      }
      if (!res.destroyed) await waitWritten(res, mp.tail);
    });
    if (!res.destroyed) res.end();
  }

  /** After the headers are out an error can only cut the connection (the length would lie). */
  private async pumpGuarded(res: ServerResponse, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      res.destroy(err as Error);
    }
  }

  /** Forgets cached descriptors and stats under a key prefix (e.g. `videos/<id>/`), so deleted files stop being served at once. */
  invalidatePrefix(keyPrefix: string): void {
    this.stats.evictPrefix(keyPrefix);
    // localPath validates keys: resolve a probe key under the prefix and cut the probe off.
    const probe = this.storage.localPath(`${keyPrefix}x`);
    if (probe !== null) this.files.evictPrefix(probe.slice(0, -1));
  }

  close(): void {
    this.files.close();
  }
}
