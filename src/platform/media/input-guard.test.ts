import { describe, expect, it } from "vitest";
import {
  demuxerOf,
  durationCapS,
  frameLimit,
  maxPixelsFor,
  ownHlsInputArgs,
  ownSegmentInputArgs,
  sourceInputArgs,
  sourceInputOf,
} from "./input-guard.js";
import type { ProbeResult } from "./media.types.js";

const video = (width: number, height: number) => ({ width, height }) as NonNullable<ProbeResult["video"]>;

describe("input guard", () => {
  it("maps every accepted container to its demuxer, and nothing else", () => {
    expect(["mp4", "mov", "m4v", "mkv", "webm", "avi", "mpegts", "ogg"].map(demuxerOf)).toEqual(["mov", "mov", "mov", "matroska", "matroska", "avi", "mpegts", "ogg"]);
    expect(demuxerOf("other")).toBeNull();
    expect(demuxerOf("hls")).toBeNull();
    expect(demuxerOf(null)).toBeNull();
  });

  it("max_pixels: the larger of the aligned frame and the mpegvideo scratch buffer, plus 10 %", () => {
    expect(maxPixelsFor(1280, 720)).toBe(1_081_344); // 1280 × 768 × 1.1, exact (no float residue)
    expect(maxPixelsFor(1920, 1080)).toBe(2_297_856); // 1920 × 1088 × 1.1
    expect(maxPixelsFor(1066, 600)).toBe(765_952); // 1088 × 640 × 1.1
    expect(maxPixelsFor(640, 360)).toBe(270_336); // 640 × 384 × 1.1
    // below 280 lines the scratch buffer is larger: (align64(w) + 128) × 280 × 1.1
    expect(maxPixelsFor(320, 240)).toBe(137_984); // 448 × 280 × 1.1 (ffmpeg 5.1 checks 448 × 280 for a 320×240 MPEG-4)
    expect(maxPixelsFor(426, 240)).toBe(177_408); // 576 × 280 × 1.1
    expect(maxPixelsFor(16, 16)).toBe(59_136); // 192 × 280 × 1.1
    expect(maxPixelsFor(8192, 200)).toBe(2_562_560); // a panorama strip: 8320 × 280 × 1.1
    // the stream: probed 320×240, frames of 9600×9600 later
    expect(9600 * 9600).toBeGreaterThan(100 * maxPixelsFor(320, 240)!);
    expect(maxPixelsFor(0, 240)).toBeNull();
  });

  it("the duration cap and the frame limit after it", () => {
    expect(durationCapS(5)).toBe(6.1);
    expect(durationCapS(3)).toBe(4.06);
    expect(durationCapS(21_600)).toBe(22_033);
    expect(frameLimit(5, 25)).toBe(178); // ceil((6.1 + 1) × 25)
    expect(frameLimit(2, 30000 / 1001)).toBe(122); // ceil((3.04 + 1) × 29.97)
  });

  it("a source: local files, its demuxer only, bounded by its probe", () => {
    const probe = { container: "mkv", durationS: 5, video: video(320, 240) };
    expect(sourceInputOf(probe)).toEqual({ format: "matroska", maxPixels: 137_984, capS: 6.1 });
    expect(sourceInputArgs("/w/src", sourceInputOf(probe))).toEqual([
      "-protocol_whitelist", "file", "-format_whitelist", "matroska", "-f", "matroska", "-max_pixels", "137984", "-t", "6.100", "-i", "/w/src",
    ]);
    // a seek for a thumbnail, no cap
    expect(sourceInputArgs("/w/src", { ...sourceInputOf(probe), capS: null, seekS: 0.3 })).toEqual([
      "-protocol_whitelist", "file", "-format_whitelist", "matroska", "-f", "matroska", "-max_pixels", "137984", "-ss", "0.300", "-i", "/w/src",
    ]);
    // nothing known: still local files and the accepted demuxers only
    expect(sourceInputOf({ container: "other", durationS: 0, video: null })).toEqual({ format: null, maxPixels: null, capS: null });
    expect(sourceInputArgs("/w/src")).toEqual(["-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi,mpegts,ogg", "-i", "/w/src"]);
  });

  it("our own outputs: HLS playlists and segments", () => {
    expect(ownHlsInputArgs("/o/hls/240p/index.m3u8")).toEqual(["-protocol_whitelist", "file", "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", "/o/hls/240p/index.m3u8"]);
    expect(ownSegmentInputArgs("/o/seg_00000.ts")).toEqual(["-protocol_whitelist", "file", "-format_whitelist", "mpegts,mov", "-i", "/o/seg_00000.ts"]);
  });
});
