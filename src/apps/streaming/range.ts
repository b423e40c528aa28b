/**
 * HTTP range requests (RFC 9110 §14) and conditional requests (RFC 9110 §13), as pure functions
 * of the request headers and the representation's size and validators. The streaming routes ask
 * `planResponse()` what to answer (200, 206 single/multipart, 304, 412, 416) and only then touch
 * storage, so every decision here is unit-tested without I/O.
 *
 * The Range grammar is ours rather than `range-parser`'s (1.3): that package answers -1
 * (unsatisfiable, 416) to `bytes=-5000` on 1000 bytes where RFC 9110 §14.1.1 says a suffix longer
 * than the representation selects all of it, and to `bytes=5-1` where §14.1.1 makes the specifier
 * invalid (ignored: 200); it drops an invalid spec inside a list instead of ignoring the header,
 * rejects the empty list elements (`0-1,,2-3`) §5.6.1 says to accept, answers 416 to `bytes=-N` on
 * an empty representation, and has no cap on the number of ranges.
 */
import type { ByteRange } from "../../platform/storage/storage.js";

export type { ByteRange };

/** What the server knows about the selected representation. */
export interface Representation {
  size: number;
  /** strong entity tag, quoted (`"abc"`), or null when the representation has none */
  etag: string | null;
  /** last modification time, ms since epoch, or null */
  lastModifiedMs: number | null;
}

