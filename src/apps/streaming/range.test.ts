import { describe, expect, it } from "vitest";
import {
  coalesceRanges,
  evaluatePreconditions,
  formatHttpDate,
  ifRangeHolds,
  multipartPlan,
  parseEntityTagList,
  parseHttpDate,
  parseRange,
  planResponse,
  strongMatch,
  weakMatch,
  type Representation,
} from "./range.js";

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const MTIME = Date.UTC(2024, 0, 15, 8, 30, 45, 678);
const rep: Representation = { size: 1000, etag: '"abc"', lastModifiedMs: MTIME };
const LM = formatHttpDate(MTIME); // Mon, 15 Jan 2024 08:30:45 GMT

describe("HTTP-date (RFC 9110 §5.6.7)", () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  it("accepts the three formats", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(t);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(t);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(t);
  });
  it("interprets rfc850 years more than 50 years ahead as the past century", () => {
    expect(parseHttpDate("Tuesday, 01-Jan-80 00:00:00 GMT", NOW)).toBe(Date.UTC(1980, 0, 1));
    expect(parseHttpDate("Tuesday, 01-Jan-70 00:00:00 GMT", NOW)).toBe(Date.UTC(2070, 0, 1));
    expect(parseHttpDate("Monday, 01-Jan-24 00:00:00 GMT", NOW)).toBe(Date.UTC(2024, 0, 1));
  });
  it("rejects malformed dates", () => {
    for (const bad of ["", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT"]) {
      expect(parseHttpDate(bad), bad).toBeNull();
    }
  });
  it("formats IMF-fixdate", () => {
    expect(formatHttpDate(t)).toBe("Sun, 06 Nov 1994 08:49:37 GMT");
  });
});

describe("entity tags (RFC 9110 §8.8.3)", () => {
  it("parses lists, * and tags containing commas", () => {
    expect(parseEntityTagList("*")).toBe("*");
    expect(parseEntityTagList('"a", W/"b" ,"c,d"')).toEqual([
      { weak: false, opaque: '"a"' },
      { weak: true, opaque: '"b"' },
      { weak: false, opaque: '"c,d"' },
    ]);
    expect(parseEntityTagList(' , "a",,')).toEqual([{ weak: false, opaque: '"a"' }]);
    expect(parseEntityTagList("abc")).toBeNull();
    expect(parseEntityTagList('"a" "b"')).toBeNull();
  });
  it("compares strongly and weakly", () => {
    const s = { weak: false, opaque: '"x"' };
    const w = { weak: true, opaque: '"x"' };
    expect(strongMatch(s, s)).toBe(true);
    expect(strongMatch(s, w)).toBe(false);
    expect(weakMatch(s, w)).toBe(true);
    expect(weakMatch(w, { weak: true, opaque: '"y"' })).toBe(false);
  });
});

describe("Range parsing (RFC 9110 §14.1)", () => {
  const r = (v: string, size = 1000) => parseRange(v, size);
  it("parses the three range-spec forms", () => {
    expect(r("bytes=0-99")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 99 }] });
    expect(r("bytes=100-")).toEqual({ kind: "ranges", ranges: [{ start: 100, end: 999 }] });
    expect(r("bytes=-500")).toEqual({ kind: "ranges", ranges: [{ start: 500, end: 999 }] });
  });
  it("clamps last-pos and suffix-length to the representation", () => {
    expect(r("bytes=990-5000")).toEqual({ kind: "ranges", ranges: [{ start: 990, end: 999 }] });
    expect(r("bytes=-5000")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 999 }] });
    expect(r("bytes=999-999")).toEqual({ kind: "ranges", ranges: [{ start: 999, end: 999 }] });
    expect(r("bytes=0-99999999999999999999999")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 999 }] });
  });
  it("accepts a case-insensitive unit, OWS and empty list elements", () => {
    expect(r("Bytes=0-1")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 1 }] });
    expect(r("bytes= 0-1 ,, 500-501 ")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 1 }, { start: 500, end: 501 }] });
  });
  it("is unsatisfiable when no range-spec is", () => {
    expect(r("bytes=1000-")).toEqual({ kind: "unsatisfiable" });
    expect(r("bytes=5000-6000")).toEqual({ kind: "unsatisfiable" });
    expect(r("bytes=-0")).toEqual({ kind: "unsatisfiable" });
    expect(r("bytes=1000-1001,2000-")).toEqual({ kind: "unsatisfiable" });
    expect(r("bytes=0-0", 0)).toEqual({ kind: "unsatisfiable" });
  });
  it("drops unsatisfiable specs when another is satisfiable", () => {
    expect(r("bytes=5000-,0-1")).toEqual({ kind: "ranges", ranges: [{ start: 0, end: 1 }] });
  });
  it("ignores malformed headers, unknown units and other-range", () => {
    for (const bad of ["", "bytes", "bytes=", "bytes=,", "bytes=abc", "bytes=5-1", "bytes=0-1,5-1", "bytes=1-2-3", "bytes=--1", "bytes=0x10-", "items=0-1", "bytes 0-1", "=0-1", "bytes=0-1;x", "bytes=+1-2", "bytes=1.5-2"]) {
      expect(r(bad), bad).toEqual({ kind: "ignore" });
    }
  });
  it("sends a zero-length representation whole for a suffix range", () => {
    expect(r("bytes=-10", 0)).toEqual({ kind: "ignore" });
  });
  it("ignores more than 20 ranges", () => {
    const many = Array.from({ length: 21 }, (_, i) => `${i * 40}-${i * 40 + 1}`).join(",");
    expect(r(`bytes=${many}`)).toEqual({ kind: "ignore" });
    const twenty = Array.from({ length: 20 }, (_, i) => `${i * 100}-${i * 100 + 1}`).join(",");
    expect((r(`bytes=${twenty}`, 10_000) as { ranges: unknown[] }).ranges).toHaveLength(20);
  });
});

