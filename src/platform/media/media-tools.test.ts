import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledMediaTools, locateMedia, MediaToolsError, parseFfmpegVersion, systemMediaTools } from "./media-tools.js";

const DEBIAN = `ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers
built with gcc 12 (Debian 12.2.0-14+deb12u1)
libavutil      57. 28.100 / 57. 28.100
`;
const BUNDLED = `ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018 the FFmpeg developers
built with gcc 6.3.0 (Debian 6.3.0-18+deb9u1) 20170516
libavutil      56. 24.101 / 56. 24.101
libavcodec     58. 42.100 / 58. 42.100
`;

describe("parseFfmpegVersion", () => {
  it("reads release versions", () => {
    expect(parseFfmpegVersion(DEBIAN)).toEqual({ version: "5.1.9-0+deb12u1", major: 5, minor: 1 });
    expect(parseFfmpegVersion("ffmpeg version n4.4.2 Copyright\n")).toEqual({ version: "n4.4.2", major: 4, minor: 4 });
    expect(parseFfmpegVersion("ffmpeg version 7.1-static https://x\n")).toEqual({ version: "7.1-static", major: 7, minor: 1 });
    expect(parseFfmpegVersion("ffprobe version 6.0 Copyright\n")).toEqual({ version: "6.0", major: 6, minor: 0 });
  });

  it("maps git snapshot builds to a release by libavutil", () => {
    expect(parseFfmpegVersion(BUNDLED)).toEqual({ version: "4.1 (N-47683-g0e8eb07980-static)", major: 4, minor: 1 });
    expect(parseFfmpegVersion("ffmpeg version N-1-gabc\nlibavutil      56. 14.100 / 56. 14.100\n")).toMatchObject({ major: 4, minor: 0 });
    expect(parseFfmpegVersion("ffmpeg version git-2024\nlibavutil      59. 39.100 / 59. 39.100\n")).toMatchObject({ major: 7, minor: 1 });
  });

  it("rejects output that is not ffmpeg's", () => {
    expect(() => parseFfmpegVersion("hello")).toThrow(MediaToolsError);
    expect(() => parseFfmpegVersion("ffmpeg version N-1-gabc\n")).toThrow(/cannot tell/);
  });
});

describe("locating ffmpeg", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-media-tools-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds the system ffmpeg (Debian's on PATH)", async () => {
    const t = await systemMediaTools();
    expect(t).toMatchObject({ ffmpeg: "ffmpeg", ffprobe: "ffprobe", source: "system" });
    expect(t!.major).toBeGreaterThanOrEqual(5);
  });

  it("finds the bundled ffmpeg 4.1 and makes it executable", async () => {
    const t = await bundledMediaTools();
    expect(t).toMatchObject({ source: "bundled", major: 4, minor: 1 });
    expect(t.ffmpeg).toMatch(/@ffmpeg-installer\/linux-x64\/ffmpeg$/);
    expect((await stat(t.ffmpeg)).mode & 0o111).toBe(0o111);
    expect((await stat(t.ffprobe)).mode & 0o111).toBe(0o111);
  });

  it("prefers FFMPEG_PATH/FFPROBE_PATH, then PATH", async () => {
    const bundled = await bundledMediaTools();
    const env = await locateMedia({ media: { ffmpegPath: bundled.ffmpeg, ffprobePath: bundled.ffprobe } });
    expect(env).toMatchObject({ ffmpeg: bundled.ffmpeg, ffprobe: bundled.ffprobe, source: "env", major: 4, minor: 1 });
    const sys = await locateMedia({ media: {} });
    expect(sys).toMatchObject({ ffmpeg: "ffmpeg", source: "system" });
  });

  it("refuses a bad explicit path and an ffmpeg older than 4.1", async () => {
    await expect(locateMedia({ media: { ffmpegPath: path.join(dir, "missing") } })).rejects.toThrow(/FFMPEG_PATH=.*not an executable/);
    const old = path.join(dir, "ffmpeg-old");
    await writeFile(old, "#!/bin/sh\necho 'ffmpeg version 4.0.2 Copyright (c) 2000-2018'\n");
    await chmod(old, 0o755);
    await expect(locateMedia({ media: { ffmpegPath: old } })).rejects.toThrow(/4\.0\.2 .* too old: vidflux needs ffmpeg >= 4\.1/);
  });
});
