import { describe, expect, it } from "vitest";
import {
  decodeSubtitleBytes,
  detectSubtitleFormat,
  normalizeSubtitles,
  parseSrt,
  parseVtt,
  serializeVtt,
  srtTextToVtt,
  srtToVtt,
  storedFromRendition,
  SubtitleParseError,
  vttRendition,
} from "./subtitles-convert.js";
import { withTimestampMap } from "../../services/transcoder/index.js";

const SRT = "1\r\n00:00:00,500 --> 00:00:01,500\r\nBonjour <i>à tous</i>\r\n\r\n2\r\n00:00:02,000 --> 00:00:02,800 X1:10 X2:100 Y1:10 Y2:50\r\nAu revoir\r\net merci\r\n\r\n";

describe("SRT → WebVTT", () => {
  it("converts timings (comma → dot), keeps lines, drops counters and coordinates", () => {
    expect(srtToVtt(SRT)).toBe("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nBonjour <i>à tous</i>\n\n00:00:02.000 --> 00:00:02.800\nAu revoir\net merci\n");
  });

  it("hours beyond 99, no counter, CR line ends, trailing spaces, blank-only cues dropped", () => {
    const srt = "100:00:01,000 --> 100:00:02,000  \rLong\r\r5\r00:00:03,000 --> 00:00:04,000\r   \r";
    expect(srtToVtt(srt)).toBe("WEBVTT\n\n100:00:01.000 --> 100:00:02.000\nLong\n");
  });

  it("cue text: b/i/u kept, font tags and ASS overrides removed, < & --> escaped", () => {
    expect(srtTextToVtt('{\\an8}<font color="#ff0">Tom & Jerry</font> <B>bold</B> <u>u</u>')).toBe("Tom &amp; Jerry <b>bold</b> <u>u</u>");
    expect(srtTextToVtt("a < b <br> c &amp; d &lt;e&gt; &#233; &#x1F600; &nope;")).toBe("a &lt; b &lt;br> c &amp; d &lt;e&gt; &#233; &#x1F600; &amp;nope;");
    expect(srtTextToVtt("from --> to")).toBe("from -> to");
  });

  it("rejects unparseable blocks, reversed and unordered timings, with line numbers", () => {
    const bad = "1\n00:00:02,000 --> 00:00:01,000\nBackwards\n\n2\n00:00:00,500 --> 00:00:00,900\nEarlier than the previous\n\n3\nno timing here\ntext\n\n4\n00:00:61,000 --> 00:00:62,000\nx\n";
    expect(parseSrt(bad).problems).toEqual([
      { line: 2, message: "the end time must be after the start time" },
      { line: 6, message: "cues must be in order of start time" },
      { line: 10, message: "expected a timing line such as 00:00:01,000 --> 00:00:02,500" },
      { line: 14, message: "minutes and seconds must be below 60" },
    ]);
    expect(() => srtToVtt(bad)).toThrow(SubtitleParseError);
    expect(() => srtToVtt("")).toThrow(/no cues/);
  });
});

