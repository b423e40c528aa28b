/**
 * Password validation like Django's AUTH_PASSWORD_VALIDATORS defaults: minimum length, not
 * entirely numeric, not a common password, not too similar to the username or email. Every
 * failing rule is reported; the error's code names the first one (the order of Django's list).
 */
import { existsSync, readFileSync } from "node:fs";
import { AppError } from "../../lib/errors.js";

export const MIN_PASSWORD_LENGTH = 8;
/** Django's UserAttributeSimilarityValidator.DEFAULT_MAX_SIMILARITY. */
export const MAX_SIMILARITY = 0.7;

export type PasswordRule = "password_too_short" | "password_entirely_numeric" | "password_too_common" | "password_too_similar";

export interface PasswordViolation {
  code: PasswordRule;
  message: string;
}

export interface UserAttributes {
  username?: string | undefined;
  email?: string | undefined;
  display_name?: string | undefined;
}

let commonPasswords: ReadonlySet<string> | null = null;

// Beside this module when run from src/ (tsx, vitest); tsc does not copy .txt files into dist/,
// so the compiled module (dist/apps/users/) falls back to the source tree of the same checkout.
const LIST_LOCATIONS = [new URL("./common-passwords.txt", import.meta.url), new URL("../../../src/apps/users/common-passwords.txt", import.meta.url)];

/** The list shipped beside this file, loaded once. */
export function commonPasswordSet(): ReadonlySet<string> {
  if (!commonPasswords) {
    const location = LIST_LOCATIONS.find((u) => existsSync(u));
    if (!location) throw new Error(`common-passwords.txt not found (looked in ${LIST_LOCATIONS.map((u) => u.pathname).join(", ")})`);
    const text = readFileSync(location, "utf8");
    commonPasswords = new Set(
      text
        .split("\n")
        .map((l) => l.trim().toLowerCase())
        .filter((l) => l && !l.startsWith("#")),
    );
  }
  return commonPasswords;
}

/**
 * Ratcliff/Obershelp similarity, as Python's `difflib.SequenceMatcher(None, a, b).ratio()`:
 * 2*M/T where M counts characters in the matching blocks found by recursively taking the longest
 * common substring. (No junk heuristic: Python only applies it when b has 200+ characters.)
 */
export function similarityRatio(a: string, b: string): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  return (2 * matchingCharacters(a, 0, a.length, b, 0, b.length)) / total;
}

function matchingCharacters(a: string, alo: number, ahi: number, b: string, blo: number, bhi: number): number {
  if (alo >= ahi || blo >= bhi) return 0;
  // Longest common substring of a[alo:ahi] and b[blo:bhi]; ties keep the earliest in a, then in b,
  // which is what SequenceMatcher.find_longest_match returns.
  let bestI = alo;
  let bestJ = blo;
  let bestSize = 0;
  let prev = new Array<number>(bhi - blo + 1).fill(0);
  for (let i = alo; i < ahi; i++) {
    const cur = new Array<number>(bhi - blo + 1).fill(0);
    for (let j = blo; j < bhi; j++) {
      if (a[i] === b[j]) {
        const k = prev[j - blo]! + 1;
        cur[j - blo + 1] = k;
        if (k > bestSize) {
          bestI = i - k + 1;
          bestJ = j - k + 1;
          bestSize = k;
        }
      }
    }
    prev = cur;
  }
  if (bestSize === 0) return 0;
  return (
    bestSize +
    matchingCharacters(a, alo, bestI, b, blo, bestJ) +
    matchingCharacters(a, bestI + bestSize, ahi, b, bestJ + bestSize, bhi)
  );
}

/** Upper bound of the ratio from character counts alone (SequenceMatcher.quick_ratio). */
function quickRatio(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const ch of b) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let matches = 0;
  for (const ch of a) {
    const n = counts.get(ch) ?? 0;
    if (n > 0) {
      matches++;
      counts.set(ch, n - 1);
    }
  }
  const total = a.length + b.length;
  return total === 0 ? 1 : (2 * matches) / total;
}

/**
 * Django skips a comparison when the password is so much longer than the attribute that the
 * ratio cannot reach the threshold meaningfully (a 10x longer password containing the value).
 */
function exceedsMaximumLengthRatio(password: string, value: string): boolean {
  return password.length >= 10 * value.length && value.length < (MAX_SIMILARITY / 2) * password.length;
}

function tooSimilar(password: string, attributes: UserAttributes): string | null {
  const pw = password.toLowerCase();
  const named: [string, string | undefined][] = [
    ["username", attributes.username],
    ["email address", attributes.email],
    ["display name", attributes.display_name],
  ];
  for (const [label, value] of named) {
    if (!value) continue;
    const lower = value.toLowerCase();
    // Like Django: the whole value and each of its word-separated parts ("alice", "example", "com").
    const parts = [...lower.split(/[^\p{L}\p{N}_]+/u).filter(Boolean), lower];
    for (const part of parts) {
      if (exceedsMaximumLengthRatio(pw, part)) continue;
      if (quickRatio(pw, part) >= MAX_SIMILARITY && similarityRatio(pw, part) >= MAX_SIMILARITY) return label;
    }
  }
  return null;
}

/** Every rule the password breaks, in Django's validator order (empty when it is acceptable). */
export function passwordViolations(password: string, attributes: UserAttributes = {}): PasswordViolation[] {
  const out: PasswordViolation[] = [];
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    out.push({ code: "password_too_short", message: `This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.` });
  }
  if (/^\d+$/.test(password)) {
    out.push({ code: "password_entirely_numeric", message: "This password is entirely numeric." });
  }
  if (commonPasswordSet().has(password.trim().toLowerCase())) {
    out.push({ code: "password_too_common", message: "This password is too common." });
  }
  const similar = tooSimilar(password, attributes);
  if (similar) {
    out.push({ code: "password_too_similar", message: `The password is too similar to the ${similar}.` });
  }
  return out;
}

/** Throws a 400 whose code names the first broken rule; its details list every broken rule as an entry of `field`. */
export function assertPasswordAcceptable(password: string, attributes: UserAttributes = {}, field = "password"): void {
  const violations = passwordViolations(password, attributes);
  if (violations.length > 0) {
    throw new AppError(400, violations[0]!.code, violations[0]!.message, violations.map((v) => ({ location: "body" as const, field, code: v.code, message: v.message })));
  }
}
