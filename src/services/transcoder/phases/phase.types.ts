/**
 * What every phase of a conversion attempt is given besides its plain-data input: the ports, the
 * job's signal and time budget, and the two stateful helpers of the attempt (the publisher that
 * mirrors outputs to storage and the progress reporter). Nothing else is shared between phases:
 * each returns plain data the next one takes.
 */
import type { MediaTools } from "../../../platform/media/media-tools.js";
import type { Storage } from "../../../platform/storage/storage.js";
import type { HlsPublisher } from "../hls-publisher.js";
import type { ProgressReporter } from "../progress-reporter.js";

/** pino-compatible, optional */
export interface TranscodeLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface PhaseContext {
  storage: Storage;
  tools: MediaTools;
  /** the job's cancellation signal */
  signal: AbortSignal;
  /** seconds left of the job's timeout; throws `timeout` once spent */
  remainingS: () => number;
  log?: TranscodeLogger;
  reporter: ProgressReporter;
  publisher: HlsPublisher;
}
