/**
 * Uploaded subtitle files, pure: byte decoding, format detection by content (never by file name),
 * SubRip and WebVTT parsing with validation, SRT → WebVTT conversion, and the WebVTT we store.
 *
 * What we store is our own serialization of the parsed cues (W3C WebVTT, "WebVTT file" syntax):
 * the `WEBVTT` line, then each cue's identifier (WebVTT input only), timings, known cue settings
 * and text. Header metadata, NOTE, STYLE and REGION blocks are dropped: the HLS packaging adds its
 * own X-TIMESTAMP-MAP, and styling blocks are ignored by most HLS players anyway.
 *
 * Not the `subtitle` package: it stops at the first bad block (no list of problems with line
 * numbers), splits on LF only (CR-only files fail), throws on STYLE/REGION blocks, accepts
 * 61 seconds, reversed or unordered cues and comma timings in WebVTT, folds a block without a
 * timing line into the previous cue's text, and strips leading blank lines of a cue with
 * `Array.shift` in a loop: 100k blank lines take ~6.5 s (quadratic), where this parser takes ~16 ms.
 *
 * Bounded: at most `maxCues` cues (SUBTITLE_MAX_CUES; a feature film has ~1,500), counted to the
 * end so the refusal says how many there were; hours of at most MAX_CUE_HOURS (three digits, as
 * SubRip's own field; WebVTT allows any number, and a 23-digit hour became `1e+23` when written
 * back); and, given the video's duration, no cue starting more than CUE_START_MARGIN_S after its
 * end. Still linear and synchronous: the API runs it in a worker thread (subtitles-parse.thread.ts).
 */

export type SubtitleFormat = "vtt" | "srt";

export interface Cue {
  /** WebVTT cue identifier, null when none (SubRip counters are not kept) */
  id: string | null;
  /** seconds */
  start: number;
  end: number;
  /** WebVTT cue settings (`align:start line:0`), "" when none */
  settings: string;
  /** cue text in WebVTT cue-text syntax, lines joined with `\n` */
  text: string;
  /** 1-based line of the timing line in the input, for error messages */
  line: number;
}

export interface CueProblem {
  line: number;
  message: string;
}

export interface ParsedSubtitles {
  cues: Cue[];
  problems: CueProblem[];
  /** cue blocks in the file: `cues.length`, or more when the file has more than `maxCues` */
  cueCount: number;
}

/** At most this many problems are reported: the first ones are enough to fix a file. */
export const MAX_PROBLEMS = 20;

/** Hours of a timestamp at most (SubRip's three digits). */
export const MAX_CUE_HOURS = 999;

/**
 * How long after the video's end a cue may still start: subtitles timed for a slightly longer
 * cut (end credits) still fit; a file made for another, longer video does not.
 */
export const CUE_START_MARGIN_S = 60;

export interface SubtitleLimits {
  /** cues at most; more make the file too large (`too_many_cues`) */
  maxCues?: number;
  /** the video's duration, s: a cue starting past it plus CUE_START_MARGIN_S is a problem */
  durationS?: number | null;
}

// ---------------------------------------------------------------------------------------------
// Bytes → text

/**
 * Windows-1252 differs from Latin-1 in 0x80-0x9F (€, curly quotes, dashes…). Node 20's
 * TextDecoder("windows-1252") decodes those bytes as Latin-1 C1 controls, so they are mapped here
 * (WHATWG Encoding, index-windows-1252; the five unassigned bytes stay as their C1 code points).
 */
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ";

export function decodeWindows1252(bytes: Uint8Array): string {
  // One UTF-16 code unit per byte (every mapped character is in the BMP), decoded in one go.
  const units = new Uint16Array(bytes.length);
  bytes.forEach((b, i) => {
    units[i] = b >= 0x80 && b <= 0x9f ? CP1252_HIGH.charCodeAt(b - 0x80) : b;
  });
  return new TextDecoder("utf-16le").decode(units);
}

