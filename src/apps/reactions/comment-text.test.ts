import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors.js";
import { codePointLength, normalizeCommentText, timeRefs } from "./comment-text.js";

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return `${e.status} ${e.code}`;
    throw e;
  }
  return "ok";
};

describe("normalizeCommentText", () => {
  it("trims the ends and keeps everything else exactly, markup included", () => {
    expect(normalizeCommentText("  \n\t<script>alert(1)</script>  a  b \n ")).toBe("<script>alert(1)</script>  a  b");
  });
  it("counts code points: 5,000 emoji pass, 5,001 characters do not", () => {
    const emoji = "😀".repeat(5000);
    expect(emoji.length).toBe(10000);
    expect(normalizeCommentText(emoji)).toBe(emoji);
    expect(codeOf(() => normalizeCommentText("a".repeat(5001)))).toBe("400 comment_too_long");
    expect(codeOf(() => normalizeCommentText(` ${"a".repeat(5000)} `))).toBe("ok");
  });
  it.each([
    ["", "400 comment_empty"],
    [" \n\t\u00a0\u3000 ", "400 comment_empty"],
    ["a\u0000b", "400 invalid_text"],
    ["lone \ud83d high", "400 invalid_text"],
    ["lone \ude00 low", "400 invalid_text"],
    ["\ude00\ud83d reversed", "400 invalid_text"],
  ])("refuses %j with %s", (text, code) => {
    expect(codeOf(() => normalizeCommentText(text))).toBe(code);
  });
  it("counts a pair as one code point", () => {
    expect(codePointLength("a😀b")).toBe(3);
  });
});

describe("timeRefs", () => {
  it("reads m:ss and h:mm:ss within the duration, once each, in order", () => {
    expect(timeRefs("at 1:23 and 01:02:03, again 1:23, and 0:05", 4000)).toEqual([83, 3723, 5]);
  });
  it("drops times past the duration and when the duration is unknown", () => {
    expect(timeRefs("1:23 and 9:59", 100)).toEqual([83]);
    expect(timeRefs("1:23", null)).toEqual([]);
    expect(timeRefs("0:10", 10)).toEqual([10]);
  });
  it("ignores things that only look like times", () => {
    expect(timeRefs("10:20:30:40, 1:2:03, 1:60, 12:345", 100_000)).toEqual([]);
    expect(timeRefs("score 2:1 then 120:00", 100_000)).toEqual([7200]);
  });
});
