/**
 * The one way vidflux runs ffmpeg: argv arrays from pure builders (never a shell string), machine
 * readable progress on stdout, a bounded stderr tail for error reports, and a process that dies
 * with its job (abort signal or timeout: SIGTERM, then SIGKILL after a grace period) or with the
 * first bound it crosses (memory, picture size, frame count: SIGKILL at once, `limit_exceeded`).
 */
import { spawn } from "node:child_process";
import { formatBytes, limitedCommand, watchMemory } from "./child-limits.js";
import type { MediaTools } from "./media-tools.js";

/** `limit_exceeded`: the run crossed a bound set on it (see FfmpegRunOptions and child-limits.ts). */
export type FfmpegErrorCode = "timeout" | "cancelled" | "ffmpeg_failed" | "limit_exceeded";

export class FfmpegError extends Error {
  constructor(
    readonly code: FfmpegErrorCode,
    message: string,
    /** last lines ffmpeg wrote to stderr (bounded) */
    readonly stderrTail: string,
    readonly exitCode: number | null = null,
  ) {
    super(message);
    this.name = "FfmpegError";
  }
}

export interface FfmpegProgress {
  /** 0..100 of `durationS` (null when no duration was given) */
  percent: number | null;
  /** seconds left at the current speed, null when unknown */
  eta_s: number | null;
  /** output position, seconds */
  outTimeS: number;
  /** encoding speed relative to real time (2 = twice real time), null when ffmpeg prints N/A */
  speed: number | null;
  /** frames written so far (first video output) */
  frame: number;
  /** `progress=end`: ffmpeg has finished writing */
  done: boolean;
}

export interface FfmpegRunOptions {
  timeoutS: number;
  signal?: AbortSignal;
  /** expected output duration, for percent/eta */
  durationS?: number | null;
  onProgress?: (p: FfmpegProgress) => void;
  /** between SIGTERM and SIGKILL; SIGTERM lets ffmpeg finish the file it is writing */
  killGraceMs?: number;
  /** called once the process is spawned (logging, tests) */
  onSpawn?: (pid: number) => void;
  /** stop with `limit_exceeded` once the first video output has more frames than this */
  maxFrames?: number;
}

export interface FfmpegRunResult {
  stderrTail: string;
  /** the last progress block (null if ffmpeg printed none) */
  last: FfmpegProgress | null;
}

const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * What libavutil prints when a decoder meets a frame larger than its `-max_pixels`
 * (`av_image_check_size2`, the same words in 4.1 and 7.x). ffmpeg does not stop there: it logs the
 * error for every frame, drops them and may well exit 0 with the small frames only.
 */
const MAX_PIXELS_HIT = /Picture size (\d+x\d+) exceeds specified max pixel count (\d+)/;

/** The bound a stderr text says was crossed, as a sentence; null when none (pure). */
export function limitInStderr(stderr: string): string | null {
  const m = MAX_PIXELS_HIT.exec(stderr);
  return m ? `a ${m[1]} frame exceeds the decoder's limit of ${m[2]} pixels (the picture grew past its probed size)` : null;
}

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
}

/** `HH:MM:SS.micro` (also negative, `-00:00:00.023220`, at the start of some inputs) */
function hms(v: string | undefined): number | null {
  const m = v === undefined ? null : /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(v.trim());
  if (!m) return null;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] === "-" ? -s : s;
}

/**
 * Parses one `-progress` block (the `key=value` lines up to and including `progress=…`).
 * Pure. Returns null when the block has no `progress=` line.
 *
 * Quirks handled: `out_time_ms` is in MICROseconds, not milliseconds (a historical ffmpeg bug kept
 * for compatibility; `out_time_us` was added next to it), so `out_time_us` is preferred, then
 * `out_time_ms` read as µs, then `out_time`. Early blocks say `N/A` for times and speed, and the
 * first timestamps can be slightly negative.
 */
export function parseProgressBlock(block: string, durationS?: number | null): FfmpegProgress | null {
  const kv = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf("=");
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const progress = kv.get("progress");
  if (progress === undefined) return null;
  const us = num(kv.get("out_time_us")) ?? num(kv.get("out_time_ms"));
  const outTimeS = Math.max(0, us !== null ? us / 1e6 : (hms(kv.get("out_time")) ?? 0));
  const speedRaw = kv.get("speed");
  const speed = speedRaw !== undefined && /x$/.test(speedRaw) ? num(speedRaw.slice(0, -1)) : null;
  const done = progress === "end";
  let percent: number | null = null;
  let eta: number | null = null;
  if (durationS && durationS > 0) {
    percent = done ? 100 : Math.min(99.9, Math.round((outTimeS / durationS) * 1000) / 10);
    if (done) eta = 0;
    else if (speed !== null && speed > 0) eta = Math.max(0, Math.round((durationS - outTimeS) / speed));
  }
  return { percent, eta_s: eta, outTimeS, speed: speed !== null && speed > 0 ? speed : null, frame: Math.trunc(num(kv.get("frame")) ?? 0), done };
}

