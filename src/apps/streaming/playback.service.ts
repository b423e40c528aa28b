/**
 * Playback tokens for private videos: short JWTs `{vid, typ: "playback"}` signed with the API's
 * key, carried as `?token=` in every media URL so hls.js and native players (which cannot add
 * headers) can fetch playlists and segments. Bound to one video and expiring
 * (PLAYBACK_TOKEN_TTL, 6 h by default). An access token is never accepted as a playback token
 * (the `typ` differs) and a playback token never authenticates API calls (TokenService.verify
 * requires `typ: "access"`).
 */
import { errors as joseErrors } from "jose";
import type { Config } from "../../config.js";
import { AppError } from "../../lib/errors.js";
import type { TokenService } from "../users/index.js";

export interface PlaybackClaims {
  vid: string;
  /** the viewer the token was issued to (for view counting), when known */
  uid: string | null;
}

export const playbackDenied = (code: "playback_token_invalid" | "playback_token_expired" | "playback_token_wrong_video", message: string) =>
  new AppError(403, code, message);

export class PlaybackService {
  constructor(
    private readonly tokens: TokenService,
    private readonly ttlS: number,
  ) {}

  static fromConfig(tokens: TokenService, config: Config): PlaybackService {
    return new PlaybackService(tokens, config.playback.tokenTtlS);
  }

  /** A token for the media of `videoId`; `userId` (optional) attributes views to that account. */
  async issue(videoId: string, userId?: string | null): Promise<string> {
    return this.tokens.signClaims({ vid: videoId, typ: "playback", ...(userId ? { uid: userId } : {}) }, this.ttlS);
  }

  /** Verifies a token for `videoId`; throws 403 (invalid, expired, or for another video). */
  async verify(token: string, videoId: string): Promise<PlaybackClaims> {
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
    return { vid: payload.vid, uid: typeof payload.uid === "string" ? payload.uid : null };
  }
}
