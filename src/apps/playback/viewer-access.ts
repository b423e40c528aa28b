/**
 * Who is watching, and may they: the one access rule of every playback route (WebSocket, HTTP
 * fallback, SSE, rooms). `?token=` may carry an access token or the video's playback token; they
 * are told apart by their `typ` claim (token.service.ts signs both with the API's key).
 *
 * Refusals, as close codes on the WebSocket and statuses over HTTP:
 * - 401 `not_authenticated`: a private video and no credentials; or a bad/expired access token.
 * - 403 `playback_token_*`: a playback token that is invalid, expired or for another video.
 * - 404 `video_not_found`: no such video, not playable yet, or private and the signed-in caller
 *   is neither its owner nor staff (the API never confirms a private video exists).
 */
import type { FastifyRequest } from "fastify";
import { decodeJwt } from "jose";
import { forbidden, notFound, unauthorized } from "../../lib/errors.js";
import type { Db } from "../../platform/db/db.js";
import type { PlaybackService } from "../streaming/index.js";
import { authenticate, type AuthUser, type Role, type TokenService } from "../users/index.js";
import { VideoService, type VideoDetail, type VideoQueryService, type VideoRepository, type VideoRow } from "../videos/index.js";
import { catalogueOf, type Catalogue } from "./video-catalogue.js";

export interface Viewer {
  user: AuthUser | null;
  role: Role;
  /** holds a valid playback token for this video (private videos without an account) */
  viaPlaybackToken: boolean;
  /** the account a playback token was issued to, if it names one */
  tokenUserId: string | null;
  /** the video's playback epoch the token was issued under: another one means the owner changed the visibility since */
  tokenEpoch?: number;
}

export interface WatchedVideo {
  row: VideoRow;
  detail: VideoDetail;
  catalogue: Catalogue;
}

export class ViewerAccess {
  constructor(
    private readonly deps: {
      db: Db;
      tokens: TokenService;
      playback: Pick<PlaybackService, "verify">;
      repo: Pick<VideoRepository, "find" | "findWithOwner">;
      queries: Pick<VideoQueryService, "detailOf">;
    },
  ) {}

  /** The caller: a Bearer header (already checked by the auth hook), else `?token=` of either kind. */
  async identify(req: FastifyRequest, videoId: string, token: string | undefined): Promise<Viewer> {
    if (req.user) return { user: req.user, role: req.user.role, viaPlaybackToken: false, tokenUserId: null };
    if (!token) return { user: null, role: "guest", viaPlaybackToken: false, tokenUserId: null };
    const typ = this.tokenType(token);
    if (typ === "playback") {
      const claims = await this.deps.playback.verify(token, videoId);
      return { user: null, role: "guest", viaPlaybackToken: true, tokenUserId: claims.uid, tokenEpoch: claims.epoch };
    }
    const user = await authenticate(req, this.deps.db, this.deps.tokens, true);
    return { user, role: user?.role ?? "guest", viaPlaybackToken: false, tokenUserId: null };
  }

  /** A playable video the viewer may watch, with its switchable renditions; throws otherwise. */
  async video(videoId: string, viewer: Viewer): Promise<WatchedVideo> {
    const row = await this.deps.repo.findWithOwner(videoId);
    if (!row || row.playable !== 1) throw notFound("Video not found.", "video_not_found");
    this.check(row, viewer);
    const detail = await this.deps.queries.detailOf(row);
    return { row, detail, catalogue: catalogueOf(detail) };
  }

  /** The video as stored now (after a change): to re-check every watcher against one read. */
  current(videoId: string): Promise<VideoRow | undefined> {
    return this.deps.repo.find(videoId);
  }

  /** Null if the viewer may go on watching `row` (undefined: deleted), else why not. */
  refusal(row: VideoRow | undefined, viewer: Viewer): Error | null {
    if (!row || row.playable !== 1) return notFound("Video not found.", "video_not_found");
    try {
      this.check(row, viewer);
      return null;
    } catch (err) {
      return err as Error;
    }
  }

  private check(row: Pick<VideoRow, "owner_id" | "visibility" | "playback_epoch">, viewer: Viewer): void {
    // A playback token counts while the video's visibility has not changed since it was issued
    // (its epoch); checked against the row read for this very check, so a re-check after a
    // change closes the sockets of revoked links too.
    const tokenValid = viewer.viaPlaybackToken && (viewer.tokenEpoch ?? 0) === row.playback_epoch;
    if (tokenValid || VideoService.canView(row, viewer.user, viewer.role)) return;
    if (viewer.viaPlaybackToken) throw forbidden("The playback token was revoked: the video's visibility changed since it was issued.", "playback_token_revoked");
    if (!viewer.user) throw unauthorized("not_authenticated", "This video needs a sign-in or a playback token.");
    throw notFound("Video not found.", "video_not_found");
  }

  /**
   * Reads `typ` without verifying, only to pick the verifier, which then checks everything
   * (signature, expiry, audience of the claim): an expired playback token is reported as
   * `playback_token_expired`, not as a bad access token.
   */
  private tokenType(token: string): string {
    try {
      const claims = decodeJwt(token);
      return typeof claims.typ === "string" ? claims.typ : "access";
    } catch {
      return "access";
    }
  }
}
