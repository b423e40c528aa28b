/**
 * Mirrors the attempt's local output dir to storage under the job's prefix: every object the
 * conversion writes goes through here, typed by the media layout and recorded (sizes for the
 * bandwidth figures, keys for the stale-output sweep).
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { objectContentType, playlistIn } from "../../contracts/media-layout.js";
import { TranscodeError } from "../../contracts/transcode.messages.js";
import type { Storage } from "../../platform/storage/storage.js";
import { eventPlaylistPrefix, finalizeVodPlaylist, parseMediaPlaylist } from "./playlists.js";
import { storageOp } from "./transcode-errors.js";

interface RenditionState {
  /** relative dir, e.g. `hls/720p` */
  dir: string;
  /** uploaded playlist text (to skip unchanged re-uploads) */
  lastPlaylist: string | null;
  segments: number;
}

/**
 * Like Promise.all, but waits for every task before rethrowing the first failure: no upload may
 * still be running once a pass has returned (the temp dir is removed right after a failure).
 */
async function settleAll(tasks: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

/**
 * Segments are uploaded before the playlist that lists them, so a player never sees a URI that
 * 404s.
 */
export class HlsPublisher {
  /** relative path → bytes, of every segment/file uploaded */
  readonly sizes = new Map<string, number>();
  /** relative paths of every object written (files, playlists, master, MP4s) */
  readonly written = new Set<string>();
  /** relative path → bytes of its last write: a playlist rewritten while growing counts once */
  private readonly stored = new Map<string, number>();
  private readonly renditions: RenditionState[];

  constructor(
    private readonly storage: Storage,
    private readonly outDir: string,
    private readonly prefix: string,
    /** the rendition dirs to mirror (`hls/<quality>`, `hls/audio/<dir>`) */
    dirs: readonly string[],
  ) {
    this.renditions = dirs.map((dir) => ({ dir, lastPlaylist: null, segments: 0 }));
  }

  key(rel: string): string {
    return `${this.prefix}${rel}`;
  }

  /** The playlist text last uploaded for `dir`, if any. */
  uploadedPlaylist(dir: string): string | null {
    return this.renditions.find((r) => r.dir === dir)?.lastPlaylist ?? null;
  }

  async uploadFile(rel: string): Promise<void> {
    // Buffer + put rather than putFile: the file must stay in place (MP4s are made from it), and
    // segments are small (a few MB at most).
    const body = await readFile(path.join(this.outDir, rel));
    await this.put(rel, body);
    this.sizes.set(rel, body.length);
  }

  async put(rel: string, body: Buffer | string): Promise<void> {
    await storageOp(`uploading ${rel}`, () => this.storage.put(this.key(rel), body, { contentType: objectContentType(rel) }));
    this.written.add(rel);
    this.stored.set(rel, typeof body === "string" ? Buffer.byteLength(body) : body.length);
  }

  /** Uploads a local file stored elsewhere than the output dir (an MP4) as `rel`. */
  async putFile(rel: string, local: string): Promise<void> {
    const { size } = await stat(local);
    await storageOp(`uploading ${rel}`, () => this.storage.putFile(this.key(rel), local, { contentType: objectContentType(rel) }));
    this.written.add(rel);
    this.stored.set(rel, size);
  }

  /** Bytes of everything written so far, each object at its last size: what the conversion stores. */
  storedBytes(): number {
    let total = 0;
    for (const n of this.stored.values()) total += n;
    return total;
  }

  private async readPlaylist(r: RenditionState): Promise<string | null> {
    try {
      return await readFile(path.join(this.outDir, playlistIn(r.dir)), "utf8");
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async uploadListed(r: RenditionState, text: string): Promise<number> {
    const pl = parseMediaPlaylist(text);
    if (pl.mapUri && !this.sizes.has(`${r.dir}/${pl.mapUri}`)) await this.uploadFile(`${r.dir}/${pl.mapUri}`);
    for (const s of pl.segments) {
      const rel = `${r.dir}/${s.uri}`;
      if (!this.sizes.has(rel)) await this.uploadFile(rel);
    }
    return pl.segments.length;
  }

  /** One pass while ffmpeg runs: new segments, then the EVENT playlists. True when every rendition has a segment. */
  async pass(): Promise<boolean> {
    await settleAll(
      this.renditions.map(async (r) => {
        const text = await this.readPlaylist(r);
        if (text === null) return;
        const count = await this.uploadListed(r, text);
        if (count === 0) return;
        const ev = eventPlaylistPrefix(text, count);
        if (ev !== r.lastPlaylist) {
          await this.put(playlistIn(r.dir), ev);
          r.lastPlaylist = ev;
        }
        r.segments = count;
      }),
    );
    return this.renditions.every((r) => r.segments > 0);
  }

  /** After ffmpeg: every remaining segment, then each playlist as VOD. Returns the final texts by dir. */
  async finalize(): Promise<Record<string, string>> {
    const finals: Record<string, string> = {};
    await settleAll(
      this.renditions.map(async (r) => {
        const text = await this.readPlaylist(r);
        if (text === null) throw new TranscodeError("transcode_failed", `ffmpeg wrote no playlist for ${r.dir}`);
        r.segments = await this.uploadListed(r, text);
        if (r.segments === 0) throw new TranscodeError("transcode_failed", `ffmpeg wrote no segment for ${r.dir}`);
        const vod = finalizeVodPlaylist(text);
        await writeFile(path.join(this.outDir, playlistIn(r.dir)), vod);
        await this.put(playlistIn(r.dir), vod);
        r.lastPlaylist = vod;
        finals[r.dir] = vod;
      }),
    );
    return finals;
  }
}
