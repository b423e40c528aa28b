/**
 * Finding ffmpeg/ffprobe. Two implementations of the same `MediaTools`: the system's binaries
 * (`ffmpeg` on PATH, e.g. Debian's 5.1) and the ones bundled by the npm packages
 * `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (a 2018 static ffmpeg 4.1 build). An
 * explicit FFMPEG_PATH/FFPROBE_PATH wins over both.
 *
 * Everything we build must run on ffmpeg >= 4.1: the bundled build is the floor, so older
 * binaries are refused at start-up with a message saying how to fix it, rather than failing on
 * the first upload with an obscure "Unrecognized option".
 */
import { execFile } from "node:child_process";
import { access, chmod, constants, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { MemoryLimit } from "./child-limits.js";

export type MediaToolsSource = "env" | "system" | "bundled";

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
  /** e.g. `5.1.9-0+deb12u1`, or `4.1 (N-47683-g0e8eb07980-static)` for a git build */
  version: string;
  major: number;
  minor: number;
  /** where ffmpeg came from */
  source: MediaToolsSource;
  /** the memory limit every ffmpeg/ffprobe child runs under (child-limits.ts); absent or null: none */
  memoryLimit?: MemoryLimit | null;
}

export class MediaToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MediaToolsError";
  }
}

export const MIN_FFMPEG: Readonly<{ major: number; minor: number }> = { major: 4, minor: 1 };

/**
 * libavutil version at each ffmpeg release. Git snapshot builds (like the bundled
 * `N-47683-g0e8eb07980-static`) print no release number, only their library versions; a snapshot
 * has at least the features of the newest release whose libavutil it matches or exceeds.
 */
const AVUTIL_RELEASES: ReadonlyArray<readonly [avutilMajor: number, avutilMinor: number, major: number, minor: number]> = [
  [55, 34, 3, 2],
  [55, 58, 3, 3],
  [55, 78, 3, 4],
  [56, 14, 4, 0],
  [56, 22, 4, 1],
  [56, 31, 4, 2],
  [56, 51, 4, 3],
  [56, 70, 4, 4],
  [57, 17, 5, 0],
  [57, 28, 5, 1],
  [58, 2, 6, 0],
  [58, 29, 6, 1],
  [59, 8, 7, 0],
  [59, 39, 7, 1],
  [60, 8, 8, 0],
];

/** Parses the output of `ffmpeg -version` (pure). */
export function parseFfmpegVersion(output: string): { version: string; major: number; minor: number } {
  const raw = /^\s*ff(?:mpeg|probe) version (\S+)/m.exec(output)?.[1];
  if (raw === undefined) throw new MediaToolsError("not an ffmpeg binary: `-version` printed no version line");
  // Release builds: `5.1.9-0+deb12u1`, `n4.4.2`, `4.1`, `7.1-static`.
  const rel = /^n?(\d+)\.(\d+)/.exec(raw);
  if (rel) return { version: raw, major: Number(rel[1]), minor: Number(rel[2]) };
  const avutil = /^\s*libavutil\s+(\d+)\.\s*(\d+)\./m.exec(output);
  if (avutil) {
    const am = Number(avutil[1]);
    const an = Number(avutil[2]);
    let found: readonly [number, number, number, number] | undefined;
    for (const r of AVUTIL_RELEASES) if (am > r[0] || (am === r[0] && an >= r[1])) found = r;
    if (found) return { version: `${found[2]}.${found[3]} (${raw})`, major: found[2], minor: found[3] };
    return { version: `0.0 (${raw})`, major: 0, minor: 0 };
  }
  throw new MediaToolsError(`cannot tell the ffmpeg version from "${raw}"`);
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds MediaTools from two binaries: runs both with `-version` (proving they execute) and
 * refuses an ffmpeg older than 4.1.
 */
export async function mediaToolsFromPaths(ffmpeg: string, ffprobe: string, source: MediaToolsSource): Promise<MediaTools> {
  let out: string;
  try {
    out = await run(ffmpeg, ["-hide_banner", "-version"], 15_000);
  } catch (err) {
    throw new MediaToolsError(`cannot run ffmpeg at ${ffmpeg} (${source}): ${(err as Error).message}`);
  }
  const v = parseFfmpegVersion(out);
  if (v.major < MIN_FFMPEG.major || (v.major === MIN_FFMPEG.major && v.minor < MIN_FFMPEG.minor)) {
    throw new MediaToolsError(
      `ffmpeg ${v.version} at ${ffmpeg} is too old: vidflux needs ffmpeg >= ${MIN_FFMPEG.major}.${MIN_FFMPEG.minor}. ` +
        "Install a newer ffmpeg or point FFMPEG_PATH/FFPROBE_PATH at one.",
    );
  }
  try {
    parseFfmpegVersion(await run(ffprobe, ["-hide_banner", "-version"], 15_000));
  } catch (err) {
    throw new MediaToolsError(`cannot run ffprobe at ${ffprobe} (${source}): ${(err as Error).message}`);
  }
  return { ffmpeg, ffprobe, version: v.version, major: v.major, minor: v.minor, source };
}

/**
 * Whether a bare command name runs. The OS resolves it on PATH at spawn time, so nothing here reads
 * the environment (only src/config.ts does); ENOENT means "not installed".
 */
async function onPath(name: "ffmpeg" | "ffprobe"): Promise<boolean> {
  try {
    await run(name, ["-hide_banner", "-version"], 15_000);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new MediaToolsError(`cannot run the system's ${name}: ${(err as Error).message}`);
  }
}

/** The system's ffmpeg and ffprobe (both on PATH), or null when either is missing. */
export async function systemMediaTools(): Promise<MediaTools | null> {
  if (!(await onPath("ffmpeg")) || !(await onPath("ffprobe"))) return null;
  return mediaToolsFromPaths("ffmpeg", "ffprobe", "system");
}

const require = createRequire(import.meta.url);

/** Path of a binary shipped by an `@ffmpeg-installer/<platform>` style package, made executable. */
async function bundledBinary(scope: "@ffmpeg-installer" | "@ffprobe-installer", name: "ffmpeg" | "ffprobe"): Promise<string> {
  const pkg = `${scope}/${process.platform}-${process.arch}`;
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new MediaToolsError(`no bundled ${name} for ${process.platform}-${process.arch} (${pkg} is not installed)`);
  }
  const file = path.join(dir, process.platform === "win32" ? `${name}.exe` : name);
  // npm skips the packages' `postinstall: chmod u+x` with --ignore-scripts (and some lockfile
  // installs), leaving a binary that cannot be executed: set the run bits ourselves.
  try {
    const st = await stat(file);
    if ((st.mode & 0o111) !== 0o111) await chmod(file, (st.mode & 0o777) | 0o111);
  } catch (err) {
    if (!(await isExecutable(file))) {
      throw new MediaToolsError(`bundled ${name} at ${file} is not executable and chmod failed: ${(err as Error).message}`);
    }
  }
  return file;
}

