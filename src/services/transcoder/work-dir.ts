/**
 * The worker's local scratch space: one temp dir per attempt under WORK_DIR, and the cleanup of
 * what dead attempts left behind (their dirs, and the ffmpeg they left running on this host).
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";

const OWNER_FILE = ".owner.json";

/** Job dirs of this process that are in use (never cleaned as "dead attempts"). */
const activeDirs = new Set<string>();

/** ids become directory names: keep them to a safe alphabet */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_").slice(0, 100) || "_";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Processes whose command line mentions `dir` (Linux /proc; none are found elsewhere). A worker
 * killed with SIGKILL leaves its ffmpeg running, reparented, still writing into its job dir:
 * every ffmpeg of an attempt names a file under that attempt's unique dir.
 */
async function processesUsing(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    // NUL-separated argv; empty for a zombie (already dead, only waiting to be reaped)
    const argv = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (argv.some((a) => a === dir || a.includes(`${dir}${path.sep}`))) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs the processes a dead attempt left running in `dir`, and waits (briefly) until they are gone. */
async function killOrphans(dir: string): Promise<void> {
  let pids = await processesUsing(dir);
  const deadline = Date.now() + 3000;
  while (pids.length > 0 && Date.now() < deadline) {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = await processesUsing(dir);
  }
}

interface Owner {
  videoId?: unknown;
  pid?: unknown;
  host?: unknown;
}

/** Whether the dir of `owner` is a dead attempt to remove (see removeDeadAttempts). */
function isDeadAttempt(owner: Owner, videoId: string | null): boolean {
  const here = owner.host === hostname();
  if (videoId === null ? !here : owner.videoId !== videoId) return false;
  const alive = typeof owner.pid === "number" && here && owner.pid !== process.pid && pidAlive(owner.pid);
  return !alive;
}

/**
 * Removes temp dirs that earlier attempts left behind when their worker died (SIGKILL, OOM, power
 * loss: no `finally` ran), after killing the ffmpeg they left running on this host. With a
 * `videoId` (an attempt at that video is starting here): its dirs whose owner process is gone,
 * or ran on another host, or is this process without the dir in use. Without one (the first job
 * of this process): any dir owned by a dead process of this host.
 */
async function removeDeadAttempts(workDir: string, videoId: string | null): Promise<void> {
  const prefix = videoId === null ? "" : `${safeName(videoId)}-`;
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(workDir, name);
    if (!name.startsWith(prefix) || activeDirs.has(dir)) continue;
    let owner: Owner;
    try {
      owner = JSON.parse(await readFile(path.join(dir, OWNER_FILE), "utf8")) as Owner;
    } catch {
      continue;
    }
    if (!isDeadAttempt(owner, videoId)) continue;
    if (owner.host === hostname()) await killOrphans(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The attempt dirs of one handler under `workDir` (WORK_DIR). */
export class WorkDirs {
  private readonly root: string;
  private sweptAtStart: Promise<void> | null = null;

  constructor(workDir: string) {
    this.root = path.resolve(workDir);
  }

  /**
   * A new attempt's dir (not created yet), in use until release(). One dir per attempt: an
   * attempt that lost its lease and is still winding down never shares files with the attempt
   * that took over.
   */
  claim(videoId: string, jobId: string): string {
    const dir = path.join(this.root, `${safeName(videoId)}-${safeName(jobId)}-${randomBytes(4).toString("hex")}`);
    activeDirs.add(dir);
    return dir;
  }

  /** Clears dead attempts (this video's; on the first call also this host's), then creates `dir`. */
  async prepare(dir: string, owner: { videoId: string; jobId: string }): Promise<void> {
    await mkdir(this.root, { recursive: true });
    // the first job of this process also clears what workers that died on this host left
    this.sweptAtStart ??= removeDeadAttempts(this.root, null);
    await this.sweptAtStart;
    await removeDeadAttempts(this.root, owner.videoId);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ videoId: owner.videoId, jobId: owner.jobId, pid: process.pid, host: hostname() }));
  }

  async release(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    activeDirs.delete(dir);
  }
}
