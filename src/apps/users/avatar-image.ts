/**
 * Avatar images: the upload is identified by its bytes (never by its name or declared type),
 * decoded by sharp, and re-encoded as square WebP at each size, so what we store and serve is an
 * image we produced (no EXIF/GPS, no polyglot files, no scripts).
 */
import { inspectUploadedImage, reencodeImage } from "../../lib/image.js";
import { AVATAR_SIZES, type AvatarSize } from "./user.schemas.js";

export { sniffImageType, type ImageKind } from "../../lib/image.js";

/** Upload limit (multipart file size). */
export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
/** Decompression-bomb guard: a 5 MB PNG can declare 100k x 100k pixels. */
export const AVATAR_MAX_PIXELS = 40_000_000;

/** Decodes, checks and re-encodes an uploaded image into one WebP per avatar size. */
export async function renderAvatars(input: Buffer): Promise<Record<AvatarSize, Buffer>> {
  const image = await inspectUploadedImage(input, { maxPixels: AVATAR_MAX_PIXELS });
  return reencodeImage(async () => {
    const out = {} as Record<AvatarSize, Buffer>;
    for (const size of AVATAR_SIZES) {
      // rotate() applies the EXIF orientation; the WebP encoder writes no metadata unless asked.
      out[size] = await image.open().rotate().resize(size, size, { fit: "cover" }).webp({ quality: 85 }).toBuffer();
    }
    return out;
  });
}