/** The npm-bundled ffmpeg (4.1 static build) and ffprobe. */
export async function bundledMediaTools(): Promise<MediaTools> {
  const ffmpeg = await bundledBinary("@ffmpeg-installer", "ffmpeg");
  const ffprobe = await bundledBinary("@ffprobe-installer", "ffprobe");
  return mediaToolsFromPaths(ffmpeg, ffprobe, "bundled");
}

export interface MediaConfig {
  /** `memoryLimitBytes`: FFMPEG_MEMORY_LIMIT, 0 for none */
  media: { ffmpegPath?: string | undefined; ffprobePath?: string | undefined; memoryLimitBytes?: number | undefined };
}

/**
 * `tools` with every child limited to `bytes` of memory (RLIMIT_DATA through util-linux's
 * `prlimit`, see child-limits.ts); `tools` unchanged for 0. Only Linux has both the rlimit that
 * counts mmap'd memory and the /proc the watchdog reads: elsewhere there is no limit. On Linux a
 * missing `prlimit` is an error, not a silent "no limit".
 */
export async function withMemoryLimit(tools: MediaTools, bytes: number): Promise<MediaTools> {
  if (!(bytes > 0) || process.platform !== "linux") return { ...tools, memoryLimit: null };
  try {
    await run("prlimit", ["--version"], 15_000);
  } catch (err) {
    throw new MediaToolsError(
      `FFMPEG_MEMORY_LIMIT needs \`prlimit\` (util-linux) on PATH: install util-linux, or set FFMPEG_MEMORY_LIMIT=0 to run ffmpeg without a memory limit (${(err as Error).message})`,
    );
  }
  return { ...tools, memoryLimit: { bytes, prlimit: "prlimit" } };
}

/**
 * Resolves each binary in order FFMPEG_PATH/FFPROBE_PATH, then PATH, then the npm-bundled one.
 * An explicit path that does not work is an error (never silently replaced by another binary).
 * `source` says where ffmpeg came from. Every child then runs under `memoryLimitBytes` (withMemoryLimit).
 */
export async function locateMedia(config: MediaConfig): Promise<MediaTools> {
  const resolve = async (
    name: "ffmpeg" | "ffprobe",
    explicit: string | undefined,
    scope: "@ffmpeg-installer" | "@ffprobe-installer",
  ): Promise<{ file: string; source: MediaToolsSource }> => {
    if (explicit) {
      if (!(await isExecutable(explicit))) {
        throw new MediaToolsError(`${name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"}=${explicit} is not an executable file`);
      }
      return { file: explicit, source: "env" };
    }
    if (await onPath(name)) return { file: name, source: "system" };
    try {
      return { file: await bundledBinary(scope, name), source: "bundled" };
    } catch (err) {
      throw new MediaToolsError(`${name} not found: set ${name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"}, install ${name} on PATH, or install ${scope}/${name} (${(err as Error).message})`);
    }
  };
  const ffmpeg = await resolve("ffmpeg", config.media.ffmpegPath, "@ffmpeg-installer");
  const ffprobe = await resolve("ffprobe", config.media.ffprobePath, "@ffprobe-installer");
  return withMemoryLimit(await mediaToolsFromPaths(ffmpeg.file, ffprobe.file, ffmpeg.source), config.media.memoryLimitBytes ?? 0);
}
