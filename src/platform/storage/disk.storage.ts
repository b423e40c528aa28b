/**
 * Local-filesystem storage adapter (the default, rooted at `MEDIA_DIR`). Keys map 1:1 to paths
 * under the root; every write goes to a temp file in the destination directory and is renamed
 * into place, so a reader (the streaming endpoint, a worker) never sees a half-written object.
 */
import { constants as fsConstants, createReadStream, createWriteStream, type BigIntStats } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  InvalidKeyError,
  ObjectNotFoundError,
  type ByteRange,
  type ObjectInfo,
  type Storage,
} from "./storage.js";

/** Temp files are dot-files with a random suffix; listings skip them so in-flight writes are invisible. */
const TEMP_FILE_RE = /^\..+\.[0-9a-f]{16}\.tmp$/;

function errCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? ((err as { code?: unknown }).code as string | undefined) : undefined;
}

/** "No such object": the path is missing, a parent is a file (ENOTDIR), or the key names a directory. */
function isMissing(err: unknown): boolean {
  const code = errCode(err);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

export class DiskStorage implements Storage {
  readonly kind = "disk" as const;
  private readonly root: string;
  private readonly rootWithSep: string;

  constructor(rootDir: string) {
    this.root = path.resolve(rootDir);
    // path.resolve keeps the trailing separator only for the filesystem root ("/").
    this.rootWithSep = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
  }

  /** Absolute path for a key; the prefix check is a second guard behind `assertValidKey`. */
  private resolve(key: string): string {
    assertValidKey(key);
    const p = path.resolve(this.root, ...key.split("/"));
    if (!p.startsWith(this.rootWithSep)) throw new InvalidKeyError(key, "escapes the storage root");
    return p;
  }

  private tempPathFor(finalPath: string): string {
    return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${randomBytes(8).toString("hex")}.tmp`);
  }

  /**
   * Writes via a temp file in the same directory (same filesystem, so `rename` is atomic) and
   * renames over the destination. No fsync: atomicity protects readers, and after a crash the
   * job that produced the object is re-run anyway; fsyncing every HLS segment would be costly.
   */
  private async writeAtomically(finalPath: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(path.dirname(finalPath), { recursive: true });
    const tmp = this.tempPathFor(finalPath);
    try {
      await write(tmp);
      await rename(tmp, finalPath);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  // contentType is not stored on disk: the streaming layer derives it from the key's extension.
  async put(key: string, body: Buffer | string | Readable, _opts?: { contentType?: string }): Promise<void> {
    const finalPath = this.resolve(key);
    await this.writeAtomically(finalPath, async (tmp) => {
      if (body instanceof Readable) {
        // "wx": the random temp name must never clobber another writer's file.
        await pipeline(body, createWriteStream(tmp, { flags: "wx" }));
      } else {
        await writeFile(tmp, body, { flag: "wx" });
      }
    });
  }

  /**
   * Copies rather than renames the source: callers (workers) own their local files and clean
   * them up themselves, and S3 leaves the source in place too. FICLONE makes the copy a cheap
   * reflink on filesystems that support it (btrfs, XFS) and falls back to a plain copy elsewhere.
   */
  async putFile(key: string, localPath: string, _opts?: { contentType?: string }): Promise<void> {
    const finalPath = this.resolve(key);
    await this.writeAtomically(finalPath, (tmp) => copyFile(localPath, tmp, fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_EXCL));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const p = this.resolve(key);
    if (range) assertValidRange(range);
    // Opening eagerly turns a missing key into a rejected promise instead of a later stream
    // error, and pins the inode so a concurrent overwrite (rename) cannot mix old and new bytes.
    let fh;
    try {
      fh = await open(p, "r");
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      // open(2) succeeds on a directory on Linux; a directory is not an object.
      if (!(await fh.stat()).isFile()) throw new ObjectNotFoundError(key);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return createReadStream(p, { fd: fh, start: range?.start, end: range?.end });
  }

  async getBuffer(key: string): Promise<Buffer> {
    const p = this.resolve(key);
    try {
      return await readFile(p);
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async download(key: string, localPath: string): Promise<void> {
    const src = this.resolve(key);
    const dest = path.resolve(localPath);
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = this.tempPathFor(dest);
    try {
      await copyFile(src, tmp, fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_EXCL);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const p = this.resolve(key);
    let st: BigIntStats;
    try {
      // bigint stats: nanosecond mtime, so two writes within one millisecond still get distinct etags.
      st = await stat(p, { bigint: true });
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    if (!st.isFile()) return null;
    // size+mtime+inode: every write renames a fresh temp file into place, so the inode alone
    // changes on overwrite; size and mtime also catch edits made behind our back (in-place writes).
    const etag = `"${st.size.toString(16)}-${st.mtimeNs.toString(16)}-${st.ino.toString(16)}"`;
    return { size: Number(st.size), mtimeMs: Number(st.mtimeNs / 1_000_000n), etag };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    const p = this.resolve(key);
    try {
      await unlink(p);
    } catch (err) {
      // Deleting a missing object is a no-op, as on S3.
      if (!isMissing(err)) throw err;
    }
  }

  /**
   * `videos/<id>/` removes that directory tree in one go; a prefix ending mid-segment
   * (`videos/<id>/seg_`) removes every entry of `videos/<id>/` whose name starts with `seg_`,
   * which is exactly the set of keys starting with the prefix.
   */
  async deletePrefix(prefix: string): Promise<void> {
    assertValidPrefix(prefix);
    // Refusing "" keeps a bug elsewhere from wiping the whole media root.
    if (prefix === "") throw new InvalidKeyError(prefix, "deletePrefix needs a non-empty prefix");
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash === -1 ? "" : prefix.slice(0, slash);
    const partial = prefix.slice(slash + 1);
    const dir = dirKey === "" ? this.root : this.resolve(dirKey);
    if (partial === "") {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    await Promise.all(names.filter((n) => n.startsWith(partial)).map((n) => rm(path.join(dir, n), { recursive: true, force: true })));
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash === -1 ? "" : prefix.slice(0, slash);
    const startDir = dirKey === "" ? this.root : this.resolve(dirKey);
    const out: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        // A directory removed while we walk it simply has no more objects.
        if (isMissing(err)) return;
        throw err;
      }
      for (const e of entries) {
        const key = keyPrefix + e.name;
        if (e.isDirectory()) {
          // Only descend into directories that can still contain matching keys.
          if (key.startsWith(prefix) || prefix.startsWith(key + "/")) await walk(path.join(dir, e.name), key + "/");
        } else if (e.isFile() && !TEMP_FILE_RE.test(e.name) && key.startsWith(prefix)) {
          out.push(key);
        }
      }
    };
    await walk(startDir, dirKey === "" ? "" : dirKey + "/");
    // Code-unit order, the same order S3 returns keys in (UTF-8 binary order for BMP keys).
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  localPath(key: string): string {
    return this.resolve(key);
  }

  async presignedGetUrl(key: string, _expiresS: number): Promise<string | null> {
    assertValidKey(key);
    return null;
  }

  async close(): Promise<void> {
    // Nothing to release: every operation opens and closes its own file handles.
  }
}
