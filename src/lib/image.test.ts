import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { inspectUploadedImage, reencodeImage, sniffImageType } from "./image.js";

const make = (format: "png" | "jpeg" | "gif" | "webp" | "avif") =>
  sharp({ create: { width: 40, height: 30, channels: 3, background: "#336699" } }).toFormat(format).toBuffer();

describe("uploaded images", () => {
  it("sniffs by signature, never by name", async () => {
    for (const f of ["png", "jpeg", "gif", "webp", "avif"] as const) expect(sniffImageType(await make(f))).toBe(f);
    expect(sniffImageType(Buffer.from("<svg/>"))).toBeNull();
    expect(sniffImageType(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImageType(Buffer.alloc(0))).toBeNull();
  });

  it("checks the header: unknown 415, unreadable 415, too many pixels 413", async () => {
    const png = await make("png");
    await expect(inspectUploadedImage(png, { maxPixels: 10_000 })).resolves.toMatchObject({ kind: "png", width: 40, height: 30 });
    await expect(inspectUploadedImage(Buffer.from("GIF89a but not really"), { maxPixels: 10_000 })).rejects.toMatchObject({ status: 415, code: "invalid_image" });
    await expect(inspectUploadedImage(Buffer.from("hello"), { maxPixels: 10_000 })).rejects.toMatchObject({ status: 415, code: "unsupported_image" });
    await expect(inspectUploadedImage(png, { maxPixels: 1000 })).rejects.toMatchObject({ status: 413, code: "image_too_large", details: { width: 40, height: 30 } });
  });

  it("a decoding failure while re-encoding is 415 invalid_image", async () => {
    // noise: the entropy-coded pixels are the bulk of the file, so a cut lands in them
    const noise = Buffer.from(Array.from({ length: 200 * 150 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 200, height: 150, channels: 3 } }).jpeg().toBuffer();
    // a truncated JPEG: its header reads fine, its pixels do not
    const image = await inspectUploadedImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), { maxPixels: 100_000 });
    await expect(reencodeImage(() => image.open().jpeg().toBuffer())).rejects.toMatchObject({ status: 415, code: "invalid_image" });
    await expect(reencodeImage(async () => 42)).resolves.toBe(42);
  });
});
