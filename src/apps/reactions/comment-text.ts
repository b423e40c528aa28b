/**
 * Comment text rules and the times written in it. Pure functions.
 *
 * The text is kept exactly as written apart from leading and trailing whitespace: it is plain
 * text, never HTML, so `<script>` is stored and returned as those eight characters and clients
 * render it as text. Lengths count Unicode code points (what a person sees as characters, an
 * emoji is one), not UTF-16 units (an emoji is two of those).
 */
import { fieldError } from "../../lib/errors.js";
import { MAX_COMMENT_CODE_POINTS } from "./reactions.schemas.js";

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Trims and checks a comment's text; throws a 400 with a stable code, else returns what is stored. */
export function normalizeCommentText(raw: string): string {
  // Null bytes: PostgreSQL text cannot hold them, and no client means one.
  if (raw.includes("\u0000")) throw fieldError("invalid_text", "The text may not contain null bytes.", "body", "text");
  // JSON's \ud800 escapes can smuggle half a character past the UTF-8 check; it is not text.
  if (LONE_SURROGATE.test(raw)) throw fieldError("invalid_text", "The text contains a lone surrogate (not valid Unicode).", "body", "text");
  const text = raw.trim();
  if (text.length === 0) throw fieldError("comment_empty", "The comment is empty.", "body", "text");
  const length = codePointLength(text);
  if (length > MAX_COMMENT_CODE_POINTS) {
    throw fieldError("comment_too_long", `A comment has at most ${MAX_COMMENT_CODE_POINTS} characters.`, "body", "text");
  }
  return text;
}

/**
 * `m:ss` (minutes up to 3 digits) or `h:mm:ss`, not inside a longer run of digits and colons
 * (`10:20:30:40` is no time, nor is the `12:30` of `112:30:5`).
 */
const TIME = /(?<![\d:])(?:(\d{1,2}):([0-5]\d)|(\d{1,3})):([0-5]\d)(?!\d|:\d)/g;

/** Seconds of each time written in the text that falls within the video, in order, once each. */
export function timeRefs(text: string, durationS: number | null): number[] {
  if (durationS === null || !(durationS > 0)) return [];
  const out: number[] = [];
  for (const m of text.matchAll(TIME)) {
    const s = m[1] !== undefined ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[4]) : Number(m[3]) * 60 + Number(m[4]);
    if (s <= durationS && !out.includes(s)) out.push(s);
  }
  return out;
}
