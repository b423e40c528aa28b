/**
 * From what the client says about a file (tus Upload-Metadata, or multipart fields) to the
 * Video's fields. Nothing here is trusted: `filetype` is ignored (the bytes are sniffed), the
 * filename is kept for display only, reduced to a clean last path segment, and never used as a path.
 */
import { validationError, type InputProblem } from "../../lib/errors.js";
import { VISIBILITIES, type Visibility } from "../videos/index.js";

export interface VideoFields {
  title: string;
  description: string;
  visibility: Visibility;
  language: string | null;
  originalFilename: string;
}

export const METADATA_KEYS = ["filename", "filetype", "title", "description", "visibility", "language", "name", "type"] as const;

const TITLE_MAX = 200;
const DESCRIPTION_MAX = 5_000;
const FILENAME_MAX = 255;
const LANGUAGE_RE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$/;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

const chars = (s: string): number => [...s].length;
const cut = (s: string, n: number): string => [...s].slice(0, n).join("");

/**
 * A filename for display: last segment of either slash style, no control or bidi-override
 * characters (which can disguise `exe.mp4` as `mp4.exe`), NFC, at most 255 characters.
 */
export function displayFilename(raw: string | undefined): string {
  if (!raw) return "";
  const last = raw.normalize("NFC").split(/[/\\]/).pop() ?? "";
  const clean = last.replace(CONTROL, "").trim();
  if (clean === "." || clean === "..") return "";
  return cut(clean, FILENAME_MAX);
}

function titleFromFilename(name: string): string {
  const stem = name.replace(/\.[A-Za-z0-9]{1,5}$/, "").trim();
  return cut(stem, TITLE_MAX);
}

/** Validates the fields; `location` names where they came from in error details (`metadata`, `body`). */
export function videoFields(values: Record<string, string | undefined>, location: "metadata" | "body"): VideoFields {
  const errors: InputProblem[] = [];
  // tus-js-client and Uppy send `filename`; some clients `name`.
  const originalFilename = displayFilename(values.filename ?? values.name);
  const rawTitle = values.title?.replace(CONTROL, "").trim();
  let title = rawTitle && rawTitle.length > 0 ? rawTitle : titleFromFilename(originalFilename) || "Untitled video";
  if (rawTitle !== undefined && chars(rawTitle) > TITLE_MAX) errors.push({ location, field: "title", code: "max_length", message: `must be at most ${TITLE_MAX} characters` });
  title = title.normalize("NFC");
  const description = (values.description ?? "").replace(/\r\n/g, "\n").normalize("NFC");
  if (chars(description) > DESCRIPTION_MAX) errors.push({ location, field: "description", code: "max_length", message: `must be at most ${DESCRIPTION_MAX} characters` });
  const visibility = (values.visibility?.trim() || "public") as Visibility;
  if (!(VISIBILITIES as readonly string[]).includes(visibility)) {
    errors.push({ location, field: "visibility", code: "enum", message: `must be one of ${VISIBILITIES.join(", ")}` });
  }
  const lang = values.language?.trim();
  if (lang && (!LANGUAGE_RE.test(lang) || lang.length > 35)) errors.push({ location, field: "language", code: "pattern", message: "must be a BCP 47 language tag such as en or fr-CA" });
  if (errors.length) throw validationError(errors);
  return { title, description, visibility, language: lang || null, originalFilename };
}