/**
 * Text of an uploaded subtitle file: UTF-8 (with or without BOM), UTF-16 with a BOM, else
 * Windows-1252 (most legacy SRT files in Western languages; it maps every byte, so any text file
 * decodes). Null for binary content (a NUL character): no subtitle file contains one.
 */
export function decodeSubtitleBytes(bytes: Uint8Array): string | null {
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder("utf-16le").decode(bytes.subarray(2));
  else if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder("utf-16be").decode(bytes.subarray(2));
  else {
    try {
      // ignoreBOM: false (the default) strips a UTF-8 BOM
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      text = decodeWindows1252(bytes);
    }
  }
  if (text.includes("\u0000")) return null;
  return text.replace(/^\uFEFF/, "");
}

/** Lines with any line terminator (CRLF, LF, CR: WebVTT allows all three). */
function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
}

const SRT_TIME = String.raw`(\d{1,3}):(\d{1,2}):(\d{1,2})[,.](\d{3})`;
/** SubRip timing line; coordinates after the end time (`X1:… Y2:…`) are ignored. */
const SRT_TIMING = new RegExp(String.raw`^\s*${SRT_TIME}\s*-->\s*${SRT_TIME}(?:\s.*)?$`);
const VTT_TIME = String.raw`(?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3})`;
const VTT_TIMING = new RegExp(String.raw`^${VTT_TIME}[ \t]+-->[ \t]+${VTT_TIME}(?:[ \t]+(.*))?$`);

/** Detects the format from the first lines: `WEBVTT` header, or a SubRip counter + timing line. */
export function detectSubtitleFormat(text: string): SubtitleFormat | null {
  const lines = splitLines(text);
  if (/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? "")) return "vtt";
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0) return null;
  const a = lines[first]!.trim();
  if (SRT_TIMING.test(a)) return "srt";
  if (/^\d+$/.test(a) && SRT_TIMING.test(lines[first + 1] ?? "")) return "srt";
  return null;
}

const seconds = (h: string | undefined, m: string, s: string, ms: string) => Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;

/** Why the timing fields of a timing line are out of range, null when they are fine. */
function timingProblem(h1: string | undefined, m1: string, s1: string, h2: string | undefined, m2: string, s2: string): string | null {
  if (Number(m1) > 59 || Number(s1) > 59 || Number(m2) > 59 || Number(s2) > 59) return "minutes and seconds must be below 60";
  // Compared as digit strings: a 23-digit hour is not a safe integer.
  const tooLong = (h: string | undefined) => h !== undefined && h.replace(/^0+(?=\d)/, "").length > String(MAX_CUE_HOURS).length;
  if (tooLong(h1) || tooLong(h2) || Number(h1 ?? 0) > MAX_CUE_HOURS || Number(h2 ?? 0) > MAX_CUE_HOURS) return `hours must be at most ${MAX_CUE_HOURS}`;
  return null;
}

/** `HH:MM:SS.mmm` of a time in seconds (for messages). */
const clock = (s: number) => timestamp(s);

/** Blocks of non-blank lines with the 1-based line number of their first line, one at a time. */
function* blocks(lines: string[], from: number): Generator<{ line: number; lines: string[] }> {
  let cur: { line: number; lines: string[] } | null = null;
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === "") {
      if (cur) yield cur;
      cur = null;
      continue;
    }
    if (!cur) cur = { line: i + 1, lines: [] };
    cur.lines.push(l);
  }
  if (cur) yield cur;
}

/** Cues collected so far against the limits: counts past `maxCues` without keeping them. */
class CueSink {
  readonly cues: Cue[] = [];
  readonly problems: CueProblem[] = [];
  count = 0;
  private readonly latestStart: number;

  constructor(private readonly limits: SubtitleLimits) {
    const d = limits.durationS;
    this.latestStart = d !== null && d !== undefined && d > 0 ? d + CUE_START_MARGIN_S : Infinity;
  }

  /** False once the cap is reached: the caller only counts the cue blocks that follow. */
  get open(): boolean {
    return this.count < (this.limits.maxCues ?? Infinity);
  }

