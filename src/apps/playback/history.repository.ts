/**
 * Continue-watching rows (`watch_history`) and the per-user setting that pauses them
 * (`watch_settings`). Upserts are one statement on both databases (`ON CONFLICT … DO UPDATE`),
 * so two API processes saving the same user's position never fail on the primary key.
 */
import type { Db } from "../../platform/db/db.js";
import type { WatchHistoryTable } from "../../platform/db/tables.js";

export type HistoryRow = WatchHistoryTable;

export class HistoryRepository {
  constructor(private readonly db: Db) {}

  async save(row: HistoryRow): Promise<void> {
    await this.db
      .insertInto("watch_history")
      .values(row)
      .onConflict((oc) => oc.columns(["user_id", "video_id"]).doUpdateSet({ position: row.position, duration: row.duration, updated_at: row.updated_at }))
      .execute();
  }

  async find(userId: string, videoId: string): Promise<HistoryRow | undefined> {
    return this.db.selectFrom("watch_history").selectAll().where("user_id", "=", userId).where("video_id", "=", videoId).executeTakeFirst();
  }

  /**
   * Newest first, of the videos the user may still see (not private, their own, or any for
   * staff: VideoService.canView), filtered here so `count` and the pages agree with what is listed.
   */
  async list(userId: string, limit: number, offset: number, seeAll = false): Promise<{ rows: HistoryRow[]; count: number }> {
    let q = this.db.selectFrom("watch_history").innerJoin("videos", "videos.id", "watch_history.video_id").where("watch_history.user_id", "=", userId);
    if (!seeAll) q = q.where((eb) => eb.or([eb("videos.visibility", "!=", "private"), eb("videos.owner_id", "=", userId)]));
    const rows = await q
      .selectAll("watch_history")
      .orderBy("watch_history.updated_at", "desc")
      .orderBy("watch_history.video_id", "asc")
      .limit(limit)
      .offset(offset)
      .execute();
    const c = await q.select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirst();
    return { rows, count: Number(c?.n ?? 0) };
  }

  async remove(userId: string, videoId: string): Promise<boolean> {
    const r = await this.db.deleteFrom("watch_history").where("user_id", "=", userId).where("video_id", "=", videoId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async clear(userId: string): Promise<number> {
    const r = await this.db.deleteFrom("watch_history").where("user_id", "=", userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async paused(userId: string): Promise<boolean> {
    const r = await this.db.selectFrom("watch_settings").select("history_paused").where("user_id", "=", userId).executeTakeFirst();
    return r?.history_paused === 1;
  }

  async setPaused(userId: string, paused: boolean, at: string): Promise<void> {
    await this.db
      .insertInto("watch_settings")
      .values({ user_id: userId, history_paused: paused ? 1 : 0, updated_at: at })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ history_paused: paused ? 1 : 0, updated_at: at }))
      .execute();
  }
}