/** The request fields this module reads (raw header values; undefined when absent). */
export interface ConditionalRequest {
  method: string;
  range?: string | undefined;
  ifRange?: string | undefined;
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

/** More range-specs than this and the Range header is ignored (a full 200 is sent). */
export const DEFAULT_MAX_RANGES = 20;

// ---------------------------------------------------------------------------------------------
// HTTP-date (RFC 9110 §5.6.7)
// ---------------------------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_NAMES_L = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT   e.g. Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = /^([A-Z][a-z]{2}), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT   e.g. Sunday, 06-Nov-94 08:49:37 GMT
const RFC850_DATE = /^([A-Z][a-z]+), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// asctime-date = day-name SP date3 SP time-of-day SP year   e.g. Sun Nov  6 08:49:37 1994
const ASCTIME_DATE = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utc(year: number, monthName: string, day: number, h: number, m: number, s: number): number | null {
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  // §5.6.7 allows a leap second (60); Date has none, so it folds into the next minute.
  const ms = Date.UTC(year, month, day, h, m, s);
  // Reject impossible calendar dates (31 Feb) instead of letting Date roll them over.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
  return ms;
}

/**
 * Parses an HTTP-date. §5.6.7: "A recipient that parses a timestamp value in an HTTP field MUST
 * accept all three HTTP-date formats." Returns ms since epoch, or null when invalid. `now` only
 * serves the rfc850 two-digit-year rule.
 */
export function parseHttpDate(value: string, now = Date.now()): number | null {
  const v = value.trim();
  let m = IMF_FIXDATE.exec(v);
  if (m) {
    if (!DAY_NAMES.includes(m[1]!)) return null;
    return utc(Number(m[4]), m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = RFC850_DATE.exec(v);
  if (m) {
    if (!DAY_NAMES_L.includes(m[1]!)) return null;
    // §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a two-digit year,
    // MUST interpret a timestamp that appears to be more than 50 years in the future as
    // representing the most recent year in the past that had the same last two digits."
    const yy = Number(m[4]);
    const nowYear = new Date(now).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    return utc(year, m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME_DATE.exec(v);
  if (m) {
    if (!DAY_NAMES.includes(m[1]!)) return null;
    return utc(Number(m[7]), m[2]!, Number(m[3]!.trim()), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return null;
}

/** IMF-fixdate, the format §5.6.7 says senders MUST generate. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** HTTP dates have one-second resolution; comparisons use the truncated value. */
function toSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Entity tags (RFC 9110 §8.8.3)
// ---------------------------------------------------------------------------------------------

export interface EntityTag {
  weak: boolean;
  /** the opaque-tag including its double quotes */
  opaque: string;
}

// entity-tag = [ weak ] opaque-tag ; weak = %s"W/" ; opaque-tag = DQUOTE *etagc DQUOTE
// etagc = %x21 / %x23-7E / obs-text   (a comma is a legal etagc, so lists cannot be split on ",")
const ETAG_RE = /^(W\/)?("[\x21\x23-\x7e\x80-\xff]*")$/;
const ETAG_LIST_ITEM = /(W\/)?("[\x21\x23-\x7e\x80-\xff]*")/y;

export function parseEntityTag(value: string): EntityTag | null {
  const m = ETAG_RE.exec(value.trim());
  return m ? { weak: !!m[1], opaque: m[2]! } : null;
}

/**
 * Parses `If-Match` / `If-None-Match`: "*" or `1#entity-tag`. Returns "*", the tags, or null for a
 * malformed field. §5.6.1: empty list elements are accepted and ignored.
 */
export function parseEntityTagList(value: string): "*" | EntityTag[] | null {
  const v = value.trim();
  if (v === "*") return "*";
  const out: EntityTag[] = [];
  let i = 0;
  const skipOws = () => {
    while (i < v.length && (v[i] === " " || v[i] === "\t")) i++;
  };
  while (i < v.length) {
    skipOws();
    if (v[i] === ",") {
      i++;
      continue;
    }
    if (i >= v.length) break;
    ETAG_LIST_ITEM.lastIndex = i;
    const m = ETAG_LIST_ITEM.exec(v);
    if (!m) return null;
    out.push({ weak: !!m[1], opaque: m[2]! });
    i = ETAG_LIST_ITEM.lastIndex;
    skipOws();
    if (i < v.length && v[i] !== ",") return null;
  }
  return out.length ? out : null;
}

/** §8.8.3.2: strong comparison: "both entity tags are not weak and their opaque-tags match character-by-character". */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** §8.8.3.2: weak comparison: "their opaque-tags match character-by-character, regardless of either or both being tagged as weak". */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

// ---------------------------------------------------------------------------------------------
// Preconditions (RFC 9110 §13.1, evaluated in the order of §13.2.2)
// ---------------------------------------------------------------------------------------------

export type PreconditionResult = "proceed" | 304 | 412;

/**
 * §13.2.2 "Precedence of Preconditions", for a representation that exists:
 *  1. If-Match present: false → 412.
 *  2. Else If-Unmodified-Since present: false → 412.
 *  3. If-None-Match present: false → 304 for GET/HEAD, else 412.
 *  4. Else, GET/HEAD with If-Modified-Since: false → 304.
 * (Step 5, If-Range, only decides whether Range applies: see `ifRangeHolds`.)
 */
export function evaluatePreconditions(req: ConditionalRequest, rep: Representation, now = Date.now()): PreconditionResult {
  const method = req.method.toUpperCase();
  const getOrHead = method === "GET" || method === "HEAD";
  const current = rep.etag ? parseEntityTag(rep.etag) : null;
  const lastMod = rep.lastModifiedMs === null ? null : toSeconds(rep.lastModifiedMs);

  if (req.ifMatch !== undefined) {
    // §13.1.1: "If the field value is "*", the condition is true if the origin server has a
    // current representation"; otherwise true only if one listed tag matches using the STRONG
    // comparison function. A malformed field matches nothing.
    const list = parseEntityTagList(req.ifMatch);
    const ok = list === "*" ? true : !!list && !!current && list.some((t) => strongMatch(t, current));
    if (!ok) return 412;
  } else if (req.ifUnmodifiedSince !== undefined && lastMod !== null) {
    // §13.1.4: ignored when If-Match is present or the value is not a valid HTTP-date; false
    // when the representation was modified after the given date.
    const date = parseHttpDate(req.ifUnmodifiedSince, now);
    if (date !== null && lastMod > date) return 412;
  }

  if (req.ifNoneMatch !== undefined) {
    // §13.1.2: "A recipient MUST use the weak comparison function when comparing entity tags for
    // If-None-Match"; "*" is false when a current representation exists. §13.2.2 step 3: when
    // false, "respond 304 (Not Modified) if the request method is GET or HEAD; otherwise, respond
    // 412". A malformed field is treated as listing nothing (condition true).
    const list = parseEntityTagList(req.ifNoneMatch);
    const matched = list === "*" ? true : !!list && !!current && list.some((t) => weakMatch(t, current));
    if (matched) return getOrHead ? 304 : 412;
  } else if (getOrHead && req.ifModifiedSince !== undefined && lastMod !== null) {
    // §13.1.3: "A recipient MUST ignore If-Modified-Since if the request contains an If-None-Match
    // header field", if the value "is not a valid HTTP-date", if it "has more than one member"
    // (a second date fails the full-string parse), or if the method is neither GET nor HEAD.
    // "If the selected representation's last modification date is earlier or equal to the date
    // provided in the field value, the condition is false."
    const date = parseHttpDate(req.ifModifiedSince, now);
    if (date !== null && lastMod <= date) return 304;
  }
  return "proceed";
}

/**
 * §13.1.5 If-Range: true when the Range header should be honoured.
 * - entity-tag: "the condition is true if the entity-tag validator provided exactly matches the
 *   ETag field value for the selected representation using the strong comparison function".
 *   A weak tag can never match ("A client MUST NOT generate an If-Range header field containing an
 *   entity tag that is marked as weak").
 * - HTTP-date: "If the HTTP-date validator provided is not a strong validator in the sense defined
 *   by Section 8.8.2.2, the condition is false"; it is true when it "exactly matches the
 *   Last-Modified field value". §8.8.2.2 lets the server deem a Last-Modified strong when it
 *   knows the representation did not change twice within that second: here, when the
 *   modification is at least one second in the past.
 */
export function ifRangeHolds(ifRange: string, rep: Representation, now = Date.now()): boolean {
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith("W/")) {
    const tag = parseEntityTag(v);
    const current = rep.etag ? parseEntityTag(rep.etag) : null;
    return !!tag && !!current && strongMatch(tag, current);
  }
  const date = parseHttpDate(v, now);
  if (date === null || rep.lastModifiedMs === null) return false;
  const lastMod = toSeconds(rep.lastModifiedMs);
  return date === lastMod && now - rep.lastModifiedMs >= 1000;
}

// ---------------------------------------------------------------------------------------------
// Range (RFC 9110 §14.1, §14.2)
// ---------------------------------------------------------------------------------------------

export type RangeParse =
  /** no usable Range: absent, unknown unit, invalid ranges-specifier, or too many ranges → 200 */
  | { kind: "ignore" }
  /** valid but no range-spec is satisfiable → 416 */
  | { kind: "unsatisfiable" }
  /** satisfiable ranges resolved against the size, coalesced, in request order */
  | { kind: "ranges"; ranges: ByteRange[] };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * Parses `Range` against a representation of `size` bytes.
 *
 *   ranges-specifier = range-unit "=" range-set
 *   range-set        = 1#range-spec
 *   range-spec       = int-range / suffix-range / other-range
 *   int-range        = first-pos "-" [ last-pos ]
 *   suffix-range     = "-" suffix-length
 */
export function parseRange(value: string | undefined, size: number, maxRanges = DEFAULT_MAX_RANGES): RangeParse {
  if (value === undefined) return { kind: "ignore" };
  const eq = value.indexOf("=");
  if (eq <= 0) return { kind: "ignore" };
  const unit = value.slice(0, eq).trim();
  // §14.1: range units are compared case-insensitively; §14.2: "An origin server MUST ignore a
  // Range header field that contains a range unit it does not understand."
  if (!TOKEN.test(unit) || unit.toLowerCase() !== "bytes") return { kind: "ignore" };
  // §5.6.1: list elements are separated by OWS "," OWS and "a recipient MUST accept empty list
  // elements" (e.g. `bytes=0-1,,2-3`); at least one non-empty element is required (1#).
  const specs = value
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length === 0) return { kind: "ignore" };
  // §14.2: a server "MAY ignore or reject a Range header field that contains ... a set of many
  // small ranges", "indications of either a broken client or a deliberate denial-of-service attack".
  if (specs.length > maxRanges) return { kind: "ignore" };

  const satisfiable: ByteRange[] = [];
  let emptySuffixOnEmpty = false;
  for (const spec of specs) {
    let m = INT_RANGE.exec(spec);
    if (m) {
      const first = Number(m[1]);
      const last = m[2] === "" ? null : Number(m[2]);
      // §14.1.1: "A ranges-specifier is invalid if it contains any range-spec that is invalid";
      // an int-range is invalid "if the last-pos value is present and less than the first-pos".
      if (last !== null && last < first) return { kind: "ignore" };
      // §14.1.1: an int-range is satisfiable when its "first-pos ... is less than the current
      // length"; "If the last-pos value is absent, or if the value is greater than or equal to the
      // current length of the representation data, the byte range is interpreted as the
      // remainder of the representation".
      if (first < size) satisfiable.push({ start: first, end: last === null || last >= size ? size - 1 : last });
      continue;
    }
    m = SUFFIX_RANGE.exec(spec);
    if (m) {
      const len = Number(m[1]);
      // §14.1.1: a suffix-range is satisfiable when it has "a non-zero suffix-length"; "If the
      // selected representation is shorter than the specified suffix-length, the entire
      // representation is used."
      if (len === 0) continue;
      // "When a selected representation has zero length, the only satisfiable form of range-spec
      // is a suffix-range with a non-zero suffix-length": there are no bytes to describe in a
      // Content-Range, so the (empty) full representation is sent with 200 instead.
      if (size === 0) {
        emptySuffixOnEmpty = true;
        continue;
      }
      satisfiable.push({ start: Math.max(0, size - len), end: size - 1 });
      continue;
    }
    // other-range (any other syntax) is undefined for the bytes unit: the whole specifier is invalid.
    return { kind: "ignore" };
  }
  if (satisfiable.length === 0) return emptySuffixOnEmpty ? { kind: "ignore" } : { kind: "unsatisfiable" };
  return { kind: "ranges", ranges: coalesceRanges(satisfiable) };
}

/**
 * §15.3.7.2: "When multiple ranges are requested, a server MAY coalesce any of the ranges that
 * overlap, or that are separated by a gap that is smaller than the overhead of sending multiple
 * parts", and "SHOULD send the parts in the same order that the corresponding range-spec appeared
 * in the received Range header field, excluding those ranges that were deemed unsatisfiable or
 * that were coalesced into other ranges". Overlapping and adjacent ranges (and gaps shorter than
 * `gap` bytes) merge into the position of the earliest of them; the rest keep request order.
 */
export function coalesceRanges(ranges: ByteRange[], gap = 80): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    let cur = { ...r };
    let at = -1;
    for (let i = 0; i < out.length; i++) {
      const o = out[i]!;
      if (cur.start <= o.end + 1 + gap && o.start <= cur.end + 1 + gap) {
        cur = { start: Math.min(o.start, cur.start), end: Math.max(o.end, cur.end) };
        if (at === -1) {
          at = i;
        } else {
          // Merged with a later part too: drop that part, the earlier position wins.
          out.splice(i, 1);
          i--;
        }
        out[at] = cur;
      }
    }
    if (at === -1) out.push(cur);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// multipart/byteranges (RFC 9110 §14.6)
// ---------------------------------------------------------------------------------------------

export interface MultipartPlan {
  contentType: string;
  /** exact body length, for Content-Length */
  length: number;
  /** each part's header (preceded by CRLF for all but the first) and its range */
  parts: { head: Buffer; range: ByteRange }[];
  /** the close-delimiter */
  tail: Buffer;
}

/**
 * Lays out a multipart/byteranges body. §14.6: each body part carries its own Content-Range and
 * Content-Type; RFC 2046 §5.1.1 makes the CRLF before each delimiter part of the delimiter.
 */
export function multipartPlan(ranges: ByteRange[], size: number, partType: string, boundary: string): MultipartPlan {
  const parts = ranges.map((range, i) => ({
    head: Buffer.from(`${i === 0 ? "" : "\r\n"}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${range.start}-${range.end}/${size}\r\n\r\n`, "latin1"),
    range,
  }));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, "latin1");
  const length = parts.reduce((n, p) => n + p.head.length + (p.range.end - p.range.start + 1), 0) + tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, parts, tail };
}

// ---------------------------------------------------------------------------------------------
// The whole decision
// ---------------------------------------------------------------------------------------------

export type ResponsePlan =
  | { status: 304 }
  | { status: 412 }
  | { status: 416; contentRange: string }
  | { status: 200 }
  | { status: 206; range: ByteRange; contentRange: string }
  | { status: 206; ranges: ByteRange[] };

/**
 * Decides the response for a GET/HEAD of a representation: preconditions first (§13.2.2 steps
 * 1-4), then If-Range (step 5) and Range (§14.2).
 */
export function planResponse(req: ConditionalRequest, rep: Representation, opts: { now?: number; maxRanges?: number } = {}): ResponsePlan {
  const now = opts.now ?? Date.now();
  const pre = evaluatePreconditions(req, rep, now);
  if (pre === 304) return { status: 304 };
  if (pre === 412) return { status: 412 };
  // §14.2: "A server MUST ignore a Range header field received with a request method that is
  // unrecognized or for which range handling is not defined. For this specification, GET is the
  // only method for which range handling is defined." (HEAD therefore answers 200.)
  if (req.method.toUpperCase() !== "GET" || req.range === undefined) return { status: 200 };
  // §13.1.5: "A server MUST ignore an If-Range header field received in a request that does not
  // contain a Range header field" (handled above) and, when the condition is false, "the server
  // SHOULD ignore the Range header field and respond with the selected representation" (200).
  if (req.ifRange !== undefined && !ifRangeHolds(req.ifRange, rep, now)) return { status: 200 };
  const parsed = parseRange(req.range, rep.size, opts.maxRanges);
  switch (parsed.kind) {
    case "ignore":
      return { status: 200 };
    case "unsatisfiable":
      // §14.4: "A server generating a 416 (Range Not Satisfiable) response to a byte-range
      // request SHOULD send a Content-Range header field with an unsatisfied-range value":
      // `bytes */complete-length`.
      return { status: 416, contentRange: `bytes */${rep.size}` };
    case "ranges": {
      // §15.3.7.2: "A server MUST NOT generate a multipart response to a request for a single
      // range" (a set coalesced into one range is sent as a single part too).
      if (parsed.ranges.length === 1) {
        const r = parsed.ranges[0]!;
        return { status: 206, range: r, contentRange: `bytes ${r.start}-${r.end}/${rep.size}` };
      }
      return { status: 206, ranges: parsed.ranges };
    }
  }
}

/** The validator and range headers every 200/206/304 of a representation carries. */
export function validatorHeaders(rep: Representation): Record<string, string> {
  const h: Record<string, string> = {};
  if (rep.etag) h.etag = rep.etag;
  if (rep.lastModifiedMs !== null) h["last-modified"] = formatHttpDate(rep.lastModifiedMs);
  return h;
}
