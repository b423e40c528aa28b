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

export type VideoWithOwner = VideoRow & { owner_username: string; owner_display_name: string };

export class VideoRepository {
  constructor(private readonly db: Db) {}

  async insert(row: VideoRow): Promise<void> {
    await this.db.insertInto("videos").values(row).execute();
  }

  async find(id: string): Promise<VideoRow | undefined> {
    return this.db.selectFrom("videos").selectAll().where("id", "=", id).executeTakeFirst();
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

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("videos").where("id", "=", id).execute();
  }

  /** Bytes that count against the owner's quota: every original not refused. */
  async quotaUsed(ownerId: string): Promise<number> {
    const r = await this.db
      .selectFrom("videos")
      .select(sql<number>`coalesce(sum(size_bytes), 0)`.as("used"))
      .where("owner_id", "=", ownerId)
      .where("status", "!=", "failed")
      .executeTakeFirst();
    return Number(r?.used ?? 0);
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