  add(cue: Cue): void {
    this.count++;
    if (cue.start > this.latestStart) {
      this.problem({ line: cue.line, message: `the cue starts at ${clock(cue.start)}, after the end of the video (${clock(this.limits.durationS!)})` });
      return;
    }
    this.cues.push(cue);
  }

  /** Blocks come in line order, so the first MAX_PROBLEMS are the ones reported: no more are kept. */
  problem(p: CueProblem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
  }

  finish(): ParsedSubtitles {
    return finish(this.cues, this.problems, this.count);
  }
}

/** Timings in range and in order (WebVTT requires cues sorted by start time). */
export function validateCues(cues: readonly Cue[]): CueProblem[] {
  const problems: CueProblem[] = [];
  cues.forEach((c, i) => {
    if (!(c.end > c.start)) problems.push({ line: c.line, message: "the end time must be after the start time" });
    const prev = cues[i - 1];
    if (prev && c.start < prev.start) problems.push({ line: c.line, message: "cues must be in order of start time" });
  });
  return problems;
}

function finish(cues: Cue[], problems: CueProblem[], cueCount = cues.length): ParsedSubtitles {
  const all = [...problems, ...validateCues(cues)].sort((a, b) => a.line - b.line);
  if (cueCount === 0 && all.length === 0) all.push({ line: 1, message: "the file has no cues" });
  return { cues, problems: all.slice(0, MAX_PROBLEMS), cueCount };
}

// ---------------------------------------------------------------------------------------------
// SubRip

const ALLOWED_TAG = /^<\/?(?:b|i|u)>$/i;
const ENTITY = /^&(?:amp|lt|gt|lrm|rlm|nbsp|#\d{1,7}|#x[0-9a-f]{1,6});/i;

/**
 * SubRip text → WebVTT cue text. SubRip is HTML-ish: `<b>`, `<i>`, `<u>` exist in WebVTT and are
 * kept (lower-cased); `<font …>` and ASS override blocks (`{\an8}`) have no WebVTT equivalent
 * and are removed; any other `<` and a bare `&` are escaped, since WebVTT would read them as the
 * start of a tag or character reference. `-->` may not appear in cue text at all.
 */
export function srtTextToVtt(text: string): string {
  const cleaned = text
    .replace(/\{\\[^}]*\}/g, "")
    .replace(/<\/?font\b[^>]*>/gi, "")
    .replace(/-->/g, "->");
  let out = "";
  for (let i = 0; i < cleaned.length; i++) {
    const ch = cleaned[i]!;
    if (ch === "<") {
      const tag = /^<\/?[a-z]+>/i.exec(cleaned.slice(i, i + 5))?.[0];
      if (tag && ALLOWED_TAG.test(tag)) {
        out += tag.toLowerCase();
        i += tag.length - 1;
      } else out += "&lt;";
    } else if (ch === "&") out += ENTITY.test(cleaned.slice(i, i + 10)) ? "&" : "&amp;";
    else out += ch;
  }
  return out;
}

/** Parses SubRip: blocks of an optional counter, a timing line and text lines. */
export function parseSrt(text: string, limits: SubtitleLimits = {}): ParsedSubtitles {
  const lines = splitLines(text);
  const sink = new CueSink(limits);
  for (const b of blocks(lines, 0)) {
    let at = 0;
    if (/^\s*\d+\s*$/.test(b.lines[0]!) && b.lines.length > 1) at = 1;
    if (!sink.open) {
      // Past the cap only the cue blocks are counted, for the refusal's details.
      if (b.lines[at]!.includes("-->")) sink.count++;
      continue;
    }
    const m = SRT_TIMING.exec(b.lines[at]!);
    if (!m) {
      sink.problem({ line: b.line + at, message: "expected a timing line such as 00:00:01,000 --> 00:00:02,500" });
      continue;
    }
    const [, h1, m1, s1, ms1, h2, m2, s2, ms2] = m;
    const bad = timingProblem(h1, m1!, s1!, h2, m2!, s2!);
    if (bad) {
      sink.problem({ line: b.line + at, message: bad });
      continue;
    }
    const body = b.lines
      .slice(at + 1)
      .map((l) => srtTextToVtt(l.trimEnd()))
      .filter((l) => l.trim() !== "");
    // A cue without text shows nothing: dropped rather than kept as an empty cue.
    if (body.length === 0) continue;
    sink.add({ id: null, start: seconds(h1, m1!, s1!, ms1!), end: seconds(h2, m2!, s2!, ms2!), settings: "", text: body.join("\n"), line: b.line + at });
  }
  return sink.finish();
}

