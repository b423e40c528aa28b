import { describe, expect, it } from "vitest";
import { formatDuration, humanSize } from "./format.js";

describe("humanSize", () => {
  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 K"],
    [1536, "1.5 K"],
    [1048575, "1.0 M"],
    [734003200, "700.0 M"],
    [1073741824, "1.0 G"],
    [1099511627776, "1.0 T"],
    [1024 ** 5, "1024.0 T"],
  ])("%d → %s", (n, s) => expect(humanSize(n)).toBe(s));
  it("rejects negatives", () => expect(() => humanSize(-1)).toThrow(RangeError));
});

describe("formatDuration", () => {
  it.each([
    [0, "00:00:00"],
    [0.4, "00:00:00"],
    [0.5, "00:00:01"],
    [59.6, "00:01:00"],
    [3599.5, "01:00:00"],
    [3661, "01:01:01"],
    [90000, "25:00:00"],
    [360000, "100:00:00"],
  ])("%d → %s", (n, s) => expect(formatDuration(n)).toBe(s));
  it("rejects NaN", () => expect(() => formatDuration(Number.NaN)).toThrow(RangeError));
});
