/**
 * Uploaded images (avatars, custom video posters): identified by their bytes (never by their name
 * or declared type), checked by reading the header with sharp, then re-encoded by the caller, so
 * what we store and serve is an image we produced (no EXIF/GPS, no polyglot files, no scripts).
 */
import type { Sharp } from "sharp";
import { AppError, payloadTooLarge, unsupportedMediaType } from "./errors.js";

export type ImageKind = "jpeg" | "png" | "gif" | "webp" | "avif";

const ascii = (buf: Buffer, start: number, end: number) => buf.subarray(start, end).toString("latin1");

/** The image type from the file signature (magic bytes), or null for anything else. */
export function sniffImageType(buf: Buffer): ImageKind | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return "jpeg";
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "png";
  if (buf.length >= 6 && (ascii(buf, 0, 6) === "GIF87a" || ascii(buf, 0, 6) === "GIF89a")) return "gif";
  if (buf.length >= 12 && ascii(buf, 0, 4) === "RIFF" && ascii(buf, 8, 12) === "WEBP") return "webp";
  // ISO-BMFF: [size]["ftyp"][major brand]...[compatible brands]; AVIF is major `avif`/`avis`, or lists one.
  if (buf.length >= 16 && ascii(buf, 4, 8) === "ftyp") {
    const boxSize = Math.min(buf.readUInt32BE(0), buf.length, 256);
    const brands: string[] = [ascii(buf, 8, 12)];
    for (let off = 16; off + 4 <= boxSize; off += 4) brands.push(ascii(buf, off, off + 4));
    if (brands.some((b) => b === "avif" || b === "avis")) return "avif";
  }
  return null;
}

// sharp reports AVIF as "heif" (its container); everything else by its own name.
const SHARP_FORMAT: Record<ImageKind, string> = { jpeg: "jpeg", png: "png", gif: "gif", webp: "webp", avif: "heif" };

export interface UploadedImage {
  kind: ImageKind;
  width: number;
  height: number;
  /** a fresh decoder of the image, with the pixel limit and strict decoding */
  open(): Sharp;
}

/**
 * Checks an uploaded image before any pixel is decoded: a known signature (415
 * `unsupported_image`), a header sharp reads as that same format (415 `invalid_image`), and at
 * most `maxPixels` pixels (413 `image_too_large`; decompression-bomb guard: a 5 MB PNG can declare
 * 100k x 100k pixels).
 */
export async function inspectUploadedImage(input: Buffer, opts: { maxPixels: number }): Promise<UploadedImage> {
  const kind = sniffImageType(input);
  if (!kind) throw unsupportedMediaType("The file is not a JPEG, PNG, GIF, WebP or AVIF image.", "unsupported_image");
  let width: number | undefined;
  let height: number | undefined;
  let format: string | undefined;
  try {
    // Header only (no pixels decoded), without the pixel limit so a bomb gets its own answer below.
    ({ width, height, format } = await (await loadSharp())(input, { limitInputPixels: false }).metadata());
  } catch {
    throw unsupportedMediaType("The image could not be read.", "invalid_image");
  }
  if (format !== SHARP_FORMAT[kind] || !width || !height) throw unsupportedMediaType("The image could not be read.", "invalid_image");
  if (width * height > opts.maxPixels) {
    throw payloadTooLarge(`The image is too large: at most ${opts.maxPixels} pixels.`, "image_too_large", { width, height });
  }
  const sharp = await loadSharp();
  return { kind, width, height, open: () => sharp(input, { limitInputPixels: opts.maxPixels, failOn: "error" }) };
}

/** Runs a re-encoding; a decoding failure (truncated or corrupt pixels) becomes 415 `invalid_image`. */
export async function reencodeImage<T>(encode: () => Promise<T>): Promise<T> {
  try {
    return await encode();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw unsupportedMediaType("The image could not be decoded.", "invalid_image");
  }
}

/** sharp (libvips, ~13 MB RSS) is loaded on the first image, not at start-up. */
type SharpFn = typeof import("sharp").default;
let sharpModule: Promise<SharpFn> | null = null;
function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import("sharp").then((m) => m.default);
  return sharpModule;
}