describe("coalescing (RFC 9110 §15.3.7.2)", () => {
  it("merges overlapping and adjacent ranges and keeps request order otherwise", () => {
    expect(coalesceRanges([{ start: 0, end: 10 }, { start: 5, end: 20 }], 0)).toEqual([{ start: 0, end: 20 }]);
    expect(coalesceRanges([{ start: 0, end: 10 }, { start: 11, end: 20 }], 0)).toEqual([{ start: 0, end: 20 }]);
    expect(coalesceRanges([{ start: 500, end: 600 }, { start: 0, end: 10 }], 0)).toEqual([{ start: 500, end: 600 }, { start: 0, end: 10 }]);
    expect(coalesceRanges([{ start: 50, end: 60 }, { start: 0, end: 10 }, { start: 5, end: 55 }], 0)).toEqual([{ start: 0, end: 60 }]);
    expect(coalesceRanges([{ start: 0, end: 1 }, { start: 0, end: 1 }, { start: 0, end: 1 }], 0)).toEqual([{ start: 0, end: 1 }]);
  });
  it("merges ranges separated by less than the part overhead", () => {
    expect(coalesceRanges([{ start: 0, end: 10 }, { start: 50, end: 60 }])).toEqual([{ start: 0, end: 60 }]);
    expect(coalesceRanges([{ start: 0, end: 10 }, { start: 200, end: 210 }])).toHaveLength(2);
  });
});

describe("preconditions (RFC 9110 §13.1, §13.2.2)", () => {
  const pre = (h: Record<string, string>, method = "GET") => evaluatePreconditions({ method, ...h }, rep, NOW);
  it("If-None-Match uses weak comparison and answers 304 to GET/HEAD, 412 otherwise", () => {
    expect(pre({ ifNoneMatch: '"abc"' })).toBe(304);
    expect(pre({ ifNoneMatch: 'W/"abc"' })).toBe(304);
    expect(pre({ ifNoneMatch: '"x", "abc"' })).toBe(304);
    expect(pre({ ifNoneMatch: "*" })).toBe(304);
    expect(pre({ ifNoneMatch: '"abc"' }, "HEAD")).toBe(304);
    expect(pre({ ifNoneMatch: '"abc"' }, "PUT")).toBe(412);
    expect(pre({ ifNoneMatch: '"other"' })).toBe("proceed");
    expect(pre({ ifNoneMatch: "garbage" })).toBe("proceed");
  });
  it("If-Modified-Since answers 304 when not modified since, and is ignored with If-None-Match", () => {
    expect(pre({ ifModifiedSince: LM })).toBe(304);
    expect(pre({ ifModifiedSince: formatHttpDate(MTIME + 5000) })).toBe(304);
    expect(pre({ ifModifiedSince: formatHttpDate(MTIME - 1000) })).toBe("proceed");
    expect(pre({ ifModifiedSince: "not a date" })).toBe("proceed");
    expect(pre({ ifModifiedSince: LM }, "POST")).toBe("proceed");
    expect(pre({ ifModifiedSince: LM, ifNoneMatch: '"other"' })).toBe("proceed");
  });
  it("If-Match uses strong comparison; If-Unmodified-Since applies only without it", () => {
    expect(pre({ ifMatch: '"abc"' })).toBe("proceed");
    expect(pre({ ifMatch: "*" })).toBe("proceed");
    expect(pre({ ifMatch: 'W/"abc"' })).toBe(412);
    expect(pre({ ifMatch: '"zzz"' })).toBe(412);
    expect(pre({ ifUnmodifiedSince: formatHttpDate(MTIME - 1000) })).toBe(412);
    expect(pre({ ifUnmodifiedSince: LM })).toBe("proceed");
    expect(pre({ ifMatch: '"abc"', ifUnmodifiedSince: formatHttpDate(MTIME - 1000) })).toBe("proceed");
    expect(pre({ ifMatch: '"abc"', ifNoneMatch: '"abc"' })).toBe(304);
  });
});

