/**
 * S3 (and S3-compatible: MinIO, R2, s3rver) storage adapter, selected with `STORAGE=s3`. Keys are
 * stored under an optional `S3_PREFIX` so one bucket can host several deployments.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type GetObjectCommandOutput,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
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

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`): needed by MinIO/s3rver, which have no per-bucket DNS. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket, e.g. `prod/`; a missing trailing slash is added. */
  prefix: string;
}

/** Part size for multipart uploads. S3 needs >= 5 MiB for every part but the last. */
export const MULTIPART_PART_SIZE = 8 * 1024 * 1024;
/** S3's hard limit on the number of parts in one upload. */
const MAX_PARTS = 10_000;
/** Parts in flight at once: enough to fill a link, bounded memory (4 x part size). */
const PART_CONCURRENCY = 4;
/** DeleteObjects accepts at most 1000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * Builds the client shared by this adapter and the tus S3 store. Checksums are only computed or
 * validated when an operation requires them: since SDK 3.729 the default is to add CRC32 trailers
 * to every upload, which s3rver and several S3-compatible servers reject.
 */
export function s3ClientFromConfig(opts: Omit<S3StorageOptions, "bucket" | "prefix">): S3Client {
  return new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    // Explicit keys when configured; otherwise the SDK's default chain (env, profile, IMDS/IRSA).
    credentials:
      opts.accessKeyId && opts.secretAccessKey
        ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
        : undefined,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function errName(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? ((err as { name?: unknown }).name as string | undefined) : undefined;
}

/** GetObject answers `NoSuchKey`; HEAD has no body, so the SDK can only name it `NotFound`. */
function isS3NotFound(err: unknown): boolean {
  const name = errName(err);
  return name === "NoSuchKey" || name === "NotFound";
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("put(): stream chunks must be Buffer, Uint8Array or string");
}

/** Yields `take` bytes of `src` after skipping `skip`, then stops reading (destroying `src`). */
async function* sliceBytes(src: Readable, skip: number, take: number): AsyncGenerator<Buffer> {
  try {
    for await (const raw of src) {
      let buf = toBuffer(raw);
      if (skip > 0) {
        if (buf.length <= skip) {
          skip -= buf.length;
          continue;
        }
        buf = buf.subarray(skip);
        skip = 0;
      }
      if (buf.length >= take) {
        yield buf.subarray(0, take);
        return;
      }
      take -= buf.length;
      yield buf;
    }
  } finally {
    src.destroy();
  }
}

/**
 * Callers hand ranged bodies straight to HTTP 206 responses with a precomputed Content-Length,
 * so the bytes must be exactly the requested range. Some S3-compatible servers get this wrong:
 * s3rver treats `bytes=0-0` as `bytes=0-` (`end || Infinity`), others ignore Range and send the
 * whole object with 200. When Content-Range does not match the request, cut the body down here.
 */
function enforceRange(body: Readable, range: ByteRange, contentRange: string | undefined, key: string): Readable {
  const m = contentRange ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange) : null;
  const gotStart = m ? Number(m[1]) : 0;
  const gotEnd = m ? Number(m[2]) : Number.POSITIVE_INFINITY;
  const total = m && m[3] !== "*" ? Number(m[3]) : Number.POSITIVE_INFINITY;
  const wantEnd = Math.min(range.end, total - 1);
  if (gotStart === range.start && gotEnd === wantEnd) return body;
  if (gotStart > range.start || gotEnd < wantEnd) {
    body.destroy();
    throw new Error(`S3 answered bytes ${contentRange ?? "(whole object)"} for ${key}, requested ${range.start}-${range.end}`);
  }
  return Readable.from(sliceBytes(body, range.start - gotStart, wantEnd - range.start + 1), { objectMode: false });
}

export class S3Storage implements Storage {
  readonly kind = "s3" as const;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly ownsClient: boolean;

  /** Pass `client` to share one connection pool (e.g. with the tus S3 store); it is then not destroyed by close(). */
  constructor(opts: S3StorageOptions, client?: S3Client) {
    if (!opts.bucket) throw new Error("S3Storage: bucket is required");
    this.bucket = opts.bucket;
    const p = opts.prefix.replace(/^\/+|\/+$/g, "");
    if (p !== "") assertValidKey(p);
    this.keyPrefix = p === "" ? "" : `${p}/`;
    this.client = client ?? s3ClientFromConfig(opts);
    this.ownsClient = client === undefined;
  }

  /** The full object key in the bucket for a storage key. */
  objectKey(key: string): string {
    assertValidKey(key);
    return this.keyPrefix + key;
  }

