/**
 * Playback tokens for private videos: short JWTs `{vid, pe, typ: "playback"}` signed with the
 * API's key, carried as `?token=` in every media URL so hls.js and native players (which cannot
 * add headers) can fetch playlists and segments. Bound to one video and expiring
 * (PLAYBACK_TOKEN_TTL, 6 h by default). An access token is never accepted as a playback token
 * (the `typ` differs) and a playback token never authenticates API calls (TokenService.verify
 * requires `typ: "access"`).
 *
 * A token is a link the owner may have shared: it must die when the owner changes the video's
 * visibility (or deletes it), not 6 hours later. `pe` is the video's `playback_epoch` at issue,
 * which every visibility change bumps; verification compares it with the epoch of the row the
 * caller already holds (the media routes' cached row, so a segment request costs no query).
 */
import { errors as joseErrors } from "jose";
import type { Config } from "../../config.js";
import { AppError } from "../../lib/errors.js";
import type { TokenService } from "../users/index.js";

export interface PlaybackClaims {
  vid: string;
  /** the viewer the token was issued to (for view counting), when known */
  uid: string | null;
  /** the video's playback epoch when the token was issued (0 for tokens older than epochs) */
  epoch: number;
}

export const playbackDenied = (code: "playback_token_invalid" | "playback_token_expired" | "playback_token_wrong_video" | "playback_token_revoked", message: string) =>
  new AppError(403, code, message);

export const playbackTokenRevoked = () => playbackDenied("playback_token_revoked", "The playback token was revoked: the video's visibility changed since it was issued.");

export class PlaybackService {
  constructor(
    private readonly tokens: TokenService,
    private readonly ttlS: number,
  ) {}

  static fromConfig(tokens: TokenService, config: Config): PlaybackService {
    return new PlaybackService(tokens, config.playback.tokenTtlS);
  }

  /**
   * A token for the media of `videoId` at its current `epoch` (videos.playback_epoch: 0 until its
   * visibility first changes); `userId` (optional) attributes views to that account.
   */
  async issue(videoId: string, epoch = 0, userId?: string | null): Promise<string> {
    return this.tokens.signClaims({ vid: videoId, pe: epoch, typ: "playback", ...(userId ? { uid: userId } : {}) }, this.ttlS);
  }

  /**
   * Verifies a token for `videoId`; throws 403 (invalid, expired, for another video, or, when
   * the video's current `epoch` is given, issued before its visibility last changed).
   */
  async verify(token: string, videoId: string, epoch?: number): Promise<PlaybackClaims> {
    let payload: Record<string, unknown>;
    try {
      payload = await this.tokens.verifyClaims(token);
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw playbackDenied("playback_token_expired", "The playback token has expired.");
      throw playbackDenied("playback_token_invalid", "The playback token is invalid.");
    }
    if (payload.typ !== "playback" || typeof payload.vid !== "string") {
      throw playbackDenied("playback_token_invalid", "The playback token is invalid.");
    }
    if (payload.vid !== videoId) throw playbackDenied("playback_token_wrong_video", "The playback token is for another video.");
    const pe = typeof payload.pe === "number" ? payload.pe : 0;
    if (epoch !== undefined && pe !== epoch) throw playbackTokenRevoked();
    return { vid: payload.vid, uid: typeof payload.uid === "string" ? payload.uid : null, epoch: pe };
  }
}
