/**
 * Fixtures of the end-to-end conversion suites (pipeline.test.ts, worker-crash.test.ts): a
 * generated source clip, a video taken through accept() like a finished upload, conversion
 * worker processes (`src/worker.ts`, as `npm run start:worker` runs it) on the harness's
 * database/Redis/storage, polling waits and playback checks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import type { Harness } from "../../test/app-harness.js";
import { childEnv } from "../../test/child-env.js";
import { makeClip, type ClipSpec } from "../../platform/media/media.fixtures.js";
import { probe } from "../../platform/media/probe.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { parseMediaPlaylist } from "../../services/transcoder/index.js";
import type { VideosModule } from "./videos.module.js";
import type { VideoRow } from "./video.repository.js";
import { videoKeys } from "../../contracts/media-layout.js";
import type { VideoProgress } from "./video.types.js";

const exec = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL("../../worker.ts", import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value (not null/undefined/false); fails after `timeoutMs` with `what`. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, what: string | (() => string), timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
    await sleep(50);
  }
}

export interface Source {
  path: string;
  probe: ProbeResult;
  sizeBytes: number;
}

/** Generates a clip in the harness's data dir and probes it. */
export async function makeSource(h: Harness, name: string, spec: ClipSpec): Promise<Source> {
  const file = await makeClip(h.ctx.media, path.join(h.dataDir, `${name}.mp4`), spec);
  return { path: file, probe: await probe(h.ctx.media, file, { timeoutS: 30 }), sizeBytes: (await stat(file)).size };
}

/** A video whose upload just finished: row, stored original, accept() (which enqueues the conversion). */
export async function submitVideo(h: Harness, mod: VideosModule, ownerId: string, source: Source, title: string): Promise<string> {
  const v = await mod.videos.create({ ownerId, title, description: "", visibility: "public", language: null, originalFilename: "clip.mp4", sizeBytes: source.sizeBytes });
  await h.ctx.storage.putFile(videoKeys.original(v.id), source.path, { contentType: "video/mp4" });
  await mod.videos.accept(v.id, source.probe, videoKeys.original(v.id), source.sizeBytes);
  return v.id;
}

export const progressOf = (v: VideoRow): VideoProgress | null => (v.progress ? (JSON.parse(v.progress) as VideoProgress) : null);

/**
 * Waits until the video is processing and its stored progress shows the encode under way. With
 * `reconcile`, each poll first runs a reconcile pass (what the API's loop does every ~2 s), so a
 * worker process's progress shows at once and a test can act while ffmpeg runs.
 */
export function waitForProgress(mod: VideosModule, id: string, opts: { reconcile?: boolean; timeoutMs?: number } = {}): Promise<VideoRow> {
  let last: VideoRow | undefined;
  return waitFor(
    async () => {
      if (opts.reconcile) await mod.results.reconcile();
      last = await mod.repo.find(id);
      return last?.status === "processing" && (progressOf(last)?.percent ?? 0) > 0 ? last : null;
    },
    () => `video ${id} to be processing with percent > 0 (last: ${last?.status} ${last?.progress})`,
    opts.timeoutMs ?? 45_000,
  );
}

export function waitForStatus(mod: VideosModule, id: string, status: string, timeoutMs = 45_000): Promise<VideoRow> {
  let last: VideoRow | undefined;
  return waitFor(
    async () => {
      last = await mod.repo.find(id);
      if (status !== "failed" && last?.status === "failed") throw new Error(`video ${id} failed: ${last.failure_code} ${last.failure_message}`);
      return last?.status === status ? last : null;
    },
    () => `video ${id} to be ${status} (last: ${last?.status} ${last?.progress})`,
    timeoutMs,
  );
}

/**
 * Checks what a player would fetch: the master playlist, every media playlist it lists (VOD,
 * ended) and every segment (and init section) those list. Returns the number of segments.
 * On disk storage ffprobe also opens the master as a player would and reads its duration.
 */
export async function assertPlayable(h: Harness, masterKey: string, expectedDurationS: number): Promise<number> {
  const { storage } = h.ctx;
  const master = (await storage.getBuffer(masterKey)).toString("utf8");
  if (!master.startsWith("#EXTM3U")) throw new Error(`${masterKey} is not a playlist`);
  const dirOf = (key: string) => key.slice(0, key.lastIndexOf("/") + 1);
  const uris = [
    ...master.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")),
    ...[...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
  ].map((l) => l.trim());
  if (uris.length === 0) throw new Error(`${masterKey} lists no playlist`);
  let segments = 0;
  for (const uri of uris) {
    const key = `${dirOf(masterKey)}${uri}`;
    const pl = parseMediaPlaylist((await storage.getBuffer(key)).toString("utf8"));
    if (!pl.ended || pl.playlistType !== "VOD") throw new Error(`${key} is not a finished VOD playlist`);
    if (pl.segments.length === 0) throw new Error(`${key} lists no segment`);
    const listed = [...(pl.mapUri ? [pl.mapUri] : []), ...pl.segments.map((s) => s.uri)];
    for (const seg of listed) {
      if (!(await storage.exists(`${dirOf(key)}${seg}`))) throw new Error(`${key} lists ${seg}, which is not in storage`);
    }
    segments += pl.segments.length;
  }
  const local = storage.localPath(masterKey);
  if (local) {
    const { stdout } = await exec(h.ctx.media.ffprobe, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", local]);
    const duration = Number.parseFloat(stdout.trim());
    if (!(Math.abs(duration - expectedDurationS) < 0.5)) throw new Error(`the master plays ${duration} s, expected ${expectedDurationS} s`);
  }
  return segments;
}

/** Processes (other than this one) whose command line mentions `needle`: e.g. an ffmpeg writing into a work dir. */
export async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(needle)) pids.push(Number(name));
  }
  return pids;
}

/** Entries of the harness's WORK_DIR (absent: none). */
export async function workDirEntries(h: Harness): Promise<string[]> {
  return readdir(h.config.media.tmpDir).catch(() => []);
}

/**
 * The environment of a worker process on the harness's backends: the same DATA_DIR (SQLite file,
 * disk storage, WORK_DIR), the same PostgreSQL schema (DATABASE_SCHEMA) or Redis prefix; nothing
 * else of this process's environment (see childEnv).
 */
export async function workerEnv(h: Harness, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATA_DIR: h.dataDir,
    WORK_DIR: h.config.media.tmpDir,
  };
  if (h.config.redisUrl) {
    env.REDIS_URL = h.config.redisUrl;
    env.REDIS_PREFIX = h.config.redisPrefix;
  } else if (h.config.db.kind === "postgres") {
    env.DATABASE_URL = h.config.db.url!;
    // the harness isolates this file in its own schema: the connection's search_path names it
    const r = await sql<{ schema: string }>`select current_schema() as schema`.execute(h.ctx.db);
    env.DATABASE_SCHEMA = r.rows[0]!.schema;
  } else {
    env.DATABASE_URL = `sqlite:${h.config.db.sqlitePath}`;
  }
  return childEnv({ ...env, ...extra });
}

/** A `src/worker.ts` process; its output is kept for failure messages. */
export class WorkerProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", WORKER_ENTRY], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the worker consumes the queue. */
  started(timeoutMs = 45_000): Promise<true> {
    return waitFor(
      async () => {
        if (!this.alive) throw new Error(`the worker exited: ${this.output}`);
        return this.output.includes('"msg":"worker started"');
      },
      () => `the worker to start (output: ${this.output})`,
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}