  async put(key: string, body: Buffer | string | Readable, opts?: { contentType?: string }): Promise<void> {
    const Key = this.objectKey(key);
    if (body instanceof Readable) {
      await this.uploadStream(Key, body, opts?.contentType);
      return;
    }
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key, Body: buf, ContentLength: buf.length, ContentType: opts?.contentType }),
    );
  }

  async putFile(key: string, localPath: string, opts?: { contentType?: string }): Promise<void> {
    const Key = this.objectKey(key);
    const { size } = await stat(localPath);
    await this.uploadStream(Key, createReadStream(localPath), opts?.contentType, size);
  }

  /**
   * Uploads a stream of unknown length: the first part is buffered, and a stream that ends within
   * it becomes one PutObject (S3 refuses a plain PUT without Content-Length, and multipart for a
   * small object would be three round trips). Longer streams become a multipart upload with up to
   * PART_CONCURRENCY parts in flight; any failure aborts the upload so no orphaned parts are billed.
   */
  private async uploadStream(Key: string, body: Readable, contentType: string | undefined, knownSize?: number): Promise<void> {
    // Grow parts for huge known sizes so the upload stays under S3's 10 000-part limit.
    const partSize = knownSize ? Math.max(MULTIPART_PART_SIZE, Math.ceil(knownSize / MAX_PARTS)) : MULTIPART_PART_SIZE;
    let chunks: Buffer[] = [];
    let buffered = 0;
    let uploadId: string | undefined;
    let partNumber = 0;
    const parts: CompletedPart[] = [];
    const inflight = new Set<Promise<void>>();
    // First part failure; settled parts leave `inflight`, so the error must be remembered here.
    let failure: { err: unknown } | undefined;
    const throwIfFailed = (): void => {
      if (failure) throw failure.err;
    };

    const startPart = async (data: Buffer): Promise<void> => {
      uploadId ??= (
        await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: contentType }))
      ).UploadId;
      if (!uploadId) throw new Error("S3 CreateMultipartUpload returned no UploadId");
      const PartNumber = ++partNumber;
      if (PartNumber > MAX_PARTS) throw new Error(`Upload exceeds ${MAX_PARTS} parts of ${partSize} bytes`);
      const UploadId = uploadId;
      const p = this.client
        .send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body: data, ContentLength: data.length }))
        .then((res) => {
          parts.push({ PartNumber, ETag: res.ETag });
        });
      // Both outcomes are handled here, so a part failing while we read the source is never an
      // unhandled rejection; it is rethrown by throwIfFailed at the next chunk or at the end.
      inflight.add(p);
      p.then(
        () => inflight.delete(p),
        (err: unknown) => {
          inflight.delete(p);
          failure ??= { err };
        },
      );
      if (inflight.size >= PART_CONCURRENCY) await Promise.race(inflight).catch(() => undefined);
      throwIfFailed();
    };

    try {
      for await (const raw of body) {
        throwIfFailed();
        const chunk = toBuffer(raw);
        chunks.push(chunk);
        buffered += chunk.length;
        while (buffered >= partSize) {
          const all = Buffer.concat(chunks, buffered);
          const rest = all.subarray(partSize);
          chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
          buffered = rest.length;
          await startPart(all.subarray(0, partSize));
        }
      }
      const tail = Buffer.concat(chunks, buffered);
      if (uploadId === undefined) {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key, Body: tail, ContentLength: tail.length, ContentType: contentType }),
        );
        return;
      }
      if (tail.length > 0) await startPart(tail);
      await Promise.allSettled(inflight);
      throwIfFailed();
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      body.destroy();
      if (uploadId !== undefined) {
        await Promise.allSettled(inflight);
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }))
          .catch(() => undefined);
      }
      throw err;
    }
  }

  private async getObject(key: string, range?: ByteRange): Promise<GetObjectCommandOutput> {
    const Key = this.objectKey(key);
    if (range) assertValidRange(range);
    try {
      return await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
    } catch (err) {
      if (isS3NotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const res = await this.getObject(key, range);
    // In Node the SDK's body is an http.IncomingMessage (a Readable) mixed with helper methods.
    if (!(res.Body instanceof Readable)) throw new Error("S3 GetObject returned a non-stream body");
    if (!range) return res.Body;
    return enforceRange(res.Body, range, res.ContentRange, key);
  }

  async getBuffer(key: string): Promise<Buffer> {
    const res = await this.getObject(key);
    if (!res.Body) return Buffer.alloc(0);
    const bytes = await res.Body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Streams to a temp file beside the destination and renames it, so a partial download never looks complete. */
  async download(key: string, localPath: string): Promise<void> {
    const src = await this.get(key);
    const dest = path.resolve(localPath);
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(8).toString("hex")}.tmp`);
    try {
      await mkdir(path.dirname(dest), { recursive: true });
      await pipeline(src, createWriteStream(tmp, { flags: "wx" }));
      await rename(tmp, dest);
    } catch (err) {
      src.destroy();
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return {
        size: res.ContentLength ?? 0,
        mtimeMs: res.LastModified?.getTime() ?? 0,
        // S3 ETags arrive quoted already; keep them as-is so they can be echoed in HTTP headers.
        etag: res.ETag ?? "",
      };
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too, matching the disk adapter's no-op.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** Yields pages of full object keys under a storage prefix. */
  private async *listPages(prefix: string): AsyncGenerator<string[]> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix + prefix, ContinuationToken, MaxKeys: DELETE_BATCH }),
      );
      yield (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === "string");
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertValidPrefix(prefix);
    // Refusing "" keeps a bug elsewhere from wiping every object of the deployment.
    if (prefix === "") throw new InvalidKeyError(prefix, "deletePrefix needs a non-empty prefix");
    // Continuation tokens encode the last key returned, so deleting a page before fetching the
    // next one is safe. Pages are at most 1000 keys, the DeleteObjects batch limit.
    for await (const keys of this.listPages(prefix)) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const res = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        // DeleteObjects reports per-key failures in a 200 response; they must not pass silently.
        if (res.Errors && res.Errors.length > 0) {
          const first = res.Errors[0]!;
          throw new Error(`S3 DeleteObjects failed for ${res.Errors.length} key(s), e.g. ${first.Key}: ${first.Code} ${first.Message}`);
        }
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const out: string[] = [];
    for await (const keys of this.listPages(prefix)) {
      for (const k of keys) out.push(k.slice(this.keyPrefix.length));
    }
    return out;
  }

  /** S3 has no local path; the streaming layer proxies `get` or redirects to `presignedGetUrl`. */
  localPath(key: string): null {
    assertValidKey(key);
    return null;
  }

  async presignedGetUrl(key: string, expiresS: number): Promise<string> {
    const Key = this.objectKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key }), { expiresIn: expiresS });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
