import { describe, expect, it } from "vitest";
import { correction, decideSync, expectedPosition, isUserSeek, SEEK_SETTLE_MS, seekLead, type SyncInput } from "./sync-engine.js";

const T = 1_796_305_200_000;

describe("expectedPosition", () => {
  it("advances a playing state by the time since server_time × speed", () => {
    expect(expectedPosition({ status: "playing", position: 42.317, speed: 1.5, server_time: T }, T + 2000)).toBeCloseTo(45.317, 9);
    expect(expectedPosition({ status: "playing", position: 10, speed: 1, server_time: T }, T + 250)).toBeCloseTo(10.25, 9);
  });

  it("holds still while paused, idle or waiting", () => {
    for (const status of ["paused", "idle", "waiting"] as const) expect(expectedPosition({ status, position: 12.5, speed: 2, server_time: T }, T + 5000)).toBe(12.5);
  });

  it("never goes back for a server_time in the local future (clock estimate off), and stops at the duration", () => {
    expect(expectedPosition({ status: "playing", position: 5, speed: 1, server_time: T }, T - 300)).toBe(5);
    expect(expectedPosition({ status: "playing", position: 19, speed: 1, server_time: T }, T + 3000, 20)).toBe(20);
    expect(expectedPosition({ status: "playing", position: 19, speed: 1, server_time: T }, T + 3000, null)).toBe(22);
  });
});

describe("correction", () => {
  it("bends the speed by drift / 1 s, within ±20 %, for as long as it takes to absorb the drift", () => {
    expect(correction(0.15, 1)).toEqual({ rate: 0.85, forMs: 1000 }); // ahead: slower
    expect(correction(-0.15, 1)).toEqual({ rate: 1.15, forMs: 1000 }); // behind: faster
    expect(correction(-0.3, 1)).toEqual({ rate: 1.2, forMs: 1500 }); // bounded: longer
    expect(correction(0.35, 1)).toEqual({ rate: 0.8, forMs: 1750 });
    expect(correction(-0.1, 1.5)).toEqual({ rate: 1.65, forMs: 667 });
    expect(correction(0.3, 0.5)).toEqual({ rate: 0.4, forMs: 3000 });
  });
});

const base: SyncInput = { local: 10, expected: 10, playing: true, speed: 1, rate: 1, correctingUntil: null, settleUntil: 0, now: 5000, lead: 0 };

describe("decideSync", () => {
  it("does nothing within the 100 ms target", () => {
    expect(decideSync({ ...base, local: 10.1 })).toEqual({ kind: "none" });
    expect(decideSync({ ...base, local: 9.95 })).toEqual({ kind: "none" });
  });

  it("bends the rate for a drift between 100 and 400 ms", () => {
    expect(decideSync({ ...base, local: 10.2 })).toEqual({ kind: "rate", rate: 0.8, forMs: 1000 });
    expect(decideSync({ ...base, local: 9.85 })).toEqual({ kind: "rate", rate: 1.15, forMs: 1000 });
    expect(decideSync({ ...base, local: 10.12, speed: 2, rate: 2 })).toEqual({ kind: "rate", rate: 1.76, forMs: 500 });
  });

  it("seeks from 400 ms on, ahead by the learnt lead × speed", () => {
    expect(decideSync({ ...base, local: 10.4 })).toEqual({ kind: "seek", to: 10 });
    expect(decideSync({ ...base, local: 8, lead: 0.2 })).toEqual({ kind: "seek", to: 10.2 });
    expect(decideSync({ ...base, local: 8, lead: 0.2, speed: 2 })).toEqual({ kind: "seek", to: 10.4 });
  });

  it("seeks when a correction would take over 4 s (a slow session speed)", () => {
    expect(decideSync({ ...base, local: 10.3, speed: 0.25, rate: 0.25 })).toEqual({ kind: "seek", to: 10 });
  });

  it("leaves a running correction alone until its end, then restores the speed", () => {
    const running = { ...base, correctingUntil: 5500, rate: 1.15, local: 9.92 };
    expect(decideSync(running)).toEqual({ kind: "none" });
    expect(decideSync({ ...running, now: 5500 })).toEqual({ kind: "restore", rate: 1 });
    // A correction overtaken by a stall: the seek threshold still holds.
    expect(decideSync({ ...running, local: 9.5 })).toEqual({ kind: "seek", to: 10 });
  });

  it("puts back the speed when a rate is left over without a correction", () => {
    expect(decideSync({ ...base, rate: 1.1 })).toEqual({ kind: "restore", rate: 1 });
  });

  it("measures nothing while settling after a seek", () => {
    expect(decideSync({ ...base, local: 12, settleUntil: 5000 + SEEK_SETTLE_MS })).toEqual({ kind: "none" });
  });

  it("paused: seeks to the frame when more than 50 ms off, never bends the rate", () => {
    expect(decideSync({ ...base, playing: false, local: 10.04 })).toEqual({ kind: "none" });
    expect(decideSync({ ...base, playing: false, local: 10.2 })).toEqual({ kind: "seek", to: 10 });
    expect(decideSync({ ...base, playing: false, local: 9.9, lead: 0.5 })).toEqual({ kind: "seek", to: 10 });
  });
});

describe("seekLead", () => {
  it("moves halfway towards the stall the last seek cost, within [0, 1.5] s", () => {
    // Seeked with no lead, landed 0.3 s behind: that seek stalled 0.3 s.
    expect(seekLead(0, -0.3)).toBe(0.15);
    // Seeked 0.15 s ahead and still 0.1 s behind: stall 0.25.
    expect(seekLead(0.15, -0.1)).toBe(0.2);
    // Landed ahead: the lead was too much.
    expect(seekLead(0.2, 0.1)).toBe(0.15);
    expect(seekLead(0.1, 0.5)).toBe(0);
    expect(seekLead(1.4, -3)).toBe(1.5);
  });
});

describe("isUserSeek", () => {
  it("playing: only a jump of the seek threshold or more; paused: any move off the frame", () => {
    expect(isUserSeek(10.3, 10, true)).toBe(false);
    expect(isUserSeek(10.4, 10, true)).toBe(true);
    expect(isUserSeek(5, 10, true)).toBe(true);
    expect(isUserSeek(10.04, 10, false)).toBe(false);
    expect(isUserSeek(10.08, 10, false)).toBe(true);
  });
});
