import { describe, expect, it } from "vitest";
import { sniffContainer } from "./container-sniffer.js";

const ALL = ["mp4", "mov", "m4v", "mkv", "webm", "avi", "mpegts", "ogg"];
const pad = (b: Buffer | string, n = 1024) => {
  const head = typeof b === "string" ? Buffer.from(b, "latin1") : b;
  return Buffer.concat([head, Buffer.alloc(Math.max(0, n - head.length), 0x01)]);
};
const box = (type: string, brand: string) => {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(24, 0);
  b.write(type, 4, "latin1");
  b.write(brand, 8, "latin1");
  return b;
};
const ebml = (docType: string) => Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x80 | docType.length]), Buffer.from(docType)]);
function ts(stride: number, first: number): Buffer {
  const b = Buffer.alloc(stride * 6, 0xaa);
  for (let i = first; i < b.length; i += stride) b[i] = 0x47;
  return b;
}

describe("container sniffing", () => {
  it.each([
    ["ISO mp4", pad(box("ftyp", "isom")), "mp4"],
    ["QuickTime", pad(box("ftyp", "qt  ")), "mov"],
    ["M4V", pad(box("ftyp", "M4V ")), "m4v"],
    ["QuickTime without ftyp", pad(box("mdat", "xxxx")), "mov"],
    ["Matroska", pad(ebml("matroska")), "mkv"],
    ["WebM", pad(ebml("webm")), "webm"],
    ["AVI", pad(Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("AVI LIST")])), "avi"],
    ["MPEG-TS", ts(188, 0), "mpegts"],
    ["M2TS", ts(192, 4), "mpegts"],
    ["Ogg", pad("OggS\0\x02"), "ogg"],
  ])("accepts %s", (_name, head, container) => {
    expect(sniffContainer(head, false, ALL)).toEqual({ ok: true, container });
  });

  it.each([
    ["PNG", pad(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), "not_a_video"],
    ["JPEG", pad(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), "not_a_video"],
    ["ZIP", pad("PK\x03\x04"), "not_a_video"],
    ["ELF", pad("\x7fELF\x02\x01"), "not_a_video"],
    ["PDF", pad("%PDF-1.7"), "not_a_video"],
    ["HTML", pad("  <!DOCTYPE html><html>"), "not_a_video"],
    ["text", Buffer.from("hello world, this is not a video\n".repeat(40)), "not_a_video"],
    ["WAV", pad("RIFF\0\0\0\0WAVEfmt "), "not_a_video"],
    ["HEIC image", pad(box("ftyp", "heic")), "not_a_video"],
    ["FLV", pad("FLV\x01\x05"), "unsupported_container"],
    ["MPEG-PS", pad(Buffer.from([0, 0, 1, 0xba, 0x44])), "unsupported_container"],
    ["EBML of another kind", pad(ebml("foo")), "unsupported_container"],
    ["random", Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7919 + 13) % 251 | 0x80)), "not_a_video"],
  ])("refuses %s", (_name, head, code) => {
    const v = sniffContainer(head, false, ALL);
    expect(v).toMatchObject({ ok: false, code });
  });

  it("waits for more bytes when the head is too short to judge", () => {
    expect(sniffContainer(Buffer.from([0x1a, 0x45]), false, ALL)).toBeNull();
    expect(sniffContainer(ts(188, 0).subarray(0, 200), false, ALL)).toBeNull();
    expect(sniffContainer(Buffer.from("hello"), false, ALL)).toBeNull();
  });

  it("decides on what there is when the file is complete", () => {
    expect(sniffContainer(Buffer.alloc(0), true, ALL)).toMatchObject({ ok: false, code: "empty_file" });
    expect(sniffContainer(Buffer.from("hello"), true, ALL)).toMatchObject({ ok: false, code: "not_a_video" });
  });

  it("refuses an accepted family that the configuration disabled", () => {
    expect(sniffContainer(pad(ebml("webm")), false, ["mp4"])).toMatchObject({ ok: false, code: "unsupported_container" });
  });
});
