/**
 * Object storage port. Keys are relative, slash-separated, built by the code from ids (never from
 * request strings). Two adapters: disk (default, `MEDIA_DIR`) and S3 (`STORAGE=s3`); both pass
 * the shared contract suite in `storage.contract.ts`.
 */
import type { Readable } from "node:stream";

export interface ObjectInfo {
  size: number;
  /** Last modification time, ms since epoch. */
  mtimeMs: number;
  /** A strong validator for the bytes (S3 ETag, or size+mtime on disk). */
  etag: string;
}

export interface ByteRange {
  /** inclusive */
  start: number;
  /** inclusive */
  end: number;
}

export interface Storage {
  readonly kind: "disk" | "s3";
  put(key: string, body: Buffer | string | Readable, opts?: { contentType?: string }): Promise<void>;
  /** Uploads a local file (multipart for large files on S3, rename/copy on disk). */
  putFile(key: string, localPath: string, opts?: { contentType?: string }): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  getBuffer(key: string): Promise<Buffer>;
  /** Copies the object to a local file (workers read sources this way). */
  download(key: string, localPath: string): Promise<void>;
  stat(key: string): Promise<ObjectInfo | null>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (e.g. `videos/<id>/`). */
  deletePrefix(prefix: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Disk only: the absolute path of a key, for sendfile-class streaming; null on S3. */
  localPath(key: string): string | null;
  /** S3 only: a presigned GET URL; null on disk. */
  presignedGetUrl(key: string, expiresS: number): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Thrown by `get`/`getBuffer`/`download` for a missing key. `code` mirrors Node's fs error so code
 * that already handles `ENOENT` (e.g. streaming a disk file) handles both adapters the same way.
 */
export class ObjectNotFoundError extends Error {
  readonly code = "ENOENT";
  constructor(readonly key: string) {
    super(`Object not found: ${key}`);
    this.name = "ObjectNotFoundError";
  }
}

/** Thrown for a key or prefix that could escape the storage root or means different things per adapter. */
export class InvalidKeyError extends Error {
  readonly code = "EINVALIDKEY";
  constructor(readonly key: string, reason: string) {
    super(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = "InvalidKeyError";
  }
}

/** True for "the object does not exist", whichever adapter (or raw fs call) raised it. */
export function isNotFoundError(err: unknown): boolean {
  if (err instanceof ObjectNotFoundError) return true;
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ENOENT";
}

/** S3's own limit on key length (UTF-8 bytes); enforcing it on disk too keeps the adapters interchangeable. */
const MAX_KEY_BYTES = 1024;

function keyProblem(key: string, allowPartialTail: boolean): string | null {
  if (typeof key !== "string" || key === "") return "empty";
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  // NUL truncates paths in C APIs; other control characters break S3's XML listings.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return "control character";
  // A backslash is a separator on Windows and a literal on S3: refuse the ambiguity.
  if (key.includes("\\")) return "backslash";
  if (key.startsWith("/") || /^[a-zA-Z]:/.test(key)) return "absolute path";
  const segments = key.split("/");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const isTail = i === segments.length - 1;
    // Empty, "." and ".." segments collapse on disk (`a//b` == `a/b`) but not on S3, and ".." escapes the root.
    if (s === "..") return "'..' segment";
    if (s === ".") return "'.' segment";
    if (s === "" && !(isTail && allowPartialTail)) return "empty segment";
  }
  return null;
}

/** Validates an object key: relative, slash-separated, no empty/./.. segments, no backslash or control characters. */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key, false);
  if (problem) throw new InvalidKeyError(key, problem);
}

/**
 * Validates a listing/deletion prefix: "" (everything) or a key-like string that may end with "/"
 * (a "directory") or in the middle of a segment (`videos/abc/seg_`).
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === "") return;
  const problem = keyProblem(prefix, true);
  if (problem) throw new InvalidKeyError(prefix, problem);
}

/** Both bounds inclusive, as in HTTP `Range: bytes=start-end`; the HTTP layer clamps `end` and answers 416 itself. */
export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`Invalid byte range ${start}-${end}`);
  }
}
