/**
 * The memory limit of every ffmpeg/ffprobe child (FFMPEG_MEMORY_LIMIT), in two parts:
 *
 * 1. A watchdog that is the limit. The runner polls the child's VmData (/proc/<pid>/status) and
 *    kills it once it reaches the limit: the job fails with `limit_exceeded`. VmData counts private
 *    writable mappings, i.e. every malloc'd or mmap'd byte that can become resident, and not the
 *    PROT_NONE reservations glibc makes for its per-thread malloc arenas (64 MiB each) nor shared
 *    libraries. VmPeak (the address space, what RLIMIT_AS bounds) counts those too: measured on a
 *    1080p ladder it is 1.3 GiB on 2 cores for 940 MiB of VmData, 7.7 GiB on 32 cores for
 *    6.6 GiB, the gap growing with the arenas, so a limit on the address space either chokes big
 *    machines or bounds nothing on small ones.
 * 2. A hard ceiling the kernel enforces, for a burst faster than the watchdog's poll:
 *    RLIMIT_DATA (the same VmData, Linux ≥ 4.7) at HARD_CEILING_FACTOR × the limit, set by
 *    `prlimit --data=N -- ffmpeg …` (util-linux; it sets the limit on itself and execs ffmpeg, so
 *    the pid, the signals and the command line seen in /proc are ffmpeg's). Node cannot set a
 *    child's rlimits, and this needs neither a shell nor cgroups. The ceiling is above the limit
 *    on purpose: ffmpeg does not die when an allocation fails (a decoder logs `get_buffer()
 *    failed`, drops the frame and goes on; the 2018 build then exits 0 with half the frames), so
 *    an rlimit alone would turn "too much memory" into a quietly damaged conversion. With the
 *    ceiling higher, the allocation that crosses the limit succeeds and the watchdog sees it.
 */
import { readFile } from "node:fs/promises";

export interface MemoryLimit {
  /** VmData at which the watchdog kills the child, bytes (FFMPEG_MEMORY_LIMIT) */
  bytes: number;
  /** the `prlimit` binary (util-linux) */
  prlimit: string;
}

/**
 * Bytes of limit added per pixel of a source's decoder limit (`-max_pixels`, input-guard.ts):
 * FFMPEG_MEMORY_LIMIT is measured for sources up to 1080p, and decoding holds frames whose size
 * is the source's. The heaviest child is the thumbnail run (five inputs, five decoders): 857 MiB of
 * VmData for a 1080p source on 2 CPUs, 1.1 GiB for 4K, 2.4 GiB for 8K, i.e. ~53 bytes per extra
 * source pixel; 64 covers that (an 8K source's 36.8 M max_pixels add 2.2 GiB). A source that lies
 * about its size gets the allowance of the size it claims, and `-max_pixels` holds it there.
 */
export const MEMORY_PER_SOURCE_PIXEL = 64;

/** `limit` for the children that decode a source whose decoders stop at `maxPixels` (pure). */
export function limitForSource(limit: MemoryLimit | null | undefined, maxPixels: number | null | undefined): MemoryLimit | null {
  if (!limit) return null;
  return { ...limit, bytes: limit.bytes + MEMORY_PER_SOURCE_PIXEL * (maxPixels ?? 0) };
}

/** RLIMIT_DATA is this many times the limit (see above). */
export const HARD_CEILING_FACTOR = 1.5;
/** How often the watchdog reads /proc/<pid>/status, ms (a read costs some 20 µs). */
export const MEMORY_WATCH_INTERVAL_MS = 50;

/** The program and argv that run `bin args` under `limit`'s hard ceiling (pure). */
export function limitedCommand(bin: string, args: readonly string[], limit: MemoryLimit | null | undefined): { file: string; args: string[] } {
  if (!limit) return { file: bin, args: [...args] };
  return { file: limit.prlimit, args: [`--data=${Math.ceil(limit.bytes * HARD_CEILING_FACTOR)}`, "--", bin, ...args] };
}

/** `VmData` of a /proc/<pid>/status text, in bytes (null when absent). */
export function parseVmData(status: string): number | null {
  const m = /^VmData:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Polls `pid`'s VmData every MEMORY_WATCH_INTERVAL_MS and calls `onExceeded` once (with the bytes
 * seen) when it reaches `limitBytes`. Returns the stop function. A process that is gone (or a
 * system without /proc) just stops being watched.
 */
export function watchMemory(pid: number, limitBytes: number, onExceeded: (usedBytes: number) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
    if (stopped) return;
    if (status === null) return;
    const used = parseVmData(status);
    if (used !== null && used >= limitBytes) {
      stopped = true;
      onExceeded(used);
      return;
    }
    timer = setTimeout(() => void tick(), MEMORY_WATCH_INTERVAL_MS);
    timer.unref();
  };
  timer = setTimeout(() => void tick(), MEMORY_WATCH_INTERVAL_MS);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/** `1.5 GiB`, `640 MiB` */
export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${Math.round((n / 1024 ** 3) * 10) / 10} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}
