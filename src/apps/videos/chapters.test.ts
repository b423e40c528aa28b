import { describe, expect, it } from "vitest";
import { chaptersOf, chaptersToWebVtt, parseDescriptionChapters, parseStoredChapters, segmentSpan, validateChapters, withEnds } from "./chapters.js";

describe("description chapters", () => {
  it("parses mm:ss and h:mm:ss lines with common decorations", () => {
    const d = ["My trip.", "", "0:00 Intro", "01:30 - The road", "(12:05) Lunch", "[1:02:03] The end: finally", "• 1:10:00 | Credits"].join("\n");
    expect(parseDescriptionChapters(d, 5000)).toEqual([
      { title: "Intro", start: 0 },
      { title: "The road", start: 90 },
      { title: "Lunch", start: 725 },
      { title: "The end: finally", start: 3723 },
      { title: "Credits", start: 4200 },
    ]);
  });
  it("needs at least two increasing lines inside the duration", () => {
    expect(parseDescriptionChapters("0:00 Only one", 100)).toEqual([]);
    expect(parseDescriptionChapters("1:00 B\n0:00 A", 100)).toEqual([]);
    expect(parseDescriptionChapters("0:00 A\n0:00 B", 100)).toEqual([]);
    expect(parseDescriptionChapters("0:00 A\n2:00 B", 100)).toEqual([]);
    expect(parseDescriptionChapters("Meet at 10:00 tomorrow\nand 11:00", 100_000)).toEqual([]);
  });
  it("skips impossible clock values and caps titles", () => {
    expect(parseDescriptionChapters("0:00 A\n0:75 bad\n1:00 B", 100)).toEqual([{ title: "A", start: 0 }, { title: "B", start: 60 }]);
    expect(parseDescriptionChapters("0:00 A\n75:00 B", 5000)).toEqual([{ title: "A", start: 0 }, { title: "B", start: 4500 }]);
    expect(parseDescriptionChapters(`0:00 ${"x".repeat(300)}\n0:10 B`, 100)[0]!.title).toHaveLength(100);
  });
});

describe("chapter validation", () => {
  it("accepts a sorted list inside the duration", () => {
    expect(validateChapters([{ title: "A", start: 0 }, { title: "B", start: 1.5 }], 2)).toEqual([]);
    expect(validateChapters([], 2)).toEqual([]);
  });
  it("reports each problem with its field", () => {
    const p = validateChapters(
      [
        { title: " ", start: 0 },
        { title: "x".repeat(101), start: 1 },
        { title: "ok", start: 1 },
        { title: "late", start: 10 },
        { title: "neg", start: -1 },
      ],
      5,
    );
    expect(p.map((x) => x.field)).toEqual(["0.title", "1.title", "2.start", "3.start", "4.start"]);
  });
  it("counts characters, not code units", () => {
    expect(validateChapters([{ title: "😀".repeat(100), start: 0 }], 5)).toEqual([]);
  });
});

describe("chapter ends and sources", () => {
  it("derives ends from the next start and the duration", () => {
    expect(withEnds([{ title: " A ", start: 0 }, { title: "B", start: 10 }], 25)).toEqual([
      { index: 0, title: "A", start: 0, end: 10 },
      { index: 1, title: "B", start: 10, end: 25 },
    ]);
  });
  it("prefers stored chapters, falls back to the description", () => {
    const desc = "0:00 Intro\n0:01 Outro";
    expect(chaptersOf({ chapters: JSON.stringify([{ title: "S", start: 0.5 }]), description: desc, duration_s: 2 })).toEqual([{ index: 0, title: "S", start: 0.5, end: 2 }]);
    expect(chaptersOf({ chapters: null, description: desc, duration_s: 2 })).toEqual([
      { index: 0, title: "Intro", start: 0, end: 1 },
      { index: 1, title: "Outro", start: 1, end: 2 },
    ]);
    expect(chaptersOf({ chapters: null, description: desc, duration_s: null })).toEqual([]);
    expect(parseStoredChapters("not json")).toBeNull();
    expect(parseStoredChapters('[{"title":"b","start":5},{"title":"a","start":1},{"x":1}]')).toEqual([{ title: "a", start: 1 }, { title: "b", start: 5 }]);
  });
  it("renders a WebVTT chapters track", () => {
    const vtt = chaptersToWebVtt(withEnds([{ title: "A <b> & -->", start: 0 }, { title: "B", start: 3661.5 }], 3700));
    expect(vtt).toBe("WEBVTT\n\n1\n00:00:00.000 --> 01:01:01.500\nA &lt;b&gt; &amp; --&gt;\n\n2\n01:01:01.500 --> 01:01:40.000\nB\n");
  });
});

describe("segment span of a chapter", () => {
  const segs = [0, 1, 2, 3].map((i) => ({ start: i * 2, duration: 2 }));
  it("finds the first and last segment overlapping the chapter", () => {
    expect(segmentSpan(segs, 0, 2)).toEqual({ first: 0, last: 0 });
    expect(segmentSpan(segs, 1, 5)).toEqual({ first: 0, last: 2 });
    expect(segmentSpan(segs, 4, 8)).toEqual({ first: 2, last: 3 });
    expect(segmentSpan(segs, 7.9995, 8)).toEqual({ first: 3, last: 3 });
    expect(segmentSpan(segs, 9, 10)).toEqual({ first: 3, last: 3 });
    expect(segmentSpan([], 0, 1)).toBeNull();
  });
});