/**
 * Runs ffmpeg with `args` (builders' argv, without the program name). Adds `-nostdin` (ffmpeg
 * otherwise reads the terminal and a stray `q` ends the encode), `-hide_banner`, and
 * `-progress pipe:1 -nostats` (key=value progress on stdout instead of the human status line on
 * stderr, which keeps stderr for errors).
 */
export function runFfmpeg(
  tools: Pick<MediaTools, "ffmpeg" | "memoryLimit">,
  args: readonly string[],
  opts: FfmpegRunOptions,
): Promise<FfmpegRunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new FfmpegError("cancelled", "ffmpeg cancelled before start", ""));
      return;
    }
    const cmd = limitedCommand(tools.ffmpeg, ["-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", ...args], tools.memoryLimit);
    const child = spawn(cmd.file, cmd.args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let stderr = "";
    let stdoutBuf = "";
    let last: FfmpegProgress | null = null;
    let stopReason: "timeout" | "cancelled" | "limit" | null = null;
    let limitMessage = "";
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const stop = (reason: "timeout" | "cancelled") => {
      if (stopReason || settled) return;
      stopReason = reason;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), opts.killGraceMs ?? 2000);
      killTimer.unref();
    };
    // A bound crossed: nothing ffmpeg would still write is worth keeping, and memory may be the
    // bound, so no grace period.
    const stopAtLimit = (message: string) => {
      if (stopReason || settled) return;
      stopReason = "limit";
      limitMessage = message;
      child.kill("SIGKILL");
    };
    const limit = tools.memoryLimit;
    const unwatch =
      limit && child.pid !== undefined
        ? watchMemory(child.pid, limit.bytes, (used) => stopAtLimit(`ffmpeg reached ${formatBytes(used)} of memory, over its ${formatBytes(limit.bytes)} limit (FFMPEG_MEMORY_LIMIT)`))
        : () => undefined;
    const checkFrames = (p: FfmpegProgress) => {
      if (opts.maxFrames !== undefined && p.frame > opts.maxFrames) {
        stopAtLimit(`ffmpeg wrote more than ${opts.maxFrames} frames, more than the source's probed duration holds`);
      }
    };
    const onAbort = () => stop("cancelled");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timeout = setTimeout(() => stop("timeout"), Math.max(0.01, opts.timeoutS) * 1000);
    timeout.unref();

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdoutBuf += chunk;
      // A block ends with its `progress=continue|end` line.
      for (;;) {
        const m = /^progress=\w+\r?\n/m.exec(stdoutBuf);
        if (!m) break;
        const end = m.index + m[0].length;
        const p = parseProgressBlock(stdoutBuf.slice(0, end), opts.durationS);
        stdoutBuf = stdoutBuf.slice(end);
        if (p) {
          last = p;
          checkFrames(p);
          try {
            opts.onProgress?.(p);
          } catch {
            // a listener's failure must not take the encode down
          }
        }
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      // The last line of the previous chunk too: a message may be split across two chunks.
      const fresh = stderr.slice(stderr.lastIndexOf("\n") + 1) + chunk;
      stderr += chunk;
      if (stderr.length > 2 * STDERR_TAIL_BYTES) stderr = stderr.slice(-STDERR_TAIL_BYTES);
      const hit = limitInStderr(fresh);
      if (hit) stopAtLimit(hit);
    });

    const finish = (err: FfmpegError | null) => {
      if (settled) return;
      settled = true;
      unwatch();
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve({ stderrTail: tail(stderr), last });
    };
    child.on("error", (err) => finish(new FfmpegError("ffmpeg_failed", `cannot run ffmpeg: ${err.message}`, tail(stderr))));
    child.on("close", (code, signal) => {
      if (stopReason === "limit") finish(new FfmpegError("limit_exceeded", limitMessage, tail(stderr), code));
      else if (stopReason === "cancelled") finish(new FfmpegError("cancelled", "ffmpeg cancelled", tail(stderr), code));
      else if (stopReason === "timeout") finish(new FfmpegError("timeout", `ffmpeg timed out after ${opts.timeoutS} s`, tail(stderr), code));
      else if (code === 0) finish(null);
      else {
        const t = tail(stderr);
        const lastLine = t.trim().split("\n").pop() ?? "";
        finish(new FfmpegError("ffmpeg_failed", `ffmpeg exited with ${code ?? signal}${lastLine ? `: ${lastLine}` : ""}`, t, code));
      }
    });
  });
}

function tail(s: string): string {
  return s.length > STDERR_TAIL_BYTES ? s.slice(-STDERR_TAIL_BYTES) : s;
}