describe("WebVTT parsing", () => {
  it("skips the header, NOTE, STYLE and REGION blocks; keeps ids and known settings", () => {
    const vtt = [
      "WEBVTT - a title",
      "Kind: captions",
      "X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000",
      "",
      "STYLE",
      "::cue { color: yellow }",
      "",
      "NOTE a comment",
      "",
      "intro",
      "00:00.500 --> 00:01.500 align:start line:0 bogus:1",
      "Hello",
      "",
      "01:00:02.000 --> 01:00:03.000",
      "<v Bob>Hi</v>",
      "second line",
      "",
    ].join("\n");
    const parsed = parseVtt(vtt);
    expect(parsed.problems).toEqual([]);
    expect(parsed.cues.map((c) => [c.id, c.start, c.end, c.settings, c.text])).toEqual([
      ["intro", 0.5, 1.5, "align:start line:0", "Hello"],
      [null, 3602, 3603, "", "<v Bob>Hi</v>\nsecond line"],
    ]);
    expect(normalizeSubtitles(Buffer.from(vtt))).toEqual({
      ok: true,
      format: "vtt",
      cues: parsed.cues,
      vtt: "WEBVTT\n\nintro\n00:00:00.500 --> 00:00:01.500 align:start line:0\nHello\n\n01:00:02.000 --> 01:00:03.000\n<v Bob>Hi</v>\nsecond line\n",
    });
  });

  it("reports malformed timing lines, text containing -->, unordered cues, a missing header", () => {
    expect(parseVtt("WEBVTT\n\n00:01,000 --> 00:02,000\nSRT-style comma\n").problems).toEqual([
      { line: 3, message: "invalid timing line (expected [hh:]mm:ss.ttt --> [hh:]mm:ss.ttt [settings])" },
    ]);
    expect(parseVtt("WEBVTT\n\n00:01.000 --> 00:02.000\na\n00:03.000 --> 00:04.000\nb\n").problems).toEqual([
      { line: 5, message: "cue text may not contain -->: is a blank line missing before this cue?" },
    ]);
    expect(parseVtt("WEBVTT\n\n00:05.000 --> 00:06.000\na\n\n00:01.000 --> 00:02.000\nb\n").problems).toEqual([{ line: 6, message: "cues must be in order of start time" }]);
    expect(parseVtt("WEBVTT\n\njust text\nmore\n").problems[0]!.message).toMatch(/expected a cue/);
    expect(parseVtt("WEBVTT\n").problems).toEqual([{ line: 1, message: "the file has no cues" }]);
    expect(parseVtt("1\n00:00:01,000 --> 00:00:02,000\nx\n").problems[0]!.message).toMatch(/starts with the line WEBVTT/);
  });
});

describe("detection and decoding", () => {
  it("detects by content, not by name", () => {
    expect(detectSubtitleFormat("WEBVTT\n\n")).toBe("vtt");
    expect(detectSubtitleFormat("WEBVTT\tx")).toBe("vtt");
    expect(detectSubtitleFormat("WEBVTTX\n")).toBeNull();
    expect(detectSubtitleFormat("\n\n1\n00:00:01,000 --> 00:00:02,000\nx")).toBe("srt");
    expect(detectSubtitleFormat("00:00:01,000 --> 00:00:02,000\nx")).toBe("srt");
    expect(detectSubtitleFormat("[Script Info]\nTitle: ass file")).toBeNull();
    expect(detectSubtitleFormat("")).toBeNull();
  });

  it("UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252 fallback; binary is refused", () => {
    expect(decodeSubtitleBytes(Buffer.from("\uFEFFWEBVTT é", "utf8"))).toBe("WEBVTT é");
    expect(decodeSubtitleBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("WEBVTT é", "utf16le")]))).toBe("WEBVTT é");
    const be = Buffer.from("WEBVTT", "utf16le").swap16();
    expect(decodeSubtitleBytes(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe("WEBVTT");
    expect(decodeSubtitleBytes(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x80]))).toBe("Café €");
    expect(decodeSubtitleBytes(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]))).toBeNull();
  });

  it("normalizeSubtitles: unsupported vs invalid", () => {
    expect(normalizeSubtitles(Buffer.from([0xff, 0xd8, 0xff, 0x00]))).toEqual({ ok: false, reason: "unsupported" });
    expect(normalizeSubtitles(Buffer.from("hello world"))).toEqual({ ok: false, reason: "unsupported" });
    expect(normalizeSubtitles(Buffer.from("1\n00:00:02,000 --> 00:00:01,000\nx\n"))).toEqual({
      ok: false,
      reason: "invalid",
      format: "srt",
      problems: [{ line: 2, message: "the end time must be after the start time" }],
    });
    const ok = normalizeSubtitles(Buffer.from(SRT));
    expect(ok).toMatchObject({ ok: true, format: "srt" });
  });

  it("reports at most 20 problems", () => {
    const many = Array.from({ length: 30 }, (_, i) => `${i + 1}\n00:00:0${i % 2 ? 1 : 2},000 --> 00:00:00,500\nx\n`).join("\n");
    expect(parseSrt(many).problems).toHaveLength(20);
  });
});

