/**
 * The staging store: one append-only file per upload under DATA_DIR/uploads, named by the
 * upload's UUID (never by anything the client sent). Bytes stream from the request socket to the
 * file through one small Transform (count, limit, optional hash, inspection hook); nothing is
 * buffered beyond the streams' high-water marks, and the file is fsynced once per PATCH, before
 * the new offset is committed, so an offset a client was told survives a crash.
 *
 * With STORAGE=s3 the bytes are staged here too and handed to the storage adapter once complete
 * (see docs/upload-design-notes.md): ffprobe needs a seekable local file anyway.
 */
import { createHash, type Hash } from "node:crypto";
import { constants as fsConstants, createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UUID_RE } from "../../lib/ids.js";
import { CHECKSUM_ALGORITHMS, type UploadChecksum } from "./tus.headers.js";
import { readHead } from "./upload.validator.js";

/** The client sent more bytes than the upload has room for. */
export class TooMuchDataError extends Error {
  constructor(readonly limit: number) {
    super(`more than the ${limit} bytes left in this upload`);
    this.name = "TooMuchDataError";
  }
}

export class ChecksumMismatchError extends Error {
  constructor() {
    super("checksum mismatch");
    this.name = "ChecksumMismatchError";
  }
}

/** The request body ended early: the client went away or the connection broke. */
export class ClientAbortError extends Error {
  constructor() {
    super("the request body ended before its announced end");
    this.name = "ClientAbortError";
  }
}

export interface AppendOptions {
  /** committed offset; the file is cut back to it before writing */
  offset: number;
  /** the most bytes this request may add (Upload-Length − offset) */
  limit: number;
  checksum?: UploadChecksum | undefined;
  /** aborting stops the write and keeps what arrived (lock lost, or another request took over) */
  signal?: AbortSignal | undefined;
  /** called for every chunk before it is written; throwing refuses the request */
  inspect?: ((chunk: Buffer, received: number) => void) | undefined;
}

export interface AppendResult {
  /** bytes added and kept */
  written: number;
  /** set when the body stopped early but what arrived was kept (tus: "store as much as possible") */
  interrupted: Error | null;
}

/** Counts, limits, hashes and inspects the bytes flowing to the file, without copying them. */
class ChunkMeter extends Transform {
  received = 0;
  private readonly hash: Hash | null;

  constructor(
    private readonly limit: number,
    private readonly checksum: UploadChecksum | undefined,
    private readonly inspect: AppendOptions["inspect"],
  ) {
    super({ highWaterMark: 1 << 20 });
    this.hash = checksum ? createHash(CHECKSUM_ALGORITHMS[checksum.algorithm].node) : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.received + chunk.length > this.limit) return cb(new TooMuchDataError(this.limit));
    this.received += chunk.length;
    try {
      this.inspect?.(chunk, this.received);
    } catch (err) {
      return cb(err as Error);
    }
    this.hash?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    // "Once the entire request has been received, the Server MUST verify the uploaded chunk
    // against the provided checksum using the specified algorithm."
    if (this.hash && this.checksum && !this.hash.digest().equals(this.checksum.digest)) return cb(new ChecksumMismatchError());
    cb();
  }
}

const STAGING_NAME = /^[0-9a-f-]{36}$/;

export class UploadStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The staging path of an upload id; ids are server-made UUIDs, checked again here. */
  path(id: string): string {
    if (!UUID_RE.test(id)) throw new Error(`not an upload id: ${JSON.stringify(id)}`);
    return path.join(this.dir, id.toLowerCase());
  }

  async create(id: string): Promise<void> {
    await this.init();
    const fh = await open(this.path(id), fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    await fh.close();
  }

  async size(id: string): Promise<number | null> {
    try {
      return (await stat(this.path(id))).size;
    } catch {
      return null;
    }
  }

  /** The first `n` bytes (fewer if the file is shorter). */
  async readHead(id: string, n: number): Promise<Buffer> {
    return readHead(this.path(id), n);
  }


  /**
   * Appends a request body at `offset`. Refusals (too much data, checksum mismatch, an
   * `inspect` error) throw after cutting the file back to `offset`: the spec says the chunk
   * "MUST be discarded, and the upload and its offset MUST NOT be updated". An early end of the
   * body keeps what arrived, except with a checksum, which cannot vouch for a partial chunk.
   */
  async append(id: string, source: Readable, opts: AppendOptions): Promise<AppendResult> {
    const fh = await open(this.path(id), "r+");
    try {
      // Bytes past the committed offset were never acknowledged (a crash mid-PATCH): drop them.
      await fh.truncate(opts.offset);
      const meter = new ChunkMeter(opts.limit, opts.checksum, opts.inspect);
      // The stream opens its own descriptor (an fs stream closes its fd when destroyed, which
      // must not be `fh`'s); fsync through `fh` still flushes the file's pages.
      const out = createWriteStream(this.path(id), { flags: "r+", start: opts.offset, highWaterMark: 1 << 20 });
      const onClose = () => {
        if (!source.readableEnded) meter.destroy(new ClientAbortError());
      };
      const onError = () => meter.destroy(new ClientAbortError());
      const onAbort = () => meter.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new ClientAbortError());
      source.once("close", onClose);
      source.once("error", onError);
      if (opts.signal?.aborted) onAbort();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      source.pipe(meter);
      let failure: Error | null = null;
      try {
        await pipeline(meter, out);
      } catch (err) {
        failure = err as Error;
      } finally {
        source.unpipe(meter);
        source.off("close", onClose);
        source.off("error", onError);
        opts.signal?.removeEventListener("abort", onAbort);
      }
      // An fs stream finishes its in-flight write before 'close' (also when destroyed); only
      // then is bytesWritten final and the file safe to cut.
      // (not events.once: it would reject with the stream's error, which we already have)
      if (!out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
      const written = out.bytesWritten;
      const keep = failure === null || (!opts.checksum && !(failure instanceof TooMuchDataError) && !(failure instanceof ChecksumMismatchError) && isInterruption(failure));
      if (!keep) {
        await fh.truncate(opts.offset);
        throw failure!;
      }
      if (written > 0) await fh.sync();
      return { written, interrupted: failure };
    } finally {
      await fh.close();
    }
  }

  /**
   * Builds a final upload from complete partial uploads, in order. The first part's file is
   * renamed (no copy); the others are streamed onto its end.
   */
  async concat(targetId: string, partIds: string[]): Promise<number> {
    await this.init();
    const target = this.path(targetId);
    const [first, ...rest] = partIds;
    if (first === undefined) throw new Error("nothing to concatenate");
    await rename(this.path(first), target);
    for (const id of rest) {
      await pipeline(createReadStream(this.path(id), { highWaterMark: 1 << 20 }), createWriteStream(target, { flags: "a", highWaterMark: 1 << 20 }));
    }
    const fh = await open(target, "r");
    try {
      await fh.sync();
      return (await fh.stat()).size;
    } finally {
      await fh.close();
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /** Staging files on disk, with their modification times (for the orphan sweep). */
  async list(): Promise<{ id: string; mtimeMs: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: { id: string; mtimeMs: number }[] = [];
    for (const name of names) {
      if (!STAGING_NAME.test(name)) continue;
      try {
        out.push({ id: name, mtimeMs: (await stat(path.join(this.dir, name))).mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }
}

/** Errors that mean "the body stopped", as opposed to "the body was refused". */
function isInterruption(err: Error): boolean {
  if (err instanceof ClientAbortError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return err.name === "AbortError" || err.name === "LockInterruptedError" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE";
}
