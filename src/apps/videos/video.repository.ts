/** Video rows: the only module that writes the `videos` table. */
import { sql, type Selectable, type Updateable } from "kysely";
import type { Db } from "../../platform/db/db.js";
import type { VideosTable } from "../../platform/db/tables.js";
import { nowIso } from "../../lib/ids.js";

export type VideoRow = Selectable<VideosTable>;
export type VideoPatch = Updateable<VideosTable>;

export interface OwnerSummary {
  id: string;
  username: string;
  display_name: string;
}

const SERVING_COLUMNS = ["id", "owner_id", "visibility", "status", "playable", "title", "description", "duration_s", "chapters", "media", "playback_epoch", "updated_at"] as const;
export type ServingVideo = Pick<VideoRow, (typeof SERVING_COLUMNS)[number]>;

export type VideoWithOwner = VideoRow & { owner_username: string; owner_display_name: string };

export interface ListFilter {
  /** null: anonymous */
  viewerId: string | null;
  /** moderators and admins see everything */
  seeAll: boolean;
  search?: string | undefined;
  ownerId?: string | undefined;
  status?: string | undefined;
  order: "created_at" | "views" | "likes";
  desc: boolean;
  /** keyset boundary [orderValue, id] and direction */
  after?: { key: [string | number, string]; dir: "n" | "p" } | undefined;
  limit: number;
}

/** Escapes LIKE wildcards so a search for `50%` means the text, not a pattern. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class VideoRepository {
  constructor(private readonly db: Db) {}

  async insert(row: VideoRow): Promise<void> {
    await this.db.insertInto("videos").values(row).execute();
  }

  async find(id: string): Promise<VideoRow | undefined> {
    return this.db.selectFrom("videos").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * What media delivery needs of a video, on each streaming cache miss: the access fields and the
   * media JSON, not the probe or the upload bookkeeping (the probe alone can be kilobytes).
   */
  async findServing(id: string): Promise<ServingVideo | undefined> {
    return this.db.selectFrom("videos").select(SERVING_COLUMNS).where("id", "=", id).executeTakeFirst();
  }

  async findWithOwner(id: string): Promise<VideoWithOwner | undefined> {
    return this.db
      .selectFrom("videos")
      .innerJoin("users", "users.id", "videos.owner_id")
      .selectAll("videos")
      .select(["users.username as owner_username", "users.display_name as owner_display_name"])
      .where("videos.id", "=", id)
      .executeTakeFirst();
  }

  async update(id: string, patch: VideoPatch): Promise<void> {
    await this.db
      .updateTable("videos")
      .set({ ...patch, updated_at: nowIso() })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Conditional update: applies the patch only while the video is in one of `fromStatuses`, so a
   * late worker message cannot resurrect a deleted or failed video. Returns whether it applied.
   */
  async updateIfStatus(id: string, fromStatuses: string[], patch: VideoPatch): Promise<boolean> {
    const r = await this.db
      .updateTable("videos")
      .set({ ...patch, updated_at: nowIso() })
      .where("id", "=", id)
      .where("status", "in", fromStatuses)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Compare-and-set of the media JSON: writes `next` only while the stored text is still
   * `expected`, so concurrent edits of a video's tracks (or a reprocess clearing them) cannot be
   * overwritten by a stale read. Returns whether it applied.
   */
  async updateMediaIf(id: string, expected: string, next: string): Promise<boolean> {
    const r = await this.db
      .updateTable("videos")
      .set({ media: next, updated_at: nowIso() })
      .where("id", "=", id)
      .where("media", "=", expected)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Sets the progress JSON of a video in `status` unless it already holds exactly that text:
   * of two processes reporting the same change at once, one applies it (and publishes it).
   */
  async updateProgressIfChanged(id: string, status: string, progress: string): Promise<boolean> {
    const r = await this.db
      .updateTable("videos")
      .set({ progress, updated_at: nowIso() })
      .where("id", "=", id)
      .where("status", "=", status)
      .where((eb) => eb.or([eb("progress", "is", null), eb("progress", "!=", progress)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Catalogue query with keyset pagination on (order column, id). Visibility: everyone sees
   * public videos that can be played; signed-in users also see all of their own; staff see all.
   */
  async list(f: ListFilter): Promise<VideoWithOwner[]> {
    let q = this.db
      .selectFrom("videos")
      .innerJoin("users", "users.id", "videos.owner_id")
      .selectAll("videos")
      .select(["users.username as owner_username", "users.display_name as owner_display_name"]);
    if (!f.seeAll) {
      q = q.where((eb) => {
        const publicPlayable = eb.and([eb("videos.visibility", "=", "public"), eb("videos.playable", "=", 1)]);
        return f.viewerId ? eb.or([publicPlayable, eb("videos.owner_id", "=", f.viewerId)]) : publicPlayable;
      });
    }
    if (f.ownerId) q = q.where("videos.owner_id", "=", f.ownerId);
    if (f.status) q = q.where("videos.status", "=", f.status);
    if (f.search) {
      const pattern = `%${likeEscape(f.search.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(videos.title)`, "like", sql`${pattern} escape '\\'`),
          eb(sql`lower(videos.description)`, "like", sql`${pattern} escape '\\'`),
        ]),
      );
    }
    const col = `videos.${f.order}` as const;
    // Walking forward in a descending list means smaller keys; a "previous" page walks back.
    const forwardDesc = f.desc !== (f.after?.dir === "p");
    if (f.after) {
      const [k, id] = f.after.key;
      const op = forwardDesc ? "<" : ">";
      q = q.where((eb) => eb.or([eb(col, op, k), eb.and([eb(col, "=", k), eb("videos.id", op, id)])]));
    }
    return q
      .orderBy(col, forwardDesc ? "desc" : "asc")
      .orderBy("videos.id", forwardDesc ? "desc" : "asc")
      .limit(f.limit + 1)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("videos").where("id", "=", id).execute();
  }

  /**
   * Bytes that count against the owner's quota: every original not refused, plus what its
   * conversion stored (renditions, thumbnails, subtitles; their real sizes, known once converted).
   */
  async quotaUsed(ownerId: string): Promise<number> {
    const r = await this.db
      .selectFrom("videos")
      .select(sql<number>`coalesce(sum(size_bytes + media_bytes), 0)`.as("used"))
      .where("owner_id", "=", ownerId)
      .where("status", "!=", "failed")
      .executeTakeFirst();
    return Number(r?.used ?? 0);
  }

  /** The owner's videos on their way to a conversion or in one (uploading … processing). */
  async countConversions(ownerId: string, exceptVideoId?: string): Promise<number> {
    const r = await this.db
      .selectFrom("videos")
      .select(sql<number>`count(*)`.as("n"))
      .where("owner_id", "=", ownerId)
      .where("status", "in", ["uploading", "validating", "queued", "processing"])
      .$if(exceptVideoId !== undefined, (qb) => qb.where("id", "!=", exceptVideoId!))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async countByStatus(ownerId: string, status: string): Promise<number> {
    const r = await this.db
      .selectFrom("videos")
      .select(sql<number>`count(*)`.as("n"))
      .where("owner_id", "=", ownerId)
      .where("status", "=", status)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async idsByOwner(ownerId: string): Promise<string[]> {
    const rows = await this.db.selectFrom("videos").select("id").where("owner_id", "=", ownerId).execute();
    return rows.map((r) => r.id);
  }

  async idsByStatus(statuses: string[]): Promise<string[]> {
    const rows = await this.db.selectFrom("videos").select("id").where("status", "in", statuses).execute();
    return rows.map((r) => r.id);
  }
}