describe("If-Range (RFC 9110 §13.1.5)", () => {
  it("holds for the same strong ETag only", () => {
    expect(ifRangeHolds('"abc"', rep, NOW)).toBe(true);
    expect(ifRangeHolds('W/"abc"', rep, NOW)).toBe(false);
    expect(ifRangeHolds('"old"', rep, NOW)).toBe(false);
  });
  it("holds for the exact Last-Modified date when it is a strong validator", () => {
    expect(ifRangeHolds(LM, rep, NOW)).toBe(true);
    expect(ifRangeHolds(formatHttpDate(MTIME + 1000), rep, NOW)).toBe(false);
    expect(ifRangeHolds(formatHttpDate(MTIME - 1000), rep, NOW)).toBe(false);
    // modified within the last second: the date cannot be a strong validator
    expect(ifRangeHolds(LM, rep, MTIME + 100)).toBe(false);
    expect(ifRangeHolds("garbage", rep, NOW)).toBe(false);
  });
});

describe("planResponse", () => {
  const plan = (h: Record<string, string>, method = "GET") => planResponse({ method, ...h }, rep, { now: NOW });
  it("answers 200 without Range, with a malformed Range and for HEAD", () => {
    expect(plan({})).toEqual({ status: 200 });
    expect(plan({ range: "bytes=x" })).toEqual({ status: 200 });
    expect(plan({ range: "bytes=0-1" }, "HEAD")).toEqual({ status: 200 });
  });
  it("answers 206 with Content-Range for a single range", () => {
    expect(plan({ range: "bytes=0-99" })).toEqual({ status: 206, range: { start: 0, end: 99 }, contentRange: "bytes 0-99/1000" });
    expect(plan({ range: "bytes=-500" })).toEqual({ status: 206, range: { start: 500, end: 999 }, contentRange: "bytes 500-999/1000" });
  });
  it("answers multipart for several ranges, single part when they coalesce", () => {
    expect(plan({ range: "bytes=0-9,500-509" })).toEqual({ status: 206, ranges: [{ start: 0, end: 9 }, { start: 500, end: 509 }] });
    expect(plan({ range: "bytes=0-9,5-20" })).toEqual({ status: 206, range: { start: 0, end: 20 }, contentRange: "bytes 0-20/1000" });
  });
  it("answers 416 with bytes */size", () => {
    expect(plan({ range: "bytes=1000-" })).toEqual({ status: 416, contentRange: "bytes */1000" });
  });
  it("ignores Range when If-Range does not hold", () => {
    expect(plan({ range: "bytes=0-1", ifRange: '"abc"' })).toMatchObject({ status: 206 });
    expect(plan({ range: "bytes=0-1", ifRange: '"old"' })).toEqual({ status: 200 });
    expect(plan({ range: "bytes=0-1", ifRange: LM })).toMatchObject({ status: 206 });
    expect(plan({ range: "bytes=0-1", ifRange: formatHttpDate(MTIME - 60_000) })).toEqual({ status: 200 });
    expect(plan({ range: "bytes=5000-", ifRange: '"old"' })).toEqual({ status: 200 });
  });
  it("evaluates preconditions before ranges", () => {
    expect(plan({ range: "bytes=0-1", ifNoneMatch: '"abc"' })).toEqual({ status: 304 });
    expect(plan({ range: "bytes=5000-", ifMatch: '"zzz"' })).toEqual({ status: 412 });
  });
  it("works without validators", () => {
    const bare = { size: 10, etag: null, lastModifiedMs: null };
    expect(planResponse({ method: "GET", range: "bytes=0-1", ifRange: '"x"' }, bare)).toEqual({ status: 200 });
    expect(planResponse({ method: "GET", ifNoneMatch: '"x"', ifModifiedSince: LM }, bare)).toEqual({ status: 200 });
    expect(planResponse({ method: "GET", ifNoneMatch: "*" }, bare)).toEqual({ status: 304 });
  });
});

describe("multipart/byteranges (RFC 9110 §14.6)", () => {
  it("lays out parts and computes the exact length", () => {
    const data = Buffer.from("0123456789abcdefghij");
    const mp = multipartPlan([{ start: 0, end: 2 }, { start: 10, end: 12 }], data.length, "video/mp4", "B");
    expect(mp.contentType).toBe("multipart/byteranges; boundary=B");
    const body = Buffer.concat([...mp.parts.flatMap((p) => [p.head, data.subarray(p.range.start, p.range.end + 1)]), mp.tail]);
    expect(body.length).toBe(mp.length);
    expect(body.toString()).toBe(
      "--B\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-2/20\r\n\r\n012" + "\r\n--B\r\nContent-Type: video/mp4\r\nContent-Range: bytes 10-12/20\r\n\r\nabc" + "\r\n--B--\r\n",
    );
  });
});
