/**
 * Avatar images: the upload is identified by its bytes (never by its name or declared type),
 * decoded by sharp, and re-encoded as square WebP at each size, so what we store and serve is an
 * image we produced (no EXIF/GPS, no polyglot files, no scripts).
 */
import sharp, { type Metadata } from "sharp";
import { AppError, payloadTooLarge, unsupportedMediaType } from "../../lib/errors.js";
import { AVATAR_SIZES, type AvatarSize } from "./user.schemas.js";

/** Upload limit (multipart file size). */
export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
/** Decompression-bomb guard: a 5 MB PNG can declare 100k x 100k pixels. */
export const AVATAR_MAX_PIXELS = 40_000_000;

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

/** Decodes, checks and re-encodes an uploaded image into one WebP per avatar size. */
export async function renderAvatars(input: Buffer): Promise<Record<AvatarSize, Buffer>> {
  const kind = sniffImageType(input);
  if (!kind) throw unsupportedMediaType("The file is not a JPEG, PNG, GIF, WebP or AVIF image.", "unsupported_image");
  const open = () => sharp(input, { limitInputPixels: AVATAR_MAX_PIXELS, failOn: "error" });
  let meta: Metadata;
  try {
    // Header only (no pixels decoded), without the pixel limit so a bomb gets its own answer below.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw unsupportedMediaType("The image could not be read.", "invalid_image");
  }
  if (meta.format !== SHARP_FORMAT[kind] || !meta.width || !meta.height) {
    throw unsupportedMediaType("The image could not be read.", "invalid_image");
  }
  if (meta.width * meta.height > AVATAR_MAX_PIXELS) {
    throw payloadTooLarge(`The image is too large: at most ${AVATAR_MAX_PIXELS} pixels.`, "image_too_large", {
      width: meta.width,
      height: meta.height,
    });
  }
  try {
    const out = {} as Record<AvatarSize, Buffer>;
    for (const size of AVATAR_SIZES) {
      // rotate() applies the EXIF orientation; the WebP encoder writes no metadata unless asked.
      out[size] = await open().rotate().resize(size, size, { fit: "cover" }).webp({ quality: 85 }).toBuffer();
    }
    return out;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw unsupportedMediaType("The image could not be decoded.", "invalid_image");
  }
}
