/**
 * A short-lived in-memory cache of what the media routes need to know about a video (visibility,
 * owner, status, media JSON), so a range or segment request does not query the database. Entries
 * live `ttlMs` (2 s by default); `invalidate(id)` drops one at once when this process changes the
 * video (chapters PUT here, PATCH/DELETE in the videos domain via `invalidateVideo`). Other
 * processes see changes within the TTL. Concurrent misses for one id share a single query.
 */
import type { Db } from "../../platform/db/db.js";
import type { TranscodeResult } from "../../services/transcoder/transcoder.types.js";

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
  updated_at: string;
}

export class VideoCache {
  private readonly map = new Map<string, { at: number; v: StreamVideo | null }>();
  private readonly loading = new Map<string, Promise<StreamVideo | null>>();
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 2000,
    private readonly maxEntries = 10_000,
  ) {}

  async get(id: string): Promise<StreamVideo | null> {
    const hit = this.map.get(id);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.v;
    let p = this.loading.get(id);
    if (!p) {
      const gen = this.generation;
      p = this.load(id)
        .then((v) => {
          // An invalidation that raced the query must win: do not store the older row.
          if (gen === this.generation) {
            if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
            this.map.set(id, { at: Date.now(), v });
          }
          return v;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  invalidate(id: string): void {
    this.generation++;
    this.map.delete(id);
    this.loading.delete(id);
  }

  private async load(id: string): Promise<StreamVideo | null> {
    const r = await this.db
      .selectFrom("videos")
      .select(["id", "owner_id", "visibility", "status", "playable", "title", "description", "duration_s", "chapters", "media", "updated_at"])
      .where("id", "=", id)
      .executeTakeFirst();
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
