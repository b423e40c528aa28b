/**
 * Continue watching. Sessions report positions here (`record`), throttled per user and video to
 * one write per SAVE_INTERVAL while playing, and written at once on pause, seek and when the
 * last device leaves; a new personal session starts from `resumeAt`. Near the end (the last 5 %
 * or 10 s) a video counts as finished: it stays in the list, but the next session starts over,
 * as YouTube and Netflix do.
 */
import { LRUCache } from "lru-cache";
import { notFound } from "../../lib/errors.js";
import { nowIso } from "../../lib/ids.js";
import { VideoService, toListItem, type VideoRepository } from "../videos/index.js";
import { can, type AuthUser } from "../users/index.js";
import type { HistoryRepository, HistoryRow } from "./history.repository.js";
import type { HistoryItem } from "./playback.schemas.js";

/** Why a position is being saved: only `tick` is throttled. */
export type SaveReason = "tick" | "pause" | "seek" | "leave";

export function isFinished(position: number, duration: number | null): boolean {
  if (duration === null || duration <= 0) return false;
  return position >= duration - Math.min(10, duration * 0.05);
}

export class HistoryService {
  /** last write per `user|video`, for the throttle; bounded, like every in-memory cache here */
  private readonly lastWrite = new LRUCache<string, number>({ max: 50_000 });
  /** the pause setting, read at most every 10 s per user and process rather than on every tick */
  private readonly pausedCache = new LRUCache<string, boolean>({ max: 50_000, ttl: 10_000 });

  constructor(
    private readonly repo: HistoryRepository,
    private readonly videos: Pick<VideoRepository, "findWithOwner">,
    private readonly opts: { saveIntervalMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async record(userId: string, videoId: string, position: number, duration: number | null, reason: SaveReason): Promise<boolean> {
    const key = `${userId}|${videoId}`;
    const now = this.now();
    if (reason === "tick" && now - (this.lastWrite.get(key) ?? 0) < this.opts.saveIntervalMs) return false;
    if (await this.isPaused(userId)) return false;
    this.lastWrite.set(key, now);
    await this.repo.save({ user_id: userId, video_id: videoId, position, duration, updated_at: new Date(now).toISOString() });
    return true;
  }

  /** Where a new session of this user starts: the saved position, 0 if finished, paused or none. */
  async resumeAt(userId: string, videoId: string): Promise<number> {
    if (await this.isPaused(userId)) return 0;
    const row = await this.repo.find(userId, videoId);
    if (!row || isFinished(row.position, row.duration)) return 0;
    return row.position;
  }

  async list(user: AuthUser, limit: number, offset: number): Promise<{ count: number; results: HistoryItem[] }> {
    const { rows, count } = await this.repo.list(user.id, limit, offset, can(user.role, "video:moderate"));
    const results: HistoryItem[] = [];
    for (const r of rows) {
      const item = await this.item(r, user);
      if (item) results.push(item);
    }
    return { count, results };
  }

  private async item(r: HistoryRow, user: AuthUser): Promise<HistoryItem | null> {
    const v = await this.videos.findWithOwner(r.video_id);
    // A video that turned private since is no longer listed (the row stays, should it come back).
    if (!v || !VideoService.canView(v, user, user.role)) return null;
    const li = toListItem(v);
    return {
      video: { id: v.id, title: v.title, duration: v.duration_s, poster: li.poster },
      position: r.position,
      duration: r.duration,
      finished: isFinished(r.position, r.duration),
      updated: r.updated_at,
    };
  }

  async remove(userId: string, videoId: string): Promise<void> {
    if (!(await this.repo.remove(userId, videoId))) throw notFound("No history entry for this video.", "history_not_found");
    this.lastWrite.delete(`${userId}|${videoId}`);
  }

  async clear(userId: string): Promise<number> {
    return this.repo.clear(userId);
  }

  async isPaused(userId: string): Promise<boolean> {
    const cached = this.pausedCache.get(userId);
    if (cached !== undefined) return cached;
    const p = await this.repo.paused(userId);
    this.pausedCache.set(userId, p);
    return p;
  }

  async setPaused(userId: string, paused: boolean): Promise<{ paused: boolean }> {
    await this.repo.setPaused(userId, paused, nowIso());
    this.pausedCache.set(userId, paused);
    return { paused };
  }
}