describe("bounds: cues, hours, the video's duration", () => {
  const vttOf = (n: number) => `WEBVTT\n\n${Array.from({ length: n }, (_, i) => `00:${String(i).padStart(2, "0")}.000 --> 00:${String(i).padStart(2, "0")}.500\nx\n`).join("\n")}`;

  it("more cues than maxCues: too_many_cues with the full count (SRT and WebVTT)", () => {
    expect(normalizeSubtitles(Buffer.from(vttOf(12)), { maxCues: 5 })).toEqual({ ok: false, reason: "too_many_cues", format: "vtt", cues: 12, limit: 5 });
    expect(normalizeSubtitles(Buffer.from(vttOf(5)), { maxCues: 5 })).toMatchObject({ ok: true });
    const srt = Array.from({ length: 7 }, (_, i) => `${i + 1}\n00:00:0${i},000 --> 00:00:0${i},500\nx\n`).join("\n");
    expect(normalizeSubtitles(Buffer.from(srt), { maxCues: 6 })).toEqual({ ok: false, reason: "too_many_cues", format: "srt", cues: 7, limit: 6 });
    // the count is kept past the cap; the cues are not
    const parsed = parseVtt(vttOf(30), { maxCues: 10 });
    expect([parsed.cues.length, parsed.cueCount]).toEqual([10, 30]);
  });

  it("hours of more than three digits are refused, never written back in exponent notation", () => {
    const huge = "WEBVTT\n\n12345678901234567890123:24:36.744 --> 12345678901234567890123:24:37.000\nfar\n";
    expect(parseVtt(huge).problems).toEqual([{ line: 3, message: "hours must be at most 999" }]);
    expect(parseVtt("WEBVTT\n\n0000999:00:00.000 --> 0000999:00:01.000\nleading zeros\n").problems).toEqual([]);
    expect(parseSrt("1\n1000:00:00,000 --> 1000:00:01,000\nx\n").problems[0]!.message).toMatch(/timing line/);
    expect(serializeVtt(parseVtt("WEBVTT\n\n999:59:59.999 --> 999:59:59.999\nx\n").cues)).toContain("999:59:59.999 --> 999:59:59.999");
    // the serializer refuses what the parsers cannot produce rather than printing `1e+23:…`
    expect(() => serializeVtt([{ id: null, start: 1e23, end: 1e23 + 1, settings: "", text: "x", line: 1 }])).toThrow(RangeError);
    expect(() => serializeVtt([{ id: null, start: Number.NaN, end: 1, settings: "", text: "x", line: 1 }])).toThrow(RangeError);
  });

  it("a cue starting more than a minute after the video's end is a problem; shortly after is fine", () => {
    // 10 s video: 00:05 and 01:05 (within the minute) fine, 01:11 and 1 h not
    const vtt = "WEBVTT\n\n00:05.000 --> 00:06.000\na\n\n01:05.000 --> 01:06.000\nok\n\n01:11.000 --> 01:15.000\nb\n\n01:00:00.000 --> 01:00:01.000\nc\n";
    expect(parseVtt(vtt, { durationS: 10 }).problems).toEqual([
      { line: 9, message: "the cue starts at 00:01:11.000, after the end of the video (00:00:10.000)" },
      { line: 12, message: "the cue starts at 01:00:00.000, after the end of the video (00:00:10.000)" },
    ]);
    expect(parseVtt(vtt, { durationS: 3600 }).problems).toEqual([]);
    expect(parseVtt(vtt, { durationS: null }).problems).toEqual([]);
  });

  it("stored upload ↔ rendition: the X-TIMESTAMP-MAP header as withTimestampMap writes it, and back", () => {
    const stored = Buffer.from(serializeVtt(parseVtt("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n").cues));
    const rendition = vttRendition(stored, 126_000);
    expect(rendition.toString()).toBe(withTimestampMap(stored.toString(), 126_000));
    expect(vttRendition(stored, null)).toBe(stored);
    expect(storedFromRendition(rendition).equals(stored)).toBe(true);
    expect(storedFromRendition(stored).equals(stored)).toBe(true);
    expect(() => vttRendition(Buffer.from("1\n00:00:01,000 --> 00:00:02,000\nx\n"), 0)).toThrow();
  });
});
