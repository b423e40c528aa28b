/**
 * A short-lived in-memory cache of what the media routes need to know about a video (visibility,
 * owner, status, media JSON), so a range or segment request does not query the database. Entries
 * live `ttlMs` (2 s by default); `invalidate(id)` drops one at once when this process changes the
 * video (chapters PUT here; edits and deletions in the videos domain reach it through
 * `onVideoChanged`, subscribed in streaming.module.ts). Rows come through the videos domain's
 * repository: this domain never queries the videos table itself. Other
 * processes see changes within the TTL. Concurrent misses for one id share a single query.
 * Missing videos are cached too (as null), so probing unknown ids does not reach the database.
 */
import { LRUCache } from "lru-cache";
import type { ServingVideo } from "../videos/index.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";

export interface StreamVideo {
  id: string;
  owner_id: string;
  visibility: string;
  status: string;
  playable: boolean;
  title: string;
  description: string;
  duration_s: number | null;
  chapters: string | null;
  media: TranscodeResult | null;
  /** playback tokens of another epoch are refused (playback.service.ts) */
  playback_epoch: number;
  updated_at: string;
}

/** Where rows come from: the videos domain's repository. */
export interface VideoSource {
  findServing(id: string): Promise<ServingVideo | undefined>;
}

export class VideoCache {
  /** rows by id; `{ v: null }` records a missing video (lru-cache values cannot be null) */
  private readonly rows: LRUCache<string, { v: StreamVideo | null }>;
  /**
   * In-flight queries (not a cache). Kept beside the LRU rather than using its `fetchMethod`:
   * lru-cache aborts a fetch whose key is deleted and rejects its waiters, whereas here a racing
   * `invalidate` only keeps the older row out of the cache and its waiters still get an answer.
   */
  private readonly loading = new Map<string, Promise<StreamVideo | null>>();
  private generation = 0;

  /** `maxEntries` rows of ~1-2 KiB each (media JSON included) bound the cache to a few MiB. */
  constructor(
    private readonly source: VideoSource,
    ttlMs = 2000,
    maxEntries = 10_000,
  ) {
    // lru-cache reads ttl 0 as "never expires" and wants an integer: 0 here means "do not reuse".
    this.rows = new LRUCache({ max: maxEntries, ttl: Math.max(1, Math.round(ttlMs)) });
  }

  async get(id: string): Promise<StreamVideo | null> {
    const hit = this.rows.get(id);
    if (hit) return hit.v;
    let p = this.loading.get(id);
    if (!p) {
      const gen = this.generation;
      p = this.load(id)
        .then((v) => {
          // An invalidation that raced the query must win: do not store the older row.
          if (gen === this.generation) this.rows.set(id, { v });
          return v;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  invalidate(id: string): void {
    this.generation++;
    this.rows.delete(id);
    this.loading.delete(id);
  }

  private async load(id: string): Promise<StreamVideo | null> {
    const r = await this.source.findServing(id);
    if (!r) return null;
    let media: TranscodeResult | null = null;
    try {
      media = r.media ? (JSON.parse(r.media) as TranscodeResult) : null;
    } catch {
      media = null;
    }
    return { ...r, playable: r.playable === 1, duration_s: r.duration_s === null ? null : Number(r.duration_s), media };
  }
}
