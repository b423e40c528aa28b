/**
 * The memory limit of ffmpeg children: the argv that applies it, and real runs showing that it is
 * applied (the child's own /proc limits) and that a crafted input is stopped by it, with the system
 * ffmpeg and the bundled 2018 build.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitedCommand, limitForSource, parseVmData } from "./child-limits.js";
import { FfmpegError, runFfmpeg } from "./ffmpeg-runner.js";
import { makeGrowingTs } from "./media.fixtures.js";
import { bundledMediaTools, systemMediaTools, withMemoryLimit, type MediaTools } from "./media-tools.js";

const MiB = 1024 ** 2;

/** /proc/<pid>/limits once prlimit has exec'd the program (before that the limit may not be set yet). */
async function limitsAfterExec(pid: number): Promise<string> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
    if (comm !== "" && comm !== "prlimit") return readFile(`/proc/${pid}/limits`, "utf8");
    await new Promise((r) => setTimeout(r, 2));
  }
  return "";
}

describe("limitedCommand", () => {
  it("prefixes prlimit with RLIMIT_DATA at 1.5× the limit, or runs the binary as it is", () => {
    expect(limitedCommand("ffmpeg", ["-v", "error", "-i", "in.mp4"], { bytes: 1_744_830_464, prlimit: "prlimit" })).toEqual({
      file: "prlimit",
      args: ["--data=2617245696", "--", "ffmpeg", "-v", "error", "-i", "in.mp4"],
    });
    expect(limitedCommand("/opt/ffprobe", ["-v", "error"], null)).toEqual({ file: "/opt/ffprobe", args: ["-v", "error"] });
  });

  it("adds 64 bytes per pixel of the source's decoder limit", () => {
    const limit = { bytes: 1024 * MiB, prlimit: "prlimit" };
    // an 8K source: max_pixels 7680 × 4352 × 1.1 = 36,765,696 → +2.19 GiB
    expect(limitForSource(limit, 36_765_696)).toEqual({ bytes: 1024 * MiB + 2_353_004_544, prlimit: "prlimit" });
    expect(limitForSource(limit, null)).toEqual(limit);
    expect(limitForSource(null, 36_765_696)).toBeNull();
  });

  it("reads VmData from /proc/<pid>/status", () => {
    expect(parseVmData("Name:\tffmpeg\nVmPeak:\t 1368064 kB\nVmData:\t  962560 kB\nVmStk:\t     132 kB\n")).toBe(962_560 * 1024);
    expect(parseVmData("Name:\tkthreadd\n")).toBeNull();
  });
});

describe.skipIf(process.platform !== "linux")("memory limit on real ffmpeg children", () => {
  let dir: string;
  let growing: string;
  let system: MediaTools;

  beforeAll(async () => {
    const t = await systemMediaTools();
    if (!t) throw new Error("no ffmpeg on PATH");
    system = t;
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-limits-"));
    // 2 s at 320×240, then three 8000×8000 frames
    growing = await makeGrowingTs(system, path.join(dir, "growing.ts"));
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A decode of `input` without any picture bound (what the conversion ran before issue 13), two
   * decoder threads so the legitimate part's memory does not depend on the machine's CPU count.
   */
  const decode = (input: string) => ["-v", "error", "-threads", "2", "-i", input, "-vf", "scale=320:240", "-f", "null", "-"];

  for (const which of ["system", "bundled"] as const) {
    it(`${which}: the child runs under its RLIMIT_DATA ceiling, and a stream that grows to 8000×8000 is killed with limit_exceeded`, async () => {
      const base = which === "system" ? system : await bundledMediaTools();
      // Without a limit the large frames decode: ~0.5 GB of VmData for three 8000×8000 frames.
      await expect(runFfmpeg(base, decode(growing), { timeoutS: 60 })).resolves.toMatchObject({ last: { done: true } });

      const tools = await withMemoryLimit(base, 192 * MiB);
      expect(tools.memoryLimit).toEqual({ bytes: 192 * MiB, prlimit: "prlimit" });
      let limits = "";
      const t0 = Date.now();
      const err = await runFfmpeg(tools, decode(growing), {
        timeoutS: 60,
        onSpawn: (pid) => void limitsAfterExec(pid).then((l) => (limits = l), () => undefined),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FfmpegError);
      expect(err).toMatchObject({ code: "limit_exceeded", message: expect.stringMatching(/^ffmpeg reached \d+ MiB of memory, over its 192 MiB limit \(FFMPEG_MEMORY_LIMIT\)$/) });
      expect(Date.now() - t0).toBeLessThan(10_000);
      // the hard ceiling: 1.5 × 192 MiB
      expect(limits).toMatch(/^Max data size\s+301989888\s+301989888\s+bytes/m);
    }, 60_000);
  }

  it("a legitimate decode under the same limit runs to the end", async () => {
    const tools = await withMemoryLimit(system, 192 * MiB);
    const small = path.join(dir, "small.ts");
    await runFfmpeg(system, ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-c:v", "libx264", "-preset", "ultrafast", small], { timeoutS: 60 });
    await expect(runFfmpeg(tools, decode(small), { timeoutS: 60 })).resolves.toMatchObject({ last: { done: true, frame: 50 } });
  }, 60_000);

  it("FFMPEG_MEMORY_LIMIT=0 means no limit", async () => {
    expect((await withMemoryLimit(system, 0)).memoryLimit).toBeNull();
  });
});
