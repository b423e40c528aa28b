/**
 * The part of appending a request body that does not depend on where the bytes go: one small
 * Transform that counts, limits, hashes and inspects the bytes on their way to the store, without
 * copying them, and the rules for what of a failed body is kept. Shared by every UploadByteStore.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { CHECKSUM_ALGORITHMS, type UploadChecksum } from "./tus-headers.js";
import { ChecksumMismatchError, ClientAbortError, TooMuchDataError, type AppendOptions } from "./upload-store.js";

export class ChunkMeter extends Transform {
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

/**
 * Pipes `source` into `meter` and makes a broken body, or an aborted `signal`, end the meter with
 * an error (a request socket that closes early does not end its stream by itself). Returns the
 * function that detaches it again.
 */
export function feedMeter(source: Readable, meter: ChunkMeter, signal: AbortSignal | undefined): () => void {
  const onClose = () => {
    if (!source.readableEnded) meter.destroy(new ClientAbortError());
  };
  const onError = () => meter.destroy(new ClientAbortError());
  const onAbort = () => meter.destroy(signal?.reason instanceof Error ? signal.reason : new ClientAbortError());
  source.once("close", onClose);
  source.once("error", onError);
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  source.pipe(meter);
  return () => {
    source.unpipe(meter);
    source.off("close", onClose);
    source.off("error", onError);
    signal?.removeEventListener("abort", onAbort);
  };
}

/**
 * Whether the bytes that arrived before `failure` are kept: always without a failure; after an
 * interruption only without a checksum (it cannot vouch for a partial chunk); never after a
 * refusal.
 */
export function keepsWhatArrived(failure: Error | null, checksum: UploadChecksum | undefined): boolean {
  if (failure === null) return true;
  return !checksum && !(failure instanceof TooMuchDataError) && !(failure instanceof ChecksumMismatchError) && isInterruption(failure);
}

/** Errors that mean "the body stopped", as opposed to "the body was refused". */
function isInterruption(err: Error): boolean {
  if (err instanceof ClientAbortError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return err.name === "AbortError" || err.name === "LockInterruptedError" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE";
}
