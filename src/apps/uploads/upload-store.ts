/**
 * The byte store port: where an unfinished upload's bytes live until validation hands them to
 * the storage adapter. The services see only this interface. One implementation today,
 * `DiskUploadStore` (an append-only file per upload under DATA_DIR/uploads); an object-storage
 * one (each committed PATCH its own object, the offset and part list in the DB, so that any API
 * process can take any PATCH) must pass `upload-store.contract.ts` as well.
 *
 * What every implementation promises:
 * - ids are server-made UUIDs, never anything a client sent;
 * - the committed offset lives in the upload row, not here: `append` is told it, and anything
 *   stored past it was never acknowledged and does not count;
 * - a chunk counts only once `append` resolves. A refusal (too much data, checksum mismatch, an
 *   `inspect` throw) leaves nothing of it: the spec says it "MUST be discarded, and the upload and
 *   its offset MUST NOT be updated";
 * - nothing assumes the bytes are on this process's disk except `localFile`, which exists because
 *   ffprobe needs a seekable local file.
 */
import type { Readable } from "node:stream";
import type { UploadChecksum } from "./tus-headers.js";

export interface AppendOptions {
  /** committed offset: the chunk starts here */
  offset: number;
  /** the most bytes this request may add (Upload-Length − offset) */
  limit: number;
  checksum?: UploadChecksum | undefined;
  /** aborting stops the write and keeps what arrived (lock lost, or another request took over) */
  signal?: AbortSignal | undefined;
  /** called for every chunk before it is stored; throwing refuses the request */
  inspect?: ((chunk: Buffer, received: number) => void) | undefined;
}

export interface AppendResult {
  /** bytes added and kept */
  written: number;
  /** set when the body stopped early but what arrived was kept (tus: "store as much as possible") */
  interrupted: Error | null;
}

/** A complete upload as a file on this machine, for ffprobe/ffmpeg. */
export interface LocalFile {
  readonly path: string;
  /**
   * Done with the file. The caller may have moved it away (a rename into disk storage); release
   * must not mind. Releasing does not remove the upload: `remove` does.
   */
  release(): Promise<void>;
}

/** An upload the store holds bytes for, with the time of its last write (for the orphan sweep). */
export interface StoredUpload {
  id: string;
  mtimeMs: number;
}

export interface UploadByteStore {
  /** Prepares the store (directory, bucket); called before the routes serve. */
  init(): Promise<void>;
  /** An empty upload; fails when `id` exists. */
  create(id: string): Promise<void>;
  /**
   * Appends one request body at `opts.offset`. Resolves once the kept bytes are durable (an
   * offset a client was told survives a crash). An early end of the body keeps what arrived,
   * except with a checksum, which cannot vouch for a partial chunk. Throws TooMuchDataError,
   * ChecksumMismatchError or what `inspect` threw, with nothing of the chunk kept.
   */
  append(id: string, source: Readable, opts: AppendOptions): Promise<AppendResult>;
  /** The first `n` bytes (fewer when the upload is shorter): the sniff window of a resumed upload. */
  readHead(id: string, n: number): Promise<Buffer>;
  /** Bytes held for the upload, or null when the store has none for it. */
  size(id: string): Promise<number | null>;
  /**
   * A new upload `targetId` made of complete uploads `partIds`, in order; returns its size. The
   * parts may be consumed by it: callers `remove` them afterwards either way.
   */
  concat(targetId: string, partIds: string[]): Promise<number>;
  /** The complete upload as a local file (see LocalFile). */
  localFile(id: string): Promise<LocalFile>;
  /** Drops an upload's bytes; no error when there are none. */
  remove(id: string): Promise<void>;
  /** Every upload the store holds bytes for, known to the DB or not. */
  list(): Promise<StoredUpload[]>;
}

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
