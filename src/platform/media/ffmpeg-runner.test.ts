import { describe, expect, it } from "vitest";
import { limitInStderr, parseProgressBlock, runFfmpeg } from "./ffmpeg-runner.js";
import { systemMediaTools } from "./media-tools.js";

const block = (lines: Record<string, string>) =>
  Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n") + "\n";

describe("parseProgressBlock", () => {
  it("reads out_time_us, speed and computes percent and eta", () => {
    const b = block({
      frame: "45",
      fps: "0.00",
      stream_0_0_q: "-1.0",
      bitrate: "N/A",
      total_size: "N/A",
      out_time_us: "1500000",
      out_time_ms: "1500000",
      out_time: "00:00:01.500000",
      dup_frames: "0",
      drop_frames: "0",
      speed: "  1.5x",
      progress: "continue",
    });
    expect(parseProgressBlock(b, 6)).toEqual({ percent: 25, eta_s: 3, outTimeS: 1.5, speed: 1.5, frame: 45, done: false });
  });

  it("treats out_time_ms as microseconds (ffmpeg quirk) when out_time_us is absent", () => {
    expect(parseProgressBlock(block({ out_time_ms: "2000000", speed: "2x", progress: "continue" }), 10)).toEqual({
      percent: 20, eta_s: 4, outTimeS: 2, speed: 2, frame: 0, done: false,
    });
  });

  it("falls back to out_time and handles N/A and negative starts", () => {
    expect(parseProgressBlock(block({ out_time_us: "N/A", out_time: "00:01:05.250000", speed: "N/A", progress: "continue" }), 130)).toEqual({
      percent: 50.2, eta_s: null, outTimeS: 65.25, speed: null, frame: 0, done: false,
    });
    expect(parseProgressBlock(block({ out_time_us: "-23220", out_time: "-00:00:00.023220", speed: "N/A", progress: "continue" }), 10)).toEqual({
      percent: 0, eta_s: null, outTimeS: 0, speed: null, frame: 0, done: false,
    });
  });

  it("progress=end is 100% with no time left; never 100 before the end", () => {
    expect(parseProgressBlock(block({ frame: "90", out_time_us: "3029333", speed: "21x", progress: "end" }), 3)).toEqual({
      percent: 100, eta_s: 0, outTimeS: 3.029333, speed: 21, frame: 90, done: true,
    });
    expect(parseProgressBlock(block({ out_time_us: "3010000", speed: "3x", progress: "continue" }), 3)?.percent).toBe(99.9);
  });

  it("without a duration gives no percent/eta, and null without a progress line", () => {
    expect(parseProgressBlock(block({ frame: "3", out_time_us: "120000", speed: "0.5x", progress: "continue" }))).toEqual({
      percent: null, eta_s: null, outTimeS: 0.12, speed: 0.5, frame: 3, done: false,
    });
    expect(parseProgressBlock("frame=1\nout_time_us=1\n", 5)).toBeNull();
  });
});

describe("bounds of a run", () => {
  it("reads a max_pixels refusal from stderr (the words of 4.1 and 5.1)", () => {
    const line =
      "[h264 @ 0x558d9ecfc6c0] [IMGUTILS @ 0x7f6b60be7450] Picture size 8000x8000 exceeds specified max pixel count 90112, see the documentation if you wish to increase it\n";
    expect(limitInStderr(`[h264 @ 0x1] no frame!\n${line}`)).toBe("a 8000x8000 frame exceeds the decoder's limit of 90112 pixels (the picture grew past its probed size)");
    expect(limitInStderr("[h264 @ 0x1] get_buffer() failed\nError while decoding stream #0:0: Invalid data found when processing input\n")).toBeNull();
  });

  it("stops a run that writes more frames than allowed, at once", async () => {
    const tools = await systemMediaTools();
    if (!tools) throw new Error("no ffmpeg on PATH");
    // 10 minutes of frames at 25 fps, real-time paced: unbounded, it would run for 10 minutes.
    const args = ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25:duration=600", "-f", "null", "-"];
    const t0 = Date.now();
    await expect(runFfmpeg(tools, args, { timeoutS: 60, maxFrames: 10 })).rejects.toMatchObject({
      name: "FfmpegError",
      code: "limit_exceeded",
      message: "ffmpeg wrote more than 10 frames, more than the source's probed duration holds",
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    // Within the limit nothing happens.
    await expect(runFfmpeg(tools, ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25:duration=1", "-f", "null", "-"], { timeoutS: 60, maxFrames: 26 })).resolves.toMatchObject({
      last: { done: true, frame: 25 },
    });
  });
});
