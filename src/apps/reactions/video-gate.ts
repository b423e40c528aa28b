/**
 * Who may touch a video's reactions and comments: anyone who may see the video (the videos
 * domain's rule, `VideoService.canView`), once it is playable. Anything else does not exist for
 * the caller (404), as everywhere in the API, so private videos' ids give nothing away.
 */
import { notFound } from "../../lib/errors.js";
import { VideoService, type VideoRepository, type VideoRow } from "../videos/index.js";
import type { AuthUser, Role } from "../users/index.js";
import type { CommentRepository, CommentWithAuthor } from "./comment.repository.js";

export class VideoGate {
  constructor(
    private readonly videos: Pick<VideoRepository, "find">,
    private readonly comments: Pick<CommentRepository, "find">,
  ) {}

  async video(id: string, user: AuthUser | null, role: Role): Promise<VideoRow> {
    const v = await this.videos.find(id);
    if (!v || v.playable !== 1 || !VideoService.canView(v, user, role)) throw notFound("Video not found.", "video_not_found");
    return v;
  }

  /** A comment of a video the caller may see; deleted placeholders count as existing. */
  async comment(id: string, user: AuthUser | null, role: Role): Promise<{ comment: CommentWithAuthor; video: VideoRow }> {
    const c = await this.comments.find(id);
    const v = c ? await this.videos.find(c.video_id) : undefined;
    if (!c || !v || v.playable !== 1 || !VideoService.canView(v, user, role)) throw notFound("Comment not found.", "comment_not_found");
    return { comment: c, video: v };
  }
}
