import { describe, expect, it } from "vitest";
import { buildStoryboardArgs, buildStoryboardVtt, planStoryboard, storyboardSize, vttTimestamp } from "./storyboard.js";

describe("storyboard plan", () => {
  it("one tile per whole second for short videos, N seconds so that <= 100 tiles for long ones", () => {
    expect(planStoryboard(3, { width: 426, height: 240 })).toMatchObject({ intervalS: 1, count: 3, columns: 3, rows: 1 });
    expect(planStoryboard(7.3, { width: 426, height: 240 })).toMatchObject({ intervalS: 1, count: 8, columns: 8, rows: 1 });
    expect(planStoryboard(100, { width: 426, height: 240 })).toMatchObject({ intervalS: 1, count: 100, columns: 10, rows: 10 });
    expect(planStoryboard(101, { width: 426, height: 240 })).toMatchObject({ intervalS: 2, count: 51, columns: 10, rows: 6 });
    expect(planStoryboard(7200, { width: 426, height: 240 })).toMatchObject({ intervalS: 72, count: 100, columns: 10, rows: 10 });
    expect(planStoryboard(7201, { width: 426, height: 240 })).toMatchObject({ intervalS: 73, count: 99 });
    for (const d of [0.4, 1, 59.9, 99.99, 100.01, 999, 3601, 86_400 * 3]) {
      const p = planStoryboard(d, { width: 1920, height: 1080 })!;
      expect(p.count).toBeLessThanOrEqual(100);
      expect(p.count).toBeGreaterThanOrEqual(1);
      expect((p.count - 1) * p.intervalS).toBeLessThan(d);
    }
  });

  it("does not plan a tile for a remainder of a frame or so (ffmpeg may not emit it)", () => {
    expect(planStoryboard(3.02, { width: 426, height: 240 })).toMatchObject({ intervalS: 1, count: 3 });
    expect(planStoryboard(3.1, { width: 426, height: 240 })).toMatchObject({ intervalS: 1, count: 4 });
  });

  it("letterboxes: aspect kept, even sizes, centred", () => {
    expect(planStoryboard(10, { width: 1920, height: 1080 })).toMatchObject({ pictureWidth: 160, pictureHeight: 90, offsetX: 0, offsetY: 0, tileWidth: 160, tileHeight: 90 });
    // portrait 9:16 → 50x90 (50.6 rounded to even), bars left and right
    expect(planStoryboard(10, { width: 720, height: 1280 })).toMatchObject({ pictureWidth: 50, pictureHeight: 90, offsetX: 54, offsetY: 0 });
    // 4:3 → 120x90
    expect(planStoryboard(10, { width: 320, height: 240 })).toMatchObject({ pictureWidth: 120, pictureHeight: 90, offsetX: 20, offsetY: 0 });
    // very wide 2.39:1 → 160x68 (67 → nearest even 68), bars top and bottom
    expect(planStoryboard(10, { width: 1920, height: 804 })).toMatchObject({ pictureWidth: 160, pictureHeight: 68, offsetX: 0, offsetY: 10 });
  });

  it("nothing to plan without a duration or a picture", () => {
    expect(planStoryboard(0, { width: 426, height: 240 })).toBeNull();
    expect(planStoryboard(Number.NaN, { width: 426, height: 240 })).toBeNull();
    expect(planStoryboard(Number.POSITIVE_INFINITY, { width: 426, height: 240 })).toBeNull();
    expect(planStoryboard(5, { width: 0, height: 240 })).toBeNull();
  });
});

describe("storyboard ffmpeg command", () => {
  it("one process: fps before scale, letterbox pad, tile, first sheet only", () => {
    const plan = planStoryboard(250, { width: 320, height: 240 })!;
    expect(plan).toMatchObject({ intervalS: 3, count: 84, columns: 10, rows: 9 });
    expect(buildStoryboardArgs("/j/out/hls/240p/index.m3u8", plan, "/j/extras/storyboard.jpg")).toEqual([
      "-y", "-v", "error",
      "-protocol_whitelist", "file", "-format_whitelist", "hls,mpegts,mov", "-f", "hls", "-i", "/j/out/hls/240p/index.m3u8",
      "-filter_complex", "[0:v:0]fps=1/3:round=up,scale=120:90,setsar=1,pad=160:90:20:0:black,tile=10x9[sb]",
      "-map", "[sb]",
      "-frames:v", "1",
      "-q:v", "4",
      "-f", "image2", "-update", "1",
      "/j/extras/storyboard.jpg",
    ]);
    expect(storyboardSize(plan)).toEqual({ width: 1600, height: 810 });
  });
});

describe("storyboard WebVTT", () => {
  it("cues of N seconds pointing into the sheet with #xywh, the last one ending at the duration", () => {
    const plan = planStoryboard(23.5, { width: 1280, height: 720 }, { maxColumns: 10 })!;
    expect(plan).toMatchObject({ intervalS: 1, count: 24, columns: 10, rows: 3 });
    const vtt = buildStoryboardVtt(plan);
    const lines = vtt.split("\n");
    expect(lines.slice(0, 9)).toEqual([
      "WEBVTT",
      "",
      "00:00:00.000 --> 00:00:01.000",
      "storyboard.jpg#xywh=0,0,160,90",
      "",
      "00:00:01.000 --> 00:00:02.000",
      "storyboard.jpg#xywh=160,0,160,90",
      "",
      "00:00:02.000 --> 00:00:03.000",
    ]);
    // the 11th tile starts the second row
    expect(vtt).toContain("00:00:10.000 --> 00:00:11.000\nstoryboard.jpg#xywh=0,90,160,90\n");
    expect(vtt.endsWith("00:00:23.000 --> 00:00:23.500\nstoryboard.jpg#xywh=480,180,160,90\n")).toBe(true);
    expect(vtt.match(/-->/g)).toHaveLength(24);
  });

  it("a custom image URI and hour-long timestamps", () => {
    const plan = planStoryboard(7200, { width: 1920, height: 1080 })!;
    const vtt = buildStoryboardVtt(plan, "sheet.webp");
    expect(vtt).toContain("01:58:48.000 --> 02:00:00.000\nsheet.webp#xywh=1440,810,160,90\n");
    expect(vttTimestamp(0)).toBe("00:00:00.000");
    expect(vttTimestamp(3599.9996)).toBe("01:00:00.000");
    expect(vttTimestamp(90_000.25)).toBe("25:00:00.250");
  });
});
