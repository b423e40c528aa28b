/** The SQL of reports, commenting blocks and hidden commenters. */
import type { Selectable } from "kysely";
import type { Db } from "../../platform/db/db.js";
import type { ReportsTable } from "../../platform/db/tables.js";
import { nowIso } from "../../lib/ids.js";

export type ReportRow = Selectable<ReportsTable>;
export type ReportWithContext = ReportRow & {
  reporter_username: string | null;
  video_title: string | null;
  video_owner_id: string | null;
  video_duration_s: number | null;
};

export type BlockWithUser = { user_id: string; reason: string | null; created_at: string; username: string | null };

export class ModerationRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a report; the partial unique index refuses a second open one (isUniqueViolation). */
  async insertReport(row: ReportRow): Promise<void> {
    await this.db.insertInto("reports").values(row).execute();
  }

  async openReportOf(reporterId: string, kind: "comment" | "video", targetId: string): Promise<ReportRow | undefined> {
    return this.db
      .selectFrom("reports")
      .selectAll()
      .where("reporter_id", "=", reporterId)
      .where("target_kind", "=", kind)
      .where("target_id", "=", targetId)
      .where("status", "=", "open")
      .executeTakeFirst();
  }

  async findReport(id: string): Promise<ReportRow | undefined> {
    return this.db.selectFrom("reports").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Newest first on (created_at, id); `after` walks on (n) or back (p). */
  async reports(status: ReportRow["status"], after: { key: [string, string]; dir: "n" | "p" } | undefined, limit: number): Promise<ReportWithContext[]> {
    const forwardDesc = after?.dir !== "p";
    let q = this.db
      .selectFrom("reports")
      .leftJoin("users", "users.id", "reports.reporter_id")
      .leftJoin("videos", "videos.id", "reports.video_id")
      .selectAll("reports")
      .select(["users.username as reporter_username", "videos.title as video_title", "videos.owner_id as video_owner_id", "videos.duration_s as video_duration_s"])
      .where("reports.status", "=", status);
    if (after) {
      const [k, id] = after.key;
      const op = forwardDesc ? "<" : ">";
      q = q.where((eb) => eb.or([eb("reports.created_at", op, k), eb.and([eb("reports.created_at", "=", k), eb("reports.id", op, id)])]));
    }
    return q
      .orderBy("reports.created_at", forwardDesc ? "desc" : "asc")
      .orderBy("reports.id", forwardDesc ? "desc" : "asc")
      .limit(limit + 1)
      .execute();
  }

  /** Closes one open report, or every open report on its target (`wholeTarget`). */
  async closeReports(r: ReportRow, status: "dismissed" | "removed", by: string, at: string, wholeTarget: boolean): Promise<void> {
    let q = this.db.updateTable("reports").set({ status, resolved_at: at, resolved_by: by }).where("status", "=", "open");
    q = wholeTarget ? q.where("target_kind", "=", r.target_kind).where("target_id", "=", r.target_id) : q.where("id", "=", r.id);
    await q.execute();
  }

  async userExists(id: string): Promise<boolean> {
    return !!(await this.db.selectFrom("users").select("id").where("id", "=", id).executeTakeFirst());
  }

  async block(userId: string, by: string, reason: string | null): Promise<{ user_id: string; reason: string | null; created_at: string }> {
    await this.db
      .insertInto("comment_blocks")
      .values({ user_id: userId, blocked_by: by, reason, created_at: nowIso() })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ reason, blocked_by: by }))
      .execute();
    return this.db.selectFrom("comment_blocks").select(["user_id", "reason", "created_at"]).where("user_id", "=", userId).executeTakeFirstOrThrow();
  }

  /** Blocks, newest first on (created_at, user_id), with the blocked user's name; `after` as in reports(). */
  async blocks(after: { key: [string, string]; dir: "n" | "p" } | undefined, limit: number): Promise<BlockWithUser[]> {
    const forwardDesc = after?.dir !== "p";
    let q = this.db
      .selectFrom("comment_blocks")
      .leftJoin("users", "users.id", "comment_blocks.user_id")
      .select(["comment_blocks.user_id", "comment_blocks.reason", "comment_blocks.created_at", "users.username"]);
    if (after) {
      const [k, id] = after.key;
      const op = forwardDesc ? "<" : ">";
      q = q.where((eb) => eb.or([eb("comment_blocks.created_at", op, k), eb.and([eb("comment_blocks.created_at", "=", k), eb("comment_blocks.user_id", op, id)])]));
    }
    return q
      .orderBy("comment_blocks.created_at", forwardDesc ? "desc" : "asc")
      .orderBy("comment_blocks.user_id", forwardDesc ? "desc" : "asc")
      .limit(limit + 1)
      .execute();
  }

  async unblock(userId: string): Promise<void> {
    await this.db.deleteFrom("comment_blocks").where("user_id", "=", userId).execute();
  }

  async hide(ownerId: string, userId: string): Promise<void> {
    await this.db
      .insertInto("hidden_commenters")
      .values({ owner_id: ownerId, user_id: userId, created_at: nowIso() })
      .onConflict((oc) => oc.columns(["owner_id", "user_id"]).doNothing())
      .execute();
  }

  async unhide(ownerId: string, userId: string): Promise<void> {
    await this.db.deleteFrom("hidden_commenters").where("owner_id", "=", ownerId).where("user_id", "=", userId).execute();
  }
}
