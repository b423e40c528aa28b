/**
 * The server's clock as seen from this device. A state's `position` holds as of `server_time`
 * (the server's clock), so turning it into "where the video should be now" needs the offset
 * between the two clocks. Each `ping` → `pong` round trip gives one NTP-style sample
 * (offset = server_time − (sent + received) / 2, error at most half the round trip); the sample
 * with the lowest round trip is the most trustworthy, as NTP's clock filter and Jellyfin
 * SyncPlay's TimeSyncCore (which keeps the best of its last pings) both take it. Local times are
 * `performance.timeOrigin + performance.now()`: monotonic, where `Date.now()` may jump when the
 * system clock is set.
 */
export interface ClockSample {
  /** server clock − local clock, ms */
  offset: number;
  /** round trip, ms */
  rtt: number;
  /** local time of the answer, ms */
  at: number;
}

export function clockSample(sentAt: number, receivedAt: number, serverTime: number): ClockSample {
  return { offset: serverTime - (sentAt + receivedAt) / 2, rtt: Math.max(0, receivedAt - sentAt), at: receivedAt };
}

/** The offset of the lowest-round-trip sample; 0 with none (then both clocks are taken as one). */
export function bestOffset(samples: readonly ClockSample[]): number {
  let best: ClockSample | null = null;
  for (const s of samples) if (!best || s.rtt < best.rtt) best = s;
  return best ? best.offset : 0;
}

/** Samples kept: clocks drift apart slowly (quartz: ~1 ms per 20 min), so old ones age out. */
export const CLOCK_SAMPLES = 8;

export class ServerClock {
  private readonly samples: ClockSample[] = [];
  private cached = 0;

  constructor(private readonly localNow: () => number) {}

  add(sample: ClockSample): void {
    this.samples.push(sample);
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    this.cached = bestOffset(this.samples);
  }

  /** ms to add to the local clock to read the server's */
  get offset(): number {
    return this.cached;
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  /** the best sample's round trip, ms (null with none) */
  get rtt(): number | null {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.rtt)) : null;
  }

  /** the server's clock now, ms since the epoch */
  now(): number {
    return this.localNow() + this.cached;
  }

  local(): number {
    return this.localNow();
  }
}
