import { describe, expect, it } from "vitest";
import { bestOffset, CLOCK_SAMPLES, clockSample, ServerClock } from "./sync-clock.js";

describe("clockSample", () => {
  it("takes the offset at the middle of the round trip (NTP)", () => {
    // Sent at 1000, answered at 1040 (local); the server read its clock as 5020.
    expect(clockSample(1000, 1040, 5020)).toEqual({ offset: 4000, rtt: 40, at: 1040 });
    expect(clockSample(1000, 1010, 900)).toEqual({ offset: -105, rtt: 10, at: 1010 });
  });
});

describe("bestOffset", () => {
  it("is the offset of the lowest round trip, 0 with no sample", () => {
    expect(bestOffset([])).toBe(0);
    expect(bestOffset([clockSample(0, 200, 4150), clockSample(1000, 1012, 5010), clockSample(2000, 2100, 6080)])).toBe(4004);
  });
});

describe("ServerClock", () => {
  it("reads the server's clock as local + best offset, and ages out old samples", () => {
    let local = 10_000;
    const clock = new ServerClock(() => local);
    expect(clock.now()).toBe(10_000);
    expect(clock.rtt).toBeNull();
    clock.add(clockSample(0, 8, 1004)); // offset 1000, rtt 8: the best for now
    clock.add(clockSample(100, 300, 1400)); // offset 1200, rtt 200
    expect(clock.offset).toBe(1000);
    expect(clock.rtt).toBe(8);
    local = 20_000;
    expect(clock.now()).toBe(21_000);
    for (let i = 0; i < CLOCK_SAMPLES; i++) clock.add(clockSample(1000 + i, 1000 + i + 20, 3000 + i + 10)); // offset 2000, rtt 20
    expect(clock.sampleCount).toBe(CLOCK_SAMPLES);
    expect(clock.offset).toBe(2000);
  });
});
