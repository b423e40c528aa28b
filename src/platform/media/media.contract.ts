/**
 * The behaviour every MediaTools implementation (system ffmpeg, npm-bundled ffmpeg 4.1) must
 * show with vidflux's probe/runner code. `media.test.ts` runs it against both.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FfmpegError, runFfmpeg, type FfmpegProgress } from "./ffmpeg-runner.js";
import { hlsPlaylistTo, makeClip } from "./media.fixtures.js";
import type { MediaTools } from "./media-tools.js";
import { decodeCheck, probe, ProbeError, videoCodecString } from "./probe.js";

const exec = promisify(execFile);

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

export function mediaContract(name: string, getTools: () => Promise<MediaTools>): void {
  describe(`MediaTools contract: ${name}`, () => {
    let tools: MediaTools;
    let dir: string;
    let clip: string;
    let rotated: string;

    beforeAll(async () => {
      tools = await getTools();
      dir = await mkdtemp(path.join(tmpdir(), `vidflux-media-${name}-`));
      clip = await makeClip(tools, path.join(dir, "clip.mp4"), { width: 320, height: 240, durationS: 1, fps: 25, audio: [{ language: "eng" }] });
      rotated = await makeClip(tools, path.join(dir, "rotated.mp4"), { width: 320, height: 180, durationS: 1, audio: [], rotate: 90 });
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("probes a clip", async () => {
      const r = await probe(tools, clip, { timeoutS: 20 });
      expect(r.container).toBe("mp4");
      expect(r.durationS).toBeGreaterThan(0.9);
      expect(r.durationS).toBeLessThan(1.2);
      expect(r.video).toMatchObject({ codec: "h264", width: 320, height: 240, displayWidth: 320, displayHeight: 240, rotation: 0, fps: 25, isVfr: false, bitDepth: 8 });
      expect(r.audio).toEqual([expect.objectContaining({ codec: "aac", language: "eng", channels: 1, sampleRate: 44100 })]);
    });

    it("probes a display rotation as a portrait display size", async () => {
      const r = await probe(tools, rotated, { timeoutS: 20 });
      expect([90, 270]).toContain(r.video?.rotation);
      expect(r.video).toMatchObject({ width: 320, height: 180, displayWidth: 180, displayHeight: 320 });
      expect(r.audio).toEqual([]);
    });

    it("classifies failures: not a video, damaged, timeout", async () => {
      const text = path.join(dir, "notes.txt");
      await writeFile(text, "this is not a video\n");
      await expect(probe(tools, text, { timeoutS: 20 })).rejects.toMatchObject({ name: "ProbeError", code: "not_a_video" });
      const truncated = path.join(dir, "truncated.mp4");
      // Without faststart the index (moov) is at the end: a cut upload loses it.
      await writeFile(truncated, (await readFile(clip)).subarray(0, 4000));
      await expect(probe(tools, truncated, { timeoutS: 20 })).rejects.toMatchObject({ code: "corrupt" });
      // Opening a FIFO nobody writes to blocks forever: the timeout must kill ffprobe.
      const fifo = path.join(dir, "stuck.fifo");
      await exec("mkfifo", [fifo]);
      const t0 = Date.now();
      const err = await probe(tools, fifo, { timeoutS: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProbeError);
      expect(err).toMatchObject({ code: "timeout" });
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    it("decodeCheck decodes frames, and rejects a file whose frames are garbage", async () => {
      expect(await decodeCheck(tools, clip, { frames: 5, timeoutS: 20 })).toEqual({ frames: 5 });
      const data = Buffer.from(await readFile(clip));
      // Scramble the media data only (the mdat box), leaving the header boxes intact.
      const mdat = data.indexOf("mdat");
      const mdatEnd = mdat - 4 + data.readUInt32BE(mdat - 4);
      for (let i = mdat + 4; i < mdatEnd; i++) data[i] = (data[i]! * 7 + 13) & 0xff;
      const garbled = path.join(dir, "garbled.mp4");
      await writeFile(garbled, data);
      // The header still probes fine…
      await expect(probe(tools, garbled, { timeoutS: 20 })).resolves.toMatchObject({ video: { codec: "h264" } });
      // …but no frame decodes.
      await expect(decodeCheck(tools, garbled, { frames: 5, timeoutS: 20 })).rejects.toMatchObject({ code: "corrupt" });
    });

    it("refuses a text HLS playlist or an ffconcat list, whatever its name, in probe and decodeCheck", async () => {
      // What the tricks point at: a real, local MPEG-TS file.
      const target = await makeClip(tools, path.join(dir, "target.ts"), { width: 160, height: 120, durationS: 1, audio: [] });
      const tricks = {
        "playlist.m3u8": hlsPlaylistTo(target, 1),
        "upload.mp4": hlsPlaylistTo(target, 1),
        "list.mp4": `ffconcat version 1.0\nfile ${path.basename(target)}\n`,
      };
      for (const [name, text] of Object.entries(tricks)) {
        const file = path.join(dir, name);
        await writeFile(file, text);
        // Without a sniffed container only the accepted containers' demuxers may open it (the
        // bundled ffprobe, guessing by the name, then fails in `mov`)…
        await expect(probe(tools, file, { timeoutS: 20 }), name).rejects.toMatchObject({ name: "ProbeError", code: expect.stringMatching(/^(not_a_video|corrupt)$/) });
        // …with one, only that demuxer (as upload validation and the conversion run it).
        await expect(probe(tools, file, { timeoutS: 20, format: "mov" }), name).rejects.toMatchObject({ name: "ProbeError", code: "corrupt" });
        await expect(decodeCheck(tools, file, { timeoutS: 20 }), name).rejects.toMatchObject({ code: "corrupt" });
        await expect(decodeCheck(tools, file, { timeoutS: 20, format: "mov" }), name).rejects.toMatchObject({ code: "corrupt" });
      }
      // The same fences let the real thing through (an MP4: the bundled ffprobe crashes on MPEG-TS).
      await expect(probe(tools, clip, { timeoutS: 20, format: "mov" })).resolves.toMatchObject({ container: "mp4", video: { width: 320 } });
      await expect(decodeCheck(tools, target, { timeoutS: 20, format: "mpegts" })).resolves.toEqual({ frames: 5 });
    });

    it("decodeCheck stops at a frame larger than maxPixels", async () => {
      await expect(decodeCheck(tools, clip, { frames: 5, timeoutS: 20, format: "mov", maxPixels: 90_112 })).resolves.toEqual({ frames: 5 });
      await expect(decodeCheck(tools, clip, { frames: 5, timeoutS: 20, format: "mov", maxPixels: 50_000 })).rejects.toMatchObject({
        name: "ProbeError",
        code: "limit_exceeded",
        message: "a 320x240 frame exceeds the decoder's limit of 50000 pixels (the picture grew past its probed size)",
      });
    });

    it("runs ffmpeg with progress and reads the codec string of the output", async () => {
      const seen: FfmpegProgress[] = [];
      const out = path.join(dir, "out.ts");
      const res = await runFfmpeg(
        tools,
        ["-y", "-v", "error", "-i", clip, "-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main", "-f", "mpegts", out],
        { timeoutS: 30, durationS: 1, onProgress: (p) => seen.push(p) },
      );
      expect(seen.at(-1)).toMatchObject({ done: true, percent: 100, eta_s: 0, frame: 25 });
      expect(res.last?.done).toBe(true);
      expect(await videoCodecString(tools, out, { timeoutS: 20 })).toMatch(/^avc1\.[0-9a-f]{6}$/);
    });

    it("reports ffmpeg failures with the stderr tail", async () => {
      const err = await runFfmpeg(tools, ["-v", "error", "-i", path.join(dir, "missing.mp4"), "-f", "null", "-"], { timeoutS: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FfmpegError);
      expect(err).toMatchObject({ code: "ffmpeg_failed" });
      expect((err as FfmpegError).stderrTail).toMatch(/No such file or directory/);
    });

    it("kills ffmpeg on abort and on timeout", async () => {
      // -re reads the input at its native rate: a 30 s input runs for 30 s.
      const slow = ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=30", "-f", "null", "-"];
      const ac = new AbortController();
      let pid = 0;
      const p = runFfmpeg(tools, slow, {
        timeoutS: 60,
        signal: ac.signal,
        onSpawn: (id) => (pid = id),
        onProgress: () => ac.abort(),
      });
      await expect(p).rejects.toMatchObject({ name: "FfmpegError", code: "cancelled" });
      expect(pid).toBeGreaterThan(0);
      expect(processGone(pid)).toBe(true);

      const t0 = Date.now();
      let pid2 = 0;
      await expect(runFfmpeg(tools, slow, { timeoutS: 0.5, onSpawn: (id) => (pid2 = id) })).rejects.toMatchObject({ code: "timeout" });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(processGone(pid2)).toBe(true);

      const already = new AbortController();
      already.abort();
      await expect(runFfmpeg(tools, slow, { timeoutS: 5, signal: already.signal })).rejects.toMatchObject({ code: "cancelled" });
    });
  });
}
