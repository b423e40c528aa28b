/**
 * Test helpers for the uploads domain: real media made with ffmpeg's lavfi sources (tiny: 1–2 s,
 * 320×240), hostile files derived from them by byte surgery, and small tus request helpers over
 * `app.inject()`.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import type { Harness } from "../../test/app-harness.js";
import { authHeader } from "../../test/users.fixtures.js";
import type { VideoRow } from "../videos/index.js";
import { formatUploadMetadata, TUS_RESUMABLE } from "./tus-headers.js";

const run = promisify(execFile);

export const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** Runs ffmpeg with lavfi inputs; returns the output file's bytes. */
export async function ffmpeg(dir: string, name: string, args: string[]): Promise<Buffer> {
  const out = path.join(dir, name);
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, out], { timeout: 60_000 });
  return readFile(out);
}

const V = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1"];
const A = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"];
const X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"];

/** A 1 s 320×240 H.264/AAC MP4 with its index first (`+faststart`). */
export const makeMp4 = (dir: string, name = "clip.mp4") => ffmpeg(dir, name, [...V, ...A, ...X264, "-c:a", "aac", "-shortest", "-movflags", "+faststart"]);
/** Same, index last (the encoder default): a cut-short copy has no `moov`. */
export const makeMp4IndexLast = (dir: string) => ffmpeg(dir, "clip-moov-last.mp4", [...V, ...A, ...X264, "-c:a", "aac", "-shortest"]);
export const makeMkv = (dir: string) => ffmpeg(dir, "clip.mkv", [...V, ...X264]);
// libvpx is the slowest encoder here: a smaller, sparser clip keeps it well under a second.
export const makeWebm = (dir: string) =>
  ffmpeg(dir, "clip.webm", ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "100k"]);
export const makeAvi = (dir: string) => ffmpeg(dir, "clip.avi", [...V, "-c:v", "mpeg4", "-q:v", "8"]);
export const makeTs = (dir: string) => ffmpeg(dir, "clip.ts", [...V, ...X264, "-f", "mpegts"]);
export const makeOgv = (dir: string) => ffmpeg(dir, "clip.ogv", [...V, "-c:v", "libtheora", "-q:v", "3"]);
export const makeMjpegAvi = (dir: string) => ffmpeg(dir, "mjpeg.avi", ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1", "-c:v", "mjpeg", "-q:v", "8"]);
export const makeAudioM4a = (dir: string) => ffmpeg(dir, "audio.m4a", [...A, "-c:a", "aac"]);
export const makeAudioOnlyMkv = (dir: string) => ffmpeg(dir, "audio.mkv", [...A, "-c:a", "libvorbis"]);
export const makeFlv = (dir: string) => ffmpeg(dir, "clip.flv", [...V, "-c:v", "flv1"]);
export const makeMpegPs = (dir: string) => ffmpeg(dir, "clip.mpg", [...V, "-c:v", "mpeg2video", "-f", "vob"]);
export const makeWav = (dir: string) => ffmpeg(dir, "tone.wav", [...A]);
export const makeGif = (dir: string) => ffmpeg(dir, "anim.gif", ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5:duration=1"]);
export const makePng = (dir: string) => ffmpeg(dir, "frame.png", ["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"]);

/** Patches every occurrence of an ISO-BMFF box's 32-bit field at `fieldOffset` past the box type. */
function patchBoxes(b: Buffer, type: string, fieldOffset: (version: number) => number, value: number): number {
  let n = 0;
  for (let i = b.indexOf(type); i >= 0; i = b.indexOf(type, i + 4)) {
    const version = b[i + 4]!;
    if (version !== 0) continue;
    b.writeUInt32BE(value, i + 4 + fieldOffset(version));
    n++;
  }
  return n;
}

/** The MP4 with its movie/media headers claiming ~49 days (mvhd/mdhd/tkhd durations at max). */
export function withHugeDuration(mp4: Buffer): Buffer {
  const b = Buffer.from(mp4);
  // v0 mvhd/mdhd: version+flags(4) creation(4) modification(4) timescale(4) duration(4)
  patchBoxes(b, "mvhd", () => 16, 0xfffffff0);
  patchBoxes(b, "mdhd", () => 16, 0xfffffff0);
  // v0 tkhd: version+flags(4) creation(4) modification(4) track_id(4) reserved(4) duration(4)
  patchBoxes(b, "tkhd", () => 20, 0xfffffff0);
  return b;
}

/** An MJPEG AVI whose headers and JPEG frames all claim 16000×16000 (ffmpeg's limit is ~16k²). */
export function withHugeResolution(avi: Buffer, side = 16000): Buffer {
  const b = Buffer.from(avi);
  const patchChunk = (tag: string, wOff: number, hOff: number) => {
    for (let i = b.indexOf(tag); i >= 0; i = b.indexOf(tag, i + 4)) {
      b.writeUInt32LE(side, i + 8 + wOff);
      b.writeUInt32LE(side, i + 8 + hOff);
    }
  };
  patchChunk("avih", 32, 36); // MainAVIHeader dwWidth/dwHeight
  patchChunk("strf", 4, 8); // BITMAPINFOHEADER biWidth/biHeight
  // JPEG SOF0: FF C0 len(2) precision(1) height(2) width(2)
  for (let i = b.indexOf(Buffer.from([0xff, 0xc0])); i >= 0; i = b.indexOf(Buffer.from([0xff, 0xc0]), i + 2)) {
    b.writeUInt16BE(side, i + 5);
    b.writeUInt16BE(side, i + 7);
  }
  return b;
}

/** The `ftyp` and `moov` boxes of a faststart MP4, without any media data. */
export function mp4HeaderOnly(mp4: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off + 8 <= mp4.length; ) {
    const size = mp4.readUInt32BE(off);
    const type = mp4.toString("latin1", off + 4, off + 8);
    if (size < 8) break;
    if (type !== "mdat") parts.push(mp4.subarray(off, off + size));
    off += size;
  }
  return Buffer.concat(parts);
}

/** A minimal ZIP archive (one stored file), built by hand. */
export function zipArchive(name: string, content: Buffer): Buffer {
  const nameB = Buffer.from(name);
  const crc = crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameB.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameB.length, 28);
  const localLen = local.length + nameB.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameB.length, 12);
  end.writeUInt32LE(localLen, 16);
  return Buffer.concat([local, nameB, content, central, nameB, end]);
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A tiny x86-64 ELF header (what `file` calls an executable), padded. */
export function elfBinary(): Buffer {
  const b = Buffer.alloc(4096);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(b, 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // x86-64
  return b;
}

/** Deterministic pseudo-random bytes (a fixed seed keeps failures reproducible). */
export function randomBytesSeeded(n: number, seed = 42): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  // Avoid an accidental known signature in the first bytes.
  b[0] = 0x9c;
  return b;
}

