import { describe, expect, it } from "vitest";
import { buildLadder, h264Level, outputFps, planAudio, tableBitrateKbps, type Rung } from "./ladder.js";
import { audioStream, probeOf, videoStream } from "./transcoder.fixtures.js";

const OPTS = { ladder: [240, 480, 720, 1080], maxFps: 60, segmentS: 4 };

const rung = (r: Partial<Rung> & Pick<Rung, "quality" | "width" | "height">): Rung => ({
  shortSide: Math.min(r.width, r.height),
  fps: 30,
  fpsArg: "30",
  gop: 120,
  videoBitrate: 0,
  maxrate: 0,
  bufsize: 0,
  profile: "high",
  level: "3.1",
  ...r,
});

describe("buildLadder", () => {
  it("landscape 720p: the configured rungs up to the source, never upscaled", () => {
    expect(buildLadder(probeOf(videoStream({ width: 1280, height: 720 })), OPTS)).toEqual([
      rung({ quality: "240p", width: 426, height: 240, videoBitrate: 400_000, maxrate: 600_000, bufsize: 800_000, profile: "main", level: "2.1" }),
      rung({ quality: "480p", width: 854, height: 480, videoBitrate: 1_200_000, maxrate: 1_800_000, bufsize: 2_400_000, level: "3.1" }),
      rung({ quality: "720p", width: 1280, height: 720, videoBitrate: 2_800_000, maxrate: 4_200_000, bufsize: 5_600_000, level: "3.1" }),
    ]);
  });

  it("portrait (rotated 1920x1080) is keyed by its short side", () => {
    const r = buildLadder(probeOf(videoStream({ width: 1920, height: 1080, rotation: 90 })), OPTS);
    expect(r.map((x) => [x.quality, x.width, x.height])).toEqual([
      ["240p", 240, 426],
      ["480p", 480, 854],
      ["720p", 720, 1280],
      ["1080p", 1080, 1920],
    ]);
    expect(r[3]).toMatchObject({ videoBitrate: 5_000_000, level: "4.0", profile: "high" });
  });

  it("a 600p source gets a 600p rung with an interpolated bitrate", () => {
    const r = buildLadder(probeOf(videoStream({ width: 1066, height: 600 })), OPTS);
    expect(r.map((x) => [x.quality, x.width, x.height, x.videoBitrate])).toEqual([
      ["240p", 426, 240, 400_000],
      ["480p", 852, 480, 1_200_000],
      ["600p", 1066, 600, 2_000_000],
    ]);
  });

  it("small sources: equal to the lowest rung, or one rung at their own size", () => {
    expect(buildLadder(probeOf(videoStream({ width: 320, height: 240 })), OPTS).map((x) => [x.quality, x.width, x.height])).toEqual([["240p", 320, 240]]);
    expect(buildLadder(probeOf(videoStream({ width: 160, height: 120 })), OPTS)).toEqual([
      rung({ quality: "120p", width: 160, height: 120, videoBitrate: 100_000, maxrate: 150_000, bufsize: 200_000, profile: "main", level: "2.1" }),
    ]);
    // odd sizes are evened down
    expect(buildLadder(probeOf(videoStream({ width: 175, height: 99 })), OPTS).map((x) => [x.quality, x.width, x.height])).toEqual([["98p", 172, 98]]);
  });

  it("above the top configured rung the ladder's top is the ceiling", () => {
    expect(buildLadder(probeOf(videoStream({ width: 2560, height: 1440 })), OPTS).map((x) => x.quality)).toEqual(["240p", "480p", "720p", "1080p"]);
    expect(buildLadder(probeOf(videoStream({ width: 1920, height: 1200 })), OPTS).at(-1)).toMatchObject({ quality: "1080p", width: 1728, height: 1080 });
  });

  it("keeps the display aspect ratio of anamorphic sources", () => {
    // 720x480 with SAR 32:27 displays as 853x480 (16:9)
    const r = buildLadder(probeOf(videoStream({ width: 720, height: 480, sar: [32, 27] })), OPTS);
    expect(r.map((x) => [x.quality, x.width, x.height])).toEqual([
      ["240p", 426, 240],
      ["480p", 852, 480],
    ]);
  });

  it("never exceeds the source's video bitrate", () => {
    const r = buildLadder(probeOf(videoStream({ width: 1280, height: 720, bitRate: 1_000_000 })), OPTS);
    expect(r.map((x) => x.videoBitrate)).toEqual([400_000, 1_000_000, 1_000_000]);
    // unknown stream bitrate: the container's minus audio
    const r2 = buildLadder(probeOf(videoStream({ width: 1280, height: 720 }), [audioStream(1, { bitRate: 200_000 })], { bitRate: 1_700_000 }), OPTS);
    expect(r2.map((x) => x.videoBitrate)).toEqual([400_000, 1_200_000, 1_500_000]);
  });

  it("caps the frame rate, gives VFR sources a constant one, and scales GOP and bitrate with it", () => {
    const r = buildLadder(probeOf(videoStream({ width: 1280, height: 720, fps: 59.94 })), { ...OPTS, maxFps: 30 });
    expect(r[2]).toMatchObject({ fps: 29.97, fpsArg: "30000/1001", gop: 120, videoBitrate: 2_800_000 });
    const hi = buildLadder(probeOf(videoStream({ width: 1280, height: 720, fps: 60 })), OPTS);
    expect(hi[2]).toMatchObject({ fps: 60, fpsArg: "60", gop: 240, videoBitrate: 4_200_000, level: "3.2" });
    const vfr = buildLadder(probeOf(videoStream({ width: 640, height: 360, fps: 29.6, isVfr: true })), { ...OPTS, segmentS: 2 });
    expect(vfr[0]).toMatchObject({ fps: 30, fpsArg: "30", gop: 60 });
  });

  it("refuses a source without video", () => {
    expect(() => buildLadder(probeOf(null), OPTS)).toThrow(/no video stream/);
  });
});