// ---------------------------------------------------------------------------------------------
// WebVTT

/** Cue settings WebVTT defines; anything else is dropped (players ignore unknown ones anyway). */
const CUE_SETTING = /^(?:vertical:(?:rl|lr)|line:\S+|position:\S+|size:\S+|align:(?:start|center|end|left|right)|region:\S+)$/;

/** Parses WebVTT: the `WEBVTT` header block, then cue, NOTE, STYLE and REGION blocks. */
export function parseVtt(text: string, limits: SubtitleLimits = {}): ParsedSubtitles {
  const lines = splitLines(text);
  const sink = new CueSink(limits);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? "")) return finish([], [{ line: 1, message: "a WebVTT file starts with the line WEBVTT" }]);
  // The header block runs up to the first blank line.
  let from = lines.findIndex((l) => l.trim() === "");
  if (from < 0) from = lines.length;
  for (const b of blocks(lines, from)) {
    const first = b.lines[0]!;
    if (/^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first) && !first.includes("-->")) continue;
    const at = first.includes("-->") ? 0 : 1;
    const timing = b.lines[at];
    if (!sink.open) {
      // Past the cap only the cue blocks are counted, for the refusal's details.
      if (timing?.includes("-->")) sink.count++;
      continue;
    }
    if (timing === undefined || !timing.includes("-->")) {
      sink.problem({ line: b.line, message: "expected a cue: an optional identifier, then a timing line such as 00:01.000 --> 00:02.500" });
      continue;
    }
    const m = VTT_TIMING.exec(timing.trim());
    if (!m) {
      sink.problem({ line: b.line + at, message: "invalid timing line (expected [hh:]mm:ss.ttt --> [hh:]mm:ss.ttt [settings])" });
      continue;
    }
    const [, h1, m1, s1, ms1, h2, m2, s2, ms2, rawSettings] = m;
    const bad = timingProblem(h1, m1!, s1!, h2, m2!, s2!);
    if (bad) {
      sink.problem({ line: b.line + at, message: bad });
      continue;
    }
    const body = b.lines.slice(at + 1);
    const arrow = body.findIndex((l) => l.includes("-->"));
    if (arrow >= 0) {
      sink.problem({ line: b.line + at + 1 + arrow, message: "cue text may not contain -->: is a blank line missing before this cue?" });
      continue;
    }
    const settings = (rawSettings ?? "")
      .split(/[ \t]+/)
      .filter((s) => CUE_SETTING.test(s))
      .join(" ");
    sink.add({
      id: at === 1 ? first.trim() : null,
      start: seconds(h1, m1!, s1!, ms1!),
      end: seconds(h2, m2!, s2!, ms2!),
      settings,
      text: body.map((l) => l.trimEnd()).join("\n"),
      line: b.line + at,
    });
  }
  return sink.finish();
}

/**
 * `HH:MM:SS.mmm`, digits only. Times come from the parsers, whose hours are bounded
 * (MAX_CUE_HOURS); anything else is a bug, refused rather than written as `1e+23:…` or `NaN:…`.
 */
