/**
 * Parsing uploaded subtitle files off the event loop: `normalizeSubtitles` (pure, linear, but
 * ~300 ms of regex work for a 5 MB file; ten at once stalled every other request for seconds)
 * runs in a small pool of worker threads (src/lib/worker-pool.ts) whose entry is
 * `subtitles-parse.thread.ts`. The WebVTT comes back as bytes moved, not copied, out of the thread.
 *
 * Sizing: at most two threads, and one fewer than the machine's cores (a 2-core machine keeps a
 * core for the event loop); 32 files may wait, one more is refused with 503 `subtitles_busy`
 * (`Retry-After`); a parse may take 30 s and 256 MB of heap, past which it fails with 422
 * `subtitles_too_complex` (a 5 MB file of 20,000 cues takes well under a second and ~40 MB).
 */
import { availableParallelism } from "node:os";
import { AppError, unprocessable } from "../../lib/errors.js";
import { WorkerPool, WorkerPoolError } from "../../lib/worker-pool.js";
import type { NormalizedSubtitles, SubtitleLimits } from "./subtitles-convert.js";

export interface ParseTask {
  bytes: Uint8Array;
  limits: SubtitleLimits;
}

/** `normalizeSubtitles`' answer without the cue objects (not worth cloning back): their count and the WebVTT bytes. */
export type ParseOutcome = { ok: true; format: "vtt" | "srt"; cues: number; vtt: Uint8Array } | Exclude<NormalizedSubtitles, { ok: true }>;

export interface SubtitleParser {
  parse(bytes: Uint8Array, limits: SubtitleLimits): Promise<ParseOutcome>;
  close(): Promise<void>;
}

export const PARSE_THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));
export const PARSE_QUEUE = 32;
export const PARSE_TIMEOUT_MS = 30_000;
export const PARSE_HEAP_MB = 256;
const RETRY_AFTER_S = 5;

/** The thread entry next to this module: the built `.js`, or the `.ts` source under tsx/vitest. */
const THREAD_ENTRY = new URL(`./subtitles-parse.thread.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

export class ThreadedSubtitleParser implements SubtitleParser {
  private readonly pool: WorkerPool<ParseTask, ParseOutcome>;

  constructor(opts: { threads?: number; maxQueue?: number; timeoutMs?: number } = {}) {
    this.pool = new WorkerPool(THREAD_ENTRY, {
      size: opts.threads ?? PARSE_THREADS,
      maxQueue: opts.maxQueue ?? PARSE_QUEUE,
      taskTimeoutMs: opts.timeoutMs ?? PARSE_TIMEOUT_MS,
      resourceLimits: { maxOldGenerationSizeMb: PARSE_HEAP_MB },
    });
  }

  async parse(bytes: Uint8Array, limits: SubtitleLimits): Promise<ParseOutcome> {
    try {
      return await this.pool.run({ bytes, limits });
    } catch (err) {
      throw asParseError(err);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The API's answer to a parse that could not run or finish. */
function asParseError(err: unknown): unknown {
  if (!(err instanceof WorkerPoolError)) return err;
  switch (err.code) {
    case "busy":
      return new AppError(503, "subtitles_busy", "Too many subtitle files are being read right now; try again shortly.", { retry_after_s: RETRY_AFTER_S }, { "retry-after": String(RETRY_AFTER_S) });
    case "timeout":
      return unprocessable("subtitles_too_complex", `The file could not be read within ${PARSE_TIMEOUT_MS / 1000} s.`);
    case "crashed":
      if ((err.cause as { code?: unknown } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY") {
        return unprocessable("subtitles_too_complex", `Reading the file needed more than ${PARSE_HEAP_MB} MB.`);
      }
      return err;
    case "closed":
      return err;
    default: {
      const never: never = err.code;
      return never;
    }
  }
}