export async function writeTmp(dir: string, name: string, data: Buffer): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, data);
  return p;
}

// -----------------------------------------------------------------------------------------------
// tus over inject

export const TUS = { "tus-resumable": TUS_RESUMABLE };

export interface CreateOptions {
  metadata?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

export async function tusCreate(h: Harness, access: string, length: number | null, o: CreateOptions = {}) {
  const headers: Record<string, string> = { ...TUS, ...authHeader(access), ...(o.headers ?? {}) };
  if (length !== null) headers["upload-length"] = String(length);
  if (o.metadata) headers["upload-metadata"] = formatUploadMetadata(o.metadata);
  if (o.body) headers["content-type"] = "application/offset+octet-stream";
  const r = await h.app.inject({ method: "POST", url: "/api/videos/upload/", headers, ...(o.body ? { payload: o.body } : {}) });
  const location = typeof r.headers.location === "string" ? r.headers.location : null;
  return { r, location, path: location ? new URL(location, "http://localhost").pathname : null, videoId: (r.headers["video-id"] as string | undefined) ?? null };
}

export async function tusPatch(h: Harness, access: string, urlPath: string, offset: number, body: Buffer | Readable, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: "PATCH",
    url: urlPath,
    headers: {
      ...TUS,
      ...authHeader(access),
      "content-type": "application/offset+octet-stream",
      "upload-offset": String(offset),
      ...headers,
    },
    payload: body,
  });
}

export async function tusHead(h: Harness, access: string, urlPath: string) {
  return h.app.inject({ method: "HEAD", url: urlPath, headers: { ...TUS, ...authHeader(access) } });
}

/** Creates an upload and sends `data` in `chunk`-byte PATCHes; returns the ids and the last response. */
export async function tusUpload(h: Harness, access: string, data: Buffer, o: { chunk?: number; metadata?: Record<string, string> } = {}) {
  const c = await tusCreate(h, access, data.length, { metadata: o.metadata ?? { filename: "clip.mp4", title: "A clip" } });
  if (c.r.statusCode !== 201 || !c.path) throw new Error(`create failed: ${c.r.statusCode} ${c.r.body}`);
  const chunk = o.chunk ?? data.length;
  let last = null;
  for (let off = 0; off < data.length || (data.length === 0 && last === null); off += chunk) {
    if (data.length === 0) break;
    last = await tusPatch(h, access, c.path, off, data.subarray(off, off + chunk));
    if (last.statusCode !== 204) break;
  }
  return { ...c, last };
}

export async function videoRow(h: Harness, id: string): Promise<VideoRow | undefined> {
  return h.domains.videos.repo.find(id);
}

/** Polls the video until its status is one of `statuses` (validation runs in the background). */
export async function waitForStatus(h: Harness, id: string, statuses: string[] = ["queued", "failed"], timeoutMs = 20_000): Promise<VideoRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await videoRow(h, id);
    if (v && statuses.includes(v.status)) return v;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${v?.status ?? "missing"} after ${timeoutMs} ms (wanted ${statuses.join("|")})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A body that sends `first` and then breaks, like a client whose connection dropped. */
export function brokenBody(first: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
        setTimeout(() => this.destroy(new Error("connection reset by test")), 20);
      }
    },
  });
}
