/**
 * Reports (any signed-in user, on a comment or a video), their queue and resolution (moderators
 * and admins: dismiss, or delete the content), site-wide commenting blocks (moderators) and the
 * owner's "hide this user from my videos".
 */
import { isUniqueViolation } from "../../platform/db/db.js";
import { badRequest, fieldError, notFound } from "../../lib/errors.js";
import { newId, nowIso } from "../../lib/ids.js";
import { decodeCursor, paginate, pageUrl } from "../../lib/pagination.js";
import type { AuthUser, Role } from "../users/index.js";
import type { CommentRepository } from "./comment.repository.js";
import { toReply } from "./comment-serializer.js";
import type { CommentService, PageLinks, PageOf } from "./comment.service.js";
import type { ModerationRepository, ReportRow } from "./moderation.repository.js";
import type { Block, BlockListed, BlockListQuery, ModerationReport, Report, ReportCreate, ReportListQuery, ResolveReport } from "./reactions.schemas.js";
import type { VideoGate } from "./video-gate.js";

export interface ModerationDeps {
  repo: ModerationRepository;
  comments: CommentRepository;
  commentService: Pick<CommentService, "removeAny">;
  gate: VideoGate;
  /** deletes a video and its files (the videos domain's VideoService.remove) */
  removeVideo(videoId: string): Promise<void>;
}

const toReport = (r: ReportRow): Report => ({
  id: r.id,
  target_kind: r.target_kind,
  target_id: r.target_id,
  video_id: r.video_id,
  reason: r.reason,
  details: r.details,
  status: r.status,
  created: r.created_at,
  resolved: r.resolved_at,
});

/** A keyset cursor over (timestamp, id), as both moderation lists use. */
function pairCursor(raw: string | undefined): { cursor: ReturnType<typeof decodeCursor>; after: { key: [string, string]; dir: "n" | "p" } | undefined } {
  const cursor = decodeCursor(raw);
  if (!cursor) return { cursor, after: undefined };
  const [k, id] = cursor.key;
  if (cursor.key.length !== 2 || typeof k !== "string" || typeof id !== "string") throw fieldError("invalid_cursor", "The cursor is not valid.", "querystring", "cursor");
  return { cursor, after: { key: [k, id], dir: cursor.dir } };
}

export class ModerationService {
  constructor(private readonly d: ModerationDeps) {}

  /** Reporting the same thing twice while the first report is open answers that report. */
  async report(kind: "comment" | "video", targetId: string, body: ReportCreate, user: AuthUser, role: Role): Promise<{ report: Report; created: boolean }> {
    const videoId = kind === "comment" ? (await this.d.gate.comment(targetId, user, role)).video.id : (await this.d.gate.video(targetId, user, role)).id;
    const row: ReportRow = {
      id: newId(),
      reporter_id: user.id,
      target_kind: kind,
      target_id: targetId,
      video_id: videoId,
      reason: body.reason,
      details: body.details?.trim() || null,
      status: "open",
      created_at: nowIso(),
      resolved_at: null,
      resolved_by: null,
    };
    try {
      await this.d.repo.insertReport(row);
      return { report: toReport(row), created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const open = await this.d.repo.openReportOf(user.id, kind, targetId);
      if (!open) throw err;
      return { report: toReport(open), created: false };
    }
  }

  async listReports(q: ReportListQuery, links: PageLinks): Promise<PageOf<ModerationReport>> {
    const limit = q.limit ?? 20;
    const { cursor, after } = pairCursor(q.cursor);
    const rows = await this.d.repo.reports(q.status ?? "open", after, limit);
    const page = paginate(rows, limit, cursor, (r) => [r.created_at, r.id], (c) => pageUrl(links.requestUrl, links.baseUrl, c));
    const results: ModerationReport[] = [];
    for (const r of page.results) {
      const comment = r.target_kind === "comment" ? await this.d.comments.find(r.target_id) : undefined;
      results.push({
        ...toReport(r),
        reporter: r.reporter_id && r.reporter_username ? { id: r.reporter_id, username: r.reporter_username } : null,
        content: {
          video: r.video_title !== null && r.video_owner_id !== null ? { id: r.video_id, title: r.video_title, owner_id: r.video_owner_id } : null,
          comment: comment ? toReply(comment, r.video_duration_s, null) : null,
        },
      });
    }
    return { ...page, results };
  }

  /**
   * `dismiss` closes this report; `remove` deletes the content and closes every open report on
   * it (a removed video's reports then go with it: they cascade).
   */
  async resolve(reportId: string, body: ResolveReport, moderator: AuthUser): Promise<Report> {
    const r = await this.d.repo.findReport(reportId);
    if (!r) throw notFound("Report not found.", "report_not_found");
    if (r.status !== "open") throw badRequest("report_resolved", "This report is already resolved.");
    const at = nowIso();
    const status = body.action === "dismiss" ? "dismissed" : "removed";
    await this.d.repo.closeReports(r, status, moderator.id, at, body.action === "remove");
    if (body.action === "remove") {
      if (r.target_kind === "comment") {
        const c = await this.d.comments.find(r.target_id);
        if (c && c.deleted === 0) await this.d.commentService.removeAny(c, { id: c.video_id });
      } else {
        await this.d.removeVideo(r.target_id);
      }
    }
    return toReport({ ...r, status, resolved_at: at, resolved_by: moderator.id });
  }

  async block(userId: string, reason: string | undefined, moderator: AuthUser): Promise<Block> {
    if (!(await this.d.repo.userExists(userId))) throw notFound("User not found.", "user_not_found");
    const b = await this.d.repo.block(userId, moderator.id, reason?.trim() || null);
    return { user_id: b.user_id, reason: b.reason, created: b.created_at };
  }

  /** Every commenting block, newest first, with the blocked user's name (null once the account is gone). */
  async listBlocks(q: BlockListQuery, links: PageLinks): Promise<PageOf<BlockListed>> {
    const limit = q.limit ?? 50;
    const { cursor, after } = pairCursor(q.cursor);
    const rows = await this.d.repo.blocks(after, limit);
    const page = paginate(rows, limit, cursor, (b) => [b.created_at, b.user_id], (c) => pageUrl(links.requestUrl, links.baseUrl, c));
    return { ...page, results: page.results.map((b) => ({ user_id: b.user_id, username: b.username, reason: b.reason, created: b.created_at })) };
  }

  async unblock(userId: string): Promise<void> {
    await this.d.repo.unblock(userId);
  }

  /** The owner hides a user from their videos: the user's comments disappear there, new ones are refused. */
  async hide(owner: AuthUser, userId: string): Promise<void> {
    if (userId === owner.id) throw fieldError("cannot_hide_self", "You cannot hide yourself.", "params", "user_id");
    if (!(await this.d.repo.userExists(userId))) throw notFound("User not found.", "user_not_found");
    await this.d.repo.hide(owner.id, userId);
  }

  async unhide(owner: AuthUser, userId: string): Promise<void> {
    await this.d.repo.unhide(owner.id, userId);
  }
}
