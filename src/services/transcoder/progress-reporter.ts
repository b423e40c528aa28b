/** The job's progress messages, in order and throttled. */
import type { TranscodeProgress } from "../../contracts/transcode.messages.js";
import type { JobContext } from "../../platform/queue/queue.js";

const PROGRESS_INTERVAL_MS = 500;

/** Sends progress in order, at most every ~500 ms unless the step or playability changes. */
export class ProgressReporter {
  private chain: Promise<void> = Promise.resolve();
  private lastAt = 0;
  private lastStep = "";
  private lastPercent = 0;
  private playable = false;
  private masterKey: string | undefined;

  constructor(private readonly ctx: Pick<JobContext, "progress">) {}

  /** From now on every message says `playable`, with the master playlist's key. */
  markPlayable(masterKey: string): void {
    this.playable = true;
    this.masterKey = masterKey;
  }

  send(step: TranscodeProgress["step"], percent: number, etaS: number | null, force = false): void {
    const now = Date.now();
    if (!force && step === this.lastStep && now - this.lastAt < PROGRESS_INTERVAL_MS) return;
    // Overall percent never goes backwards (a per-rung restart, a late progress line).
    const pct = Math.max(this.lastPercent, Math.min(100, Math.round(percent * 10) / 10));
    this.lastAt = now;
    this.lastStep = step;
    this.lastPercent = pct;
    const p: TranscodeProgress = { step, percent: pct, eta_s: etaS, playable: this.playable };
    if (this.masterKey) p.masterKey = this.masterKey;
    this.chain = this.chain.then(() => this.ctx.progress({ ...p })).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