function timestamp(s: number): string {
  const ms = Math.round(s * 1000);
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= (MAX_CUE_HOURS + 1) * 3_600_000) throw new RangeError(`timestamp out of range: ${s} s`);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** The WebVTT file of `cues` (see the module comment for what is kept). */
export function serializeVtt(cues: readonly Cue[]): string {
  const out = ["WEBVTT", ""];
  for (const c of cues) {
    if (c.id) out.push(c.id);
    out.push(`${timestamp(c.start)} --> ${timestamp(c.end)}${c.settings ? ` ${c.settings}` : ""}`);
    if (c.text) out.push(c.text);
    out.push("");
  }
  return out.join("\n");
}

export class SubtitleParseError extends Error {
  constructor(readonly problems: CueProblem[]) {
    super(problems.map((p) => `line ${p.line}: ${p.message}`).join("; "));
    this.name = "SubtitleParseError";
  }
}

/** SubRip → WebVTT; throws SubtitleParseError listing the problems of an invalid file. */
export function srtToVtt(srt: string): string {
  const parsed = parseSrt(srt);
  if (parsed.problems.length) throw new SubtitleParseError(parsed.problems);
  return serializeVtt(parsed.cues);
}

export type NormalizedSubtitles =
  | { ok: true; format: SubtitleFormat; cues: Cue[]; vtt: string }
  | { ok: false; reason: "unsupported" }
  | { ok: false; reason: "too_many_cues"; format: SubtitleFormat; cues: number; limit: number }
  | { ok: false; reason: "invalid"; format: SubtitleFormat; problems: CueProblem[] };

/** An uploaded file → the WebVTT we store, detecting SubRip or WebVTT by content. */
export function normalizeSubtitles(bytes: Uint8Array, limits: SubtitleLimits = {}): NormalizedSubtitles {
  const text = decodeSubtitleBytes(bytes);
  if (text === null) return { ok: false, reason: "unsupported" };
  const format = detectSubtitleFormat(text);
  if (!format) return { ok: false, reason: "unsupported" };
  const parsed = format === "vtt" ? parseVtt(text, limits) : parseSrt(text, limits);
  if (limits.maxCues !== undefined && parsed.cueCount > limits.maxCues) return { ok: false, reason: "too_many_cues", format, cues: parsed.cueCount, limit: limits.maxCues };
  if (parsed.problems.length) return { ok: false, reason: "invalid", format, problems: parsed.problems };
  return { ok: true, format, cues: parsed.cues, vtt: serializeVtt(parsed.cues) };
}

// ---------------------------------------------------------------------------------------------
// Stored upload ↔ HLS rendition

const MAP_LINE = /^X-TIMESTAMP-MAP=[^\n]*\n/;

/**
 * The WebVTT rendition of a stored upload (`serializeVtt` output: `WEBVTT\n\n…`): with MPEG-TS
 * media the X-TIMESTAMP-MAP of the conversion (RFC 8216 §3.5) right after the `WEBVTT` line, as
 * `withTimestampMap` writes it. Only the header is touched: a 20,000-cue file is one copy, not
 * 80,000 split lines on the event loop.
 */
export function vttRendition(stored: Buffer, mpegtsPts: number | null): Buffer {
  const head = "WEBVTT\n";
  if (stored.subarray(0, head.length).toString("latin1") !== head) throw new Error("not a stored WebVTT upload");
  if (mpegtsPts === null) return stored;
  return Buffer.concat([Buffer.from(`${head}X-TIMESTAMP-MAP=MPEGTS:${mpegtsPts},LOCAL:00:00:00.000\n`, "latin1"), stored.subarray(head.length)]);
}

/** The stored upload of a rendition written by `vttRendition` (or before uploads were kept apart): the map line removed. */
export function storedFromRendition(rendition: Buffer): Buffer {
  const head = "WEBVTT\n";
  if (rendition.subarray(0, head.length).toString("latin1") !== head) return rendition;
  const second = rendition.subarray(head.length, head.length + 200).toString("latin1");
  const m = MAP_LINE.exec(second);
  return m ? Buffer.concat([rendition.subarray(0, head.length), rendition.subarray(head.length + m[0].length)]) : rendition;
}
