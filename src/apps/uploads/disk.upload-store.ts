/**
 * The disk byte store: one append-only file per upload under DATA_DIR/uploads, named by the
 * upload's UUID (never by anything the client sent). Bytes stream from the request socket to the
 * file through the ChunkMeter (count, limit, optional hash, inspection hook); nothing is buffered
 * beyond the streams' high-water marks, and the file is fsynced once per PATCH, before the new
 * offset is committed, so an offset a client was told survives a crash.
 *
 * With STORAGE=s3 the bytes are staged here too and handed to the storage adapter once complete
 * (see docs/design.md, "Uploads"): ffprobe needs a seekable local file anyway. Several API
 * instances must share the directory, since any of them may take the next PATCH.
 */
import { constants as fsConstants, createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UUID_RE } from "../../lib/ids.js";
import { ChunkMeter, feedMeter, keepsWhatArrived } from "./chunk-meter.js";
import type { AppendOptions, AppendResult, LocalFile, StoredUpload, UploadByteStore } from "./upload-store.js";
import { readHead } from "./upload-validator.js";

const STAGING_NAME = /^[0-9a-f-]{36}$/;

export class DiskUploadStore implements UploadByteStore {
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

  async readHead(id: string, n: number): Promise<Buffer> {
    return readHead(this.path(id), n);
  }

  /** The staging file itself: nothing to copy, nothing to clean up on release. */
  async localFile(id: string): Promise<LocalFile> {
    return { path: this.path(id), release: async () => undefined };
  }

  /**
   * Refusals throw after cutting the file back to `offset`. An early end of the body keeps what
   * arrived, except with a checksum.
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
      const detach = feedMeter(source, meter, opts.signal);
      let failure: Error | null = null;
      try {
        await pipeline(meter, out);
      } catch (err) {
        failure = err as Error;
      } finally {
        detach();
      }
      // An fs stream finishes its in-flight write before 'close' (also when destroyed); only
      // then is bytesWritten final and the file safe to cut.
      // (not events.once: it would reject with the stream's error, which we already have)
      if (!out.closed) await new Promise<void>((resolve) => out.once("close", () => resolve()));
      const written = out.bytesWritten;
      if (!keepsWhatArrived(failure, opts.checksum)) {
        await fh.truncate(opts.offset);
        throw failure!;
      }
      if (written > 0) await fh.sync();
      return { written, interrupted: failure };
    } finally {
      await fh.close();
    }
  }

  /** The first part's file is renamed (no copy); the others are streamed onto its end. */
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

  /** Staging files on disk, with their modification times. */
  async list(): Promise<StoredUpload[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: StoredUpload[] = [];
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
