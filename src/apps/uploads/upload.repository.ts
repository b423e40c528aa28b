/** Upload rows: the only module that writes the `uploads` table. */
import { sql, type Selectable, type Updateable } from "kysely";
import type { Db } from "../../platform/db/db.js";
import type { UploadsTable } from "../../platform/db/tables.js";
import { nowIso } from "../../lib/ids.js";

export type UploadRow = Selectable<UploadsTable>;
export type UploadPatch = Updateable<UploadsTable>;

/** `uploading`: receiving bytes; `completed`: every byte is in, handed to validation; `refused`: stopped by the server. */
export const UPLOAD_STATES = ["uploading", "completed", "refused"] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

export class UploadRepository {
  constructor(private readonly db: Db) {}

  async insert(row: UploadRow): Promise<void> {
    await this.db.insertInto("uploads").values(row).execute();
  }

  async find(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async findMany(ids: string[]): Promise<UploadRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom("uploads").selectAll().where("id", "in", ids).execute();
  }

  async findByVideo(videoId: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom("uploads").selectAll().where("video_id", "=", videoId).executeTakeFirst();
  }

  async update(id: string, patch: UploadPatch): Promise<void> {
    await this.db
      .updateTable("uploads")
      .set({ ...patch, updated_at: nowIso() })
      .where("id", "=", id)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("uploads").where("id", "=", id).execute();
  }

  async deleteMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteFrom("uploads").where("id", "in", ids).execute();
  }

  /** Unfinished, unexpired uploads of a user, split into whole uploads and partial ones. */
  async activeCounts(userId: string, now: string): Promise<{ whole: number; partial: number; partialBytes: number }> {
    const rows = await this.db
      .selectFrom("uploads")
      .select(["partial", sql<number>`count(*)`.as("n"), sql<number>`coalesce(sum(length), 0)`.as("bytes")])
      .where("user_id", "=", userId)
      .where((eb) => eb.or([eb("state", "=", "uploading"), eb.and([eb("partial", "=", 1), eb("state", "=", "completed")])]))
      .where("expires_at", ">", now)
      .groupBy("partial")
      .execute();
    let whole = 0;
    let partial = 0;
    let partialBytes = 0;
    for (const r of rows) {
      if (Number(r.partial) === 1) {
        partial = Number(r.n);
        partialBytes = Number(r.bytes);
      } else whole = Number(r.n);
    }
    return { whole, partial, partialBytes };
  }

  /** Uploads whose expiry passed: unfinished ones, partials never concatenated, and old finished or refused records. */
  async expired(now: string, limit = 500): Promise<UploadRow[]> {
    return this.db.selectFrom("uploads").selectAll().where("expires_at", "<=", now).orderBy("expires_at").limit(limit).execute();
  }

  /** Completed uploads whose video is still `validating` (a restart interrupted them). */
  async pendingValidation(): Promise<UploadRow[]> {
    return this.db
      .selectFrom("uploads")
      .innerJoin("videos", "videos.id", "uploads.video_id")
      .selectAll("uploads")
      .where("uploads.state", "=", "completed")
      .where("videos.status", "=", "validating")
      .execute();
  }

  async byUser(userId: string): Promise<UploadRow[]> {
    return this.db.selectFrom("uploads").selectAll().where("user_id", "=", userId).execute();
  }
}
