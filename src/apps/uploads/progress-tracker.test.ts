import { describe, expect, it } from "vitest";
import { ProgressTracker } from "./progress-tracker.js";

describe("upload progress", () => {
  it("emits at most every interval, with a moving-average rate and an ETA", () => {
    let t = 0;
    const p = new ProgressTracker(10_000, 250, () => t);
    expect(p.sample(0)).toMatchObject({ bytes_received: 0, percent: 0, rate_bytes_per_s: 0, eta_s: null });
    t = 100;
    expect(p.sample(500)).toBeNull();
    t = 250;
    expect(p.sample(1000)).toMatchObject({ bytes_received: 1000, total: 10_000, percent: 10, rate_bytes_per_s: 4000 });
    t = 500;
    const e = p.sample(2000)!;
    expect(e.rate_bytes_per_s).toBe(4000);
    expect(e.eta_s).toBe(2);
    t = 510;
    expect(p.sample(2100, true)).not.toBeNull();
  });

  it("forgets idle time when a new request resumes", () => {
    let t = 0;
    const p = new ProgressTracker(1_000_000, 250, () => t);
    p.sample(0);
    t = 60_000;
    p.resume(1000);
    t = 61_000;
    expect(p.sample(11_000)!.rate_bytes_per_s).toBe(10_000);
  });

  it("says 100% and ETA 0 at the end", () => {
    const p = new ProgressTracker(10, 250, () => 0);
    expect(p.sample(10, true)).toMatchObject({ percent: 100, eta_s: 0 });
  });
});
