/**
 * Chapters, pure: validation of a chapter list, derived ends, the `mm:ss Title` description
 * parser and the WebVTT chapters track. A video's chapters come from its stored list (the
 * container's chapters copied at probe time, or a list set with PUT) or, when none is stored,
 * from timestamp lines in its description.
 */

export interface ChapterInput {
  title: string;
  start: number;
}

export interface Chapter {
  index: number;
  title: string;
  /** seconds */
  start: number;
  /** seconds: the next chapter's start, or the video's duration for the last one */
  end: number;
}

export const MAX_CHAPTER_TITLE = 100;
export const MAX_CHAPTERS = 500;

export interface ChapterProblem {
  field: string;
  /** stable: `max_items`, `required` (empty title), `max_length`, `minimum`, `out_of_range`, `not_increasing` */
  code: string;
  message: string;
}

/**
 * Checks a chapter list against the video's duration: at most MAX_CHAPTERS, titles non-empty
 * (after trimming) and at most MAX_CHAPTER_TITLE characters, starts finite, >= 0, strictly
 * increasing and inside the video (< duration, so every chapter has a non-empty span).
 */
export function validateChapters(list: ChapterInput[], durationS: number): ChapterProblem[] {
  const problems: ChapterProblem[] = [];
  if (list.length > MAX_CHAPTERS) problems.push({ field: "chapters", code: "max_items", message: `At most ${MAX_CHAPTERS} chapters.` });
  list.forEach((c, i) => {
    const title = typeof c.title === "string" ? c.title.trim() : "";
    if (title === "") problems.push({ field: `${i}.title`, code: "required", message: "The title must not be empty." });
    // Characters, not UTF-16 code units: an emoji counts once.
    else if ([...title].length > MAX_CHAPTER_TITLE) problems.push({ field: `${i}.title`, code: "max_length", message: `The title must be at most ${MAX_CHAPTER_TITLE} characters.` });
    if (typeof c.start !== "number" || !Number.isFinite(c.start) || c.start < 0) {
      problems.push({ field: `${i}.start`, code: "minimum", message: "The start must be a number of seconds >= 0." });
      return;
    }
    if (c.start >= durationS) problems.push({ field: `${i}.start`, code: "out_of_range", message: `The start must be inside the video (< ${durationS} s).` });
    const prev = list[i - 1];
    if (prev && typeof prev.start === "number" && c.start <= prev.start) {
      problems.push({ field: `${i}.start`, code: "not_increasing", message: "Chapters must be sorted by start, without duplicates." });
    }
  });
  return problems;
}

/** Adds indexes and ends: each chapter ends where the next starts, the last at the duration. */
export function withEnds(list: ChapterInput[], durationS: number): Chapter[] {
  return list.map((c, i) => ({
    index: i,
    title: c.title.trim(),
    start: c.start,
    end: i + 1 < list.length ? list[i + 1]!.start : Math.max(durationS, c.start),
  }));
}

// `1:23 Title`, `01:02:03 - Title`, `(0:00) Title`, `[12:00] Title`, `- 0:00 Title`: a timestamp
// at the start of a line (after an optional bullet), an optional separator, then the title.
const LINE = /^\s*(?:[-*•]\s*)?[([]?(?:(\d{1,3}):)?(\d{1,3}):(\d{2})[)\]]?\s*(?:[-–—:|.]\s*)?(\S.*)$/u;

/**
 * Parses chapter lines from a description: `mm:ss Title` or `h:mm:ss Title`, one per line. Only a
 * run of at least two lines with strictly increasing starts inside the duration counts, so a
 * stray time in prose is not taken for a chapter list; otherwise the result is empty.
 */
export function parseDescriptionChapters(description: string, durationS: number | null): ChapterInput[] {
  const out: ChapterInput[] = [];
  for (const line of description.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (!m) continue;
    const h = m[1] === undefined ? 0 : Number(m[1]);
    const min = Number(m[2]);
    const sec = Number(m[3]);
    // With hours the minutes are two-digit clock minutes; `75:00` alone means 75 minutes.
    if (sec > 59 || (m[1] !== undefined && min > 59)) continue;
    const title = m[4]!.trim().slice(0, MAX_CHAPTER_TITLE * 4);
    const start = h * 3600 + min * 60 + sec;
    out.push({ title: [...title].slice(0, MAX_CHAPTER_TITLE).join("").trim(), start });
  }
  if (out.length < 2) return [];
  for (let i = 1; i < out.length; i++) if (out[i]!.start <= out[i - 1]!.start) return [];
  if (durationS !== null && out.some((c) => c.start >= durationS)) return [];
  if (out.some((c) => c.title === "")) return [];
  return out;
}

/** Stored JSON `[{title, start}]` → list, tolerating junk (a bad stored value means no chapters). */
export function parseStoredChapters(json: string | null): ChapterInput[] | null {
  if (json === null) return null;
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return null;
    const list = v.filter(
      (c): c is ChapterInput => typeof c === "object" && c !== null && typeof (c as ChapterInput).title === "string" && typeof (c as ChapterInput).start === "number",
    );
    return list.sort((a, b) => a.start - b.start);
  } catch {
    return null;
  }
}

export interface ChapterSource {
  chapters: string | null;
  description: string;
  /** the probed duration, else the converted one */
  duration_s: number | null;
}

/**
 * A video's chapters with derived ends: the stored list (probe-time container chapters or a PUT)
 * first, else `mm:ss Title` lines of the description. Without a known duration there is no end to
 * derive for the last chapter, so the list is empty.
 */
export function chaptersOf(v: ChapterSource): Chapter[] {
  const duration = v.duration_s;
  if (duration === null || !(duration > 0)) return [];
  const stored = parseStoredChapters(v.chapters);
  const list = stored && stored.length ? stored.filter((c) => c.start < duration && c.title.trim() !== "") : parseDescriptionChapters(v.description, duration);
  return withEnds(list, duration);
}

function vttTime(s: number): string {
  const ms = Math.round(s * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = Math.floor((ms % 60_000) / 1000);
  const milli = ms % 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(h)}:${p(m)}:${p(sec)}.${p(milli, 3)}`;
}

/**
 * A WebVTT chapters track (`<track kind="chapters">`). Cue text may not contain "-->" and a blank
 * line would end the cue (WebVTT §4.1), so titles are kept on one line; `&`, `<` and `>` are
 * escaped as character references (cue text is parsed for markup), which also breaks any "-->".
 */
export function chaptersToWebVtt(chapters: Chapter[]): string {
  let out = "WEBVTT\n";
  for (const c of chapters) {
    const text = c.title.replace(/[\r\n]+/g, " ").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    out += `\n${c.index + 1}\n${vttTime(c.start)} --> ${vttTime(c.end)}\n${text}\n`;
  }
  return out;
}

/** Segment span of a chapter: the first and last segment (0-based) that contain any of its time. */
export function segmentSpan(segments: { start: number; duration: number }[], start: number, end: number): { first: number; last: number } | null {
  if (segments.length === 0) return null;
  const eps = 1e-3;
  let first = -1;
  let last = -1;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const segEnd = s.start + s.duration;
    // A segment covers the chapter when their half-open intervals [start, end) overlap by more
    // than rounding noise.
    if (s.start < end - eps && segEnd > start + eps) {
      if (first === -1) first = i;
      last = i;
    }
  }
  if (first === -1) {
    // A chapter past the last segment (growing playlist, duration rounding): the last segment.
    return start >= segments[segments.length - 1]!.start ? { first: segments.length - 1, last: segments.length - 1 } : null;
  }
  return { first, last };
}