describe("outputFps", () => {
  it.each([
    [30, false, 60, 30, "30"],
    [29.97, false, 60, 29.97, "30000/1001"],
    [23.976, false, 60, 23.976, "24000/1001"],
    [25, false, 60, 25, "25"],
    [12.5, false, 60, 12.5, "25/2"],
    [0, false, 60, 30, "30"],
    [120, false, 60, 60, "60"],
    [50, false, 30, 25, "25"],
    [59.94, false, 30, 29.97, "30000/1001"],
    [29.6, true, 60, 30, "30"],
    [23.5, true, 60, 24, "24"],
    [58.1, true, 30, 30, "30"],
  ])("%f (vfr %s, max %i) → %f", (src, vfr, max, fps, arg) => {
    expect(outputFps(src, vfr, max)).toEqual({ fps, fpsArg: arg });
  });
});

describe("bitrate table and levels", () => {
  it("interpolates between table heights and scales outside it", () => {
    expect(tableBitrateKbps(240)).toBe(400);
    expect(tableBitrateKbps(360)).toBe(800);
    expect(tableBitrateKbps(600)).toBe(2000);
    expect(tableBitrateKbps(1080)).toBe(5000);
    expect(tableBitrateKbps(2160)).toBe(16000);
    expect(tableBitrateKbps(4320)).toBe(64000);
    expect(tableBitrateKbps(144)).toBe(144);
    expect(tableBitrateKbps(60)).toBe(100);
  });
  it("picks the lowest H.264 level that fits", () => {
    expect(h264Level(426, 240, 30, 600_000, "main")).toBe("2.1");
    expect(h264Level(640, 360, 30, 1_200_000, "main")).toBe("3.0");
    expect(h264Level(1280, 720, 30, 4_200_000, "high")).toBe("3.1");
    expect(h264Level(1280, 720, 60, 6_300_000, "high")).toBe("3.2");
    expect(h264Level(1920, 1080, 30, 7_500_000, "high")).toBe("4.0");
    expect(h264Level(1920, 1080, 30, 30_000_000, "high")).toBe("4.1");
    expect(h264Level(1920, 1080, 60, 11_250_000, "high")).toBe("4.2");
    expect(h264Level(3840, 2160, 30, 24_000_000, "high")).toBe("5.1");
    expect(h264Level(3840, 2160, 60, 36_000_000, "high")).toBe("5.2");
  });
});

describe("planAudio", () => {
  it("tags, default language, dirs and unique names", () => {
    const p = probeOf(videoStream({ width: 640, height: 360 }), [audioStream(1, { language: "eng" }), audioStream(2, { language: "fra", isDefault: false })]);
    expect(planAudio(p, null)).toEqual([
      { streamIndex: 1, language: "en", name: "English", dir: "en", isDefault: true },
      { streamIndex: 2, language: "fr", name: "français", dir: "fr", isDefault: false },
    ]);
    const untagged = probeOf(videoStream({ width: 640, height: 360 }), [audioStream(1, { isDefault: false })]);
    expect(planAudio(untagged, "de-DE")).toEqual([{ streamIndex: 1, language: "de", name: "Deutsch", dir: "de", isDefault: true }]);
    expect(planAudio(untagged, null)).toEqual([{ streamIndex: 1, language: "und", name: "Audio 1", dir: "0", isDefault: true }]);
  });

  it("the same language twice: position dirs, names told apart by title or number", () => {
    const p = probeOf(videoStream({ width: 640, height: 360 }), [
      audioStream(1, { language: "eng", isDefault: false }),
      audioStream(2, { language: "eng", title: "Commentary", isDefault: true }),
      audioStream(3, { language: "eng", isDefault: false }),
    ]);
    expect(planAudio(p, null)).toEqual([
      { streamIndex: 1, language: "en", name: "English", dir: "0", isDefault: false },
      { streamIndex: 2, language: "en", name: "English (Commentary)", dir: "1", isDefault: true },
      { streamIndex: 3, language: "en", name: "English 2", dir: "2", isDefault: false },
    ]);
  });
});
