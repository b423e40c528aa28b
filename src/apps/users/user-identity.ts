/**
 * How usernames and emails are normalized and compared. Usernames follow Django's
 * AbstractBaseUser.normalize_username (NFKC, so look-alike compatibility characters such as
 * "ﬁ" or full-width letters collapse) and are unique ignoring case through `username_key`.
 * Emails follow Django's normalize_email (trim, lower-case the domain; the local part is the
 * mail server's business) and are also refused when they differ only by case.
 */
import { fieldError } from "../../lib/errors.js";
import { USERNAME_MAX, USERNAME_MIN, USERNAME_PATTERN } from "./user.schemas.js";

const USERNAME_RE = new RegExp(USERNAME_PATTERN, "u");
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC");
}

export function usernameKey(username: string): string {
  return normalizeUsername(username).toLowerCase();
}

/** The normalized username, or a 400 naming the field. */
export function validUsername(raw: string): string {
  const u = normalizeUsername(raw);
  const length = [...u].length;
  if (length < USERNAME_MIN || length > USERNAME_MAX || !USERNAME_RE.test(u)) {
    throw fieldError("invalid_username", `Enter a valid username: ${USERNAME_MIN}-${USERNAME_MAX} letters, digits and @/./+/-/_ characters.`, "body", "username");
  }
  return u;
}

export function normalizeEmail(raw: string): string {
  const e = raw.trim();
  const at = e.lastIndexOf("@");
  if (at < 0) return e;
  return e.slice(0, at) + "@" + e.slice(at + 1).toLowerCase();
}

/** The normalized email, or a 400 naming the field. */
export function validEmail(raw: string): string {
  const e = normalizeEmail(raw);
  if (e.length > 254 || !EMAIL_RE.test(e)) throw fieldError("invalid_email", "Enter a valid email address.", "body", "email");
  return e;
}
