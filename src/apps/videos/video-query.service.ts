/**
 * The API-facing side of videos: catalogue, detail with media URLs and tokens, edits, deletion,
 * reprocessing. Visibility rules live in VideoService (canView/canManage).
 */
import { conflict, forbidden, notFound } from "../../lib/errors.js";
import { decodeCursor, paginate, pageUrl } from "../../lib/pagination.js";
import type { ProbeResult } from "../../platform/media/media.types.js";
import { can, type Role, type AuthUser } from "../users/index.js";
import { VideoRepository, type VideoWithOwner } from "./video.repository.js";
import type { VideoDetail, VideoListItem, VideoListQuery, VideoPatch } from "./video.schemas.js";
import { parseJson, toDetail, toListItem, type Chapter, type UploadedSubtitle } from "./video-serializer.js";
import { VideoService } from "./video.service.js";

export interface DetailHooks {
  /** signed playback token for private videos' media URLs */
  /** a playback token for the video at its current playback epoch */
  issuePlaybackToken(videoId: string, epoch: number): Promise<string>;
  /** chapters with derived ends (stored ones, else parsed from the description) */
  chapters(v: VideoWithOwner): Chapter[];
  /** subtitle tracks uploaded after conversion */
  uploadedSubtitles(v: VideoWithOwner): UploadedSubtitle[];
  /** BCP-47 short form of a container language tag */
  toBcp47(tag: string | null): string;
  /** a video's visibility or files changed: drop cached copies (the streaming hot path caches) */
  onVideoChanged(videoId: string): void;
  /** the viewer's like/dislike (the reactions domain's, bound by the composition root) */
  myReaction(videoId: string, userId: string): Promise<"like" | "dislike" | null>;
}

const ORDER = {
  "-created": { order: "created_at", desc: true },
  created: { order: "created_at", desc: false },
  "-views": { order: "views", desc: true },
  "-likes": { order: "likes", desc: true },
} as const;

export class VideoQueryService {
  constructor(
    private readonly repo: VideoRepository,
    private readonly videos: VideoService,
    private readonly hooks: DetailHooks,
  ) {}

  async list(q: VideoListQuery, user: AuthUser | null, role: Role, requestUrl: string, baseUrl: string) {
    const limit = q.limit ?? 20;
    const cursor = decodeCursor(q.cursor);
    const { order, desc } = ORDER[q.ordering ?? "-created"];
    const key = cursor ? ([cursor.key[0]!, String(cursor.key[1])] as [string | number, string]) : undefined;
    const rows = await this.repo.list({
      viewerId: user?.id ?? null,
      seeAll: can(role, "video:moderate"),
      search: q.search?.trim() || undefined,
      ownerId: q.owner,
      status: q.status,
      order,
      desc,
      after: cursor && key ? { key, dir: cursor.dir } : undefined,
      limit,
    });
    const page = paginate(rows, limit, cursor, (r) => [r[order], r.id], (c) => pageUrl(requestUrl, baseUrl, c));
    return { ...page, results: page.results.map(toListItem) as VideoListItem[] };
  }

  /** `viewerId`: the signed-in caller, whose reaction the detail carries (`my_reaction`). */
  async detailOf(v: VideoWithOwner, viewerId: string | null = null): Promise<VideoDetail> {
    const token = v.visibility === "private" ? await this.hooks.issuePlaybackToken(v.id, v.playback_epoch) : null;
    const myReaction = viewerId ? await this.hooks.myReaction(v.id, viewerId) : null;
    const probe = parseJson<ProbeResult>(v.probe);
    return toDetail(v, {
      playbackToken: token,
      chapters: this.hooks.chapters(v),
      uploadedSubtitles: this.hooks.uploadedSubtitles(v),
      audioLanguagesFromProbe: (probe?.audio ?? []).map((a) => this.hooks.toBcp47(a.language ?? v.language)),
      myReaction,
    });
  }

  async load(id: string, user: AuthUser | null, role: Role): Promise<VideoWithOwner> {
    const v = await this.repo.findWithOwner(id);
    if (!v || !VideoService.canView(v, user, role)) throw notFound("Video not found.", "video_not_found");
    return v;
  }

  async detail(id: string, user: AuthUser | null, role: Role): Promise<VideoDetail> {
    return this.detailOf(await this.load(id, user, role), user?.id ?? null);
  }

  async update(id: string, patch: VideoPatch, user: AuthUser | null, role: Role): Promise<VideoDetail> {
    const v = await this.load(id, user, role);
    if (!VideoService.canManage(v, user, role)) throw forbidden();
    await this.videos.edit(id, patch);
    this.hooks.onVideoChanged(id);
    return this.detail(id, user, role);
  }

  async remove(id: string, user: AuthUser | null, role: Role): Promise<void> {
    const v = await this.load(id, user, role);
    if (!VideoService.canManage(v, user, role)) throw forbidden();
    await this.videos.remove(id);
    this.hooks.onVideoChanged(id);
  }

  async reprocess(id: string, user: AuthUser | null, role: Role): Promise<VideoDetail> {
    const v = await this.load(id, user, role);
    if (!v.source_key) throw conflict("original_missing", "The original was not kept (KEEP_ORIGINALS=false) or never validated.");
    if (v.status === "uploading" || v.status === "validating") throw conflict("not_ready", "The upload is not finished.");
    await this.videos.reprocess(id);
    this.hooks.onVideoChanged(id);
    return this.detail(id, user, role);
  }
}
