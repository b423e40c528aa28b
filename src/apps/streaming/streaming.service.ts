/**
 * The streaming domain's use cases: who may fetch a video's media (visibility, playback token,
 * bearer), progressive MP4 and HLS delivery, playlist rewriting for private videos, view counting
 * on first media bytes, chapters and the segmented structure.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { Config } from "../../config.js";
import { conflict, forbidden, notFound, validationError } from "../../lib/errors.js";
import { UUID_RE } from "../../lib/ids.js";
import type { Storage } from "../../platform/storage/storage.js";
import { chaptersOf, chaptersToWebVtt, segmentSpan, validateChapters, VideoService, withEnds, type Chapter, type ChapterInput, type VideoRepository } from "../videos/index.js";
import { cacheControl, contentTypeOf, kindOf, mp4CacheControl, mp4Rel, objectContentType, PLAYLIST_NAME } from "../../contracts/media-layout.js";
import { hlsKey, hlsRel, masterKey } from "./hls.js";
import { isMasterPlaylist, parseMasterPlaylist, parseMediaPlaylist, resolveRelative, rewritePlaylistUris, withQueryParam, type MediaPlaylist } from "./m3u8.js";
import { BufferSource, type ObjectSender } from "./object-sender.js";
import type { MediaOffload } from "./offload.js";
import type { PlaybackService } from "./playback.service.js";
import type { ResponsePlan } from "./range.js";
import type { StreamVideo, VideoCache } from "./video-cache.js";
import { viewerKey, type Viewer, type ViewCounter } from "./view-counter.js";

export interface MediaAccess {
  video: StreamVideo;
  /** the playback token the request carried (private videos only) */
  token: string | null;
  /** the account to attribute views to, when known */
  viewerId: string | null;
  /** a private video opened with a bearer header (owner, moderator, admin) */
  viaBearer: boolean;
}

export interface SegmentInfo {
  index: number;
  uri: string;
  start: number;
  duration: number;
}

export interface RungSegments {
  quality: string;
  playlist_uri: string;
  target_duration: number | null;
  ended: boolean;
  segments: SegmentInfo[];
}

export interface ChapterSegments extends Chapter {
  /** per quality, the first and last segment index covering the chapter */
  segments: Record<string, { first: number; last: number } | null>;
}

export interface SegmentStructure {
  renditions: RungSegments[];
  chapters: ChapterSegments[];
}

/** Playlists are tiny; anything bigger is not one of ours. */
const MAX_PLAYLIST_BYTES = 4 * 1024 * 1024;

/**
 * At most this many parsed playlists: one per rung and audio/subtitle track (a handful per video)
 * of the videos being watched in this process; a parsed VOD playlist is a few KiB.
 */
const PLAYLIST_CACHE_MAX = 2048;

/** Parsed media playlists, kept as briefly as video rows (they change only while converting). */
class PlaylistCache {
  /** `{ pl: null }` records a missing or unparseable playlist (lru-cache values cannot be null) */
  private readonly cache: LRUCache<string, { pl: MediaPlaylist | null }>;

  constructor(
    private readonly sender: ObjectSender,
    ttlMs: number,
  ) {
    // lru-cache reads ttl 0 as "never expires" and wants an integer: 0 here means "do not reuse".
    this.cache = new LRUCache({ max: PLAYLIST_CACHE_MAX, ttl: Math.max(1, Math.round(ttlMs)) });
  }

  async get(key: string): Promise<MediaPlaylist | null> {
    const hit = this.cache.get(key);
    if (hit) return hit.pl;
    const obj = await this.sender.readAll(key, MAX_PLAYLIST_BYTES);
    let pl: MediaPlaylist | null = null;
    if (obj) {
      try {
        pl = parseMediaPlaylist(obj.body.toString("utf8"));
      } catch {
        pl = null;
      }
    }
    this.cache.set(key, { pl });
    return pl;
  }

  invalidatePrefix(prefix: string): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }
}

export interface StreamingDeps {
  config: Config;
  storage: Storage;
  repo: VideoRepository;
  videos: VideoCache;
  sender: ObjectSender;
  playback: PlaybackService;
  views: ViewCounter;
  viewerHashKey: Buffer;
  onError: (err: unknown, msg: string) => void;
  cacheTtlMs?: number;
  /** MEDIA_OFFLOAD=nginx (disk): media GETs are handed to nginx once access is checked */
  offload?: MediaOffload | null;
}

export class StreamingService {
  private readonly playlists: PlaylistCache;
  /** null: Node sends the bytes (MEDIA_OFFLOAD=none, or S3) */
  readonly offload: MediaOffload | null;

  constructor(private readonly d: StreamingDeps) {
    this.playlists = new PlaylistCache(d.sender, d.cacheTtlMs ?? 2000);
    this.offload = d.offload ?? null;
  }

  /**
   * Public and unlisted media: anyone with the id. Private media: a bearer who may see the video
   * (owner, moderators, admins) or a valid playback token for this video; a token that is wrong,
   * expired or for another video is refused with 403. Without any credential a private video is
   * hidden (404), as the detail endpoint does.
   */
  async authorize(req: FastifyRequest, id: string): Promise<MediaAccess> {
    if (!UUID_RE.test(id)) throw notFound("Video not found.", "video_not_found");
    const video = await this.d.videos.get(id);
    if (!video) throw notFound("Video not found.", "video_not_found");
    if (video.visibility !== "private") return { video, token: null, viewerId: req.user?.id ?? null, viaBearer: false };
    if (req.user && VideoService.canView(video, req.user, req.role)) return { video, token: null, viewerId: req.user.id, viaBearer: true };
    const token = (req.query as { token?: unknown } | undefined)?.token;
    if (typeof token === "string" && token !== "") {
      const claims = await this.d.playback.verify(token, id, video.playback_epoch);
      return { video, token, viewerId: claims.uid, viaBearer: false };
    }
    throw notFound("Video not found.", "video_not_found");
  }

  /**
   * The token nested URLs must carry: the request's own, or for a private video opened with a
   * bearer header a fresh one, so a player that sent the header only for the master keeps working.
   */
  private async nestedToken(access: MediaAccess): Promise<string | null> {
    if (access.video.visibility !== "private") return null;
    if (access.token) return access.token;
    return access.viaBearer ? this.d.playback.issue(access.video.id, access.video.playback_epoch, access.viewerId) : null;
  }

  /** The account, else the client's address (req.ip: TRUST_PROXY decides whether X-Forwarded-For counts) and user agent. */
  private viewer(req: FastifyRequest, access: MediaAccess): Viewer {
    const ua = typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"] : "";
    return viewerKey(access.viewerId, req.ip, ua, this.d.viewerHashKey);
  }

  /** Counts a view without delaying the caller; failures are logged, never surfaced. */
  private countView(req: FastifyRequest, access: MediaAccess): void {
    this.d.views.record(access.video.id, this.viewer(req, access)).catch((err) => this.d.onError(err, "view counting failed"));
  }

  async recordView(req: FastifyRequest, access: MediaAccess): Promise<boolean> {
    return this.d.views.record(access.video.id, this.viewer(req, access));
  }

  // -------------------------------------------------------------------------------------------
  // Progressive MP4
  // -------------------------------------------------------------------------------------------

  async streamMp4(req: FastifyRequest, reply: FastifyReply, id: string, quality: string): Promise<void> {
    const access = await this.authorize(req, id);
    const rung = access.video.media?.renditions.find((r) => r.quality === quality && r.mp4Key);
    if (!rung?.mp4Key) throw notFound("No progressive MP4 of this quality.", "format_not_found");
    const isPrivate = access.video.visibility === "private";
    const cache = mp4CacheControl(isPrivate);
    if (this.d.storage.kind === "s3" && this.d.config.storage.s3.streamMode === "redirect") {
      if (req.method === "GET" && startsAtZero(req.headers.range)) this.countView(req, access);
      const url = await this.d.storage.presignedGetUrl(rung.mp4Key, 900);
      if (!url) throw notFound("No progressive MP4 of this quality.", "format_not_found");
      // The presigned URL expires: no cache may keep the redirect.
      return reply.status(302).header("location", url).header("cache-control", "no-store").send();
    }
    if (this.offload) {
      // nginx answers the Range and conditional headers, so the view counts on the request's
      // Range as in the redirect mode above, not on a plan.
      const sent = await this.offload.send(reply, rung.mp4Key, { contentType: objectContentType(mp4Rel(rung.quality)), cacheControl: cache });
      if (!sent) throw notFound("No progressive MP4 of this quality.", "format_not_found");
      if (req.method === "GET" && startsAtZero(req.headers.range)) this.countView(req, access);
      return;
    }
    const src = await this.d.sender.open(rung.mp4Key);
    if (!src) throw notFound("No progressive MP4 of this quality.", "format_not_found");
    await this.d.sender.send(req, reply, src, {
      contentType: objectContentType(mp4Rel(rung.quality)),
      cacheControl: cache,
      onPlan: (plan) => {
        if (req.method === "GET" && planStartsAtZero(plan)) this.countView(req, access);
      },
    });
  }

  // -------------------------------------------------------------------------------------------
  // HLS
  // -------------------------------------------------------------------------------------------

  async serveHls(req: FastifyRequest, reply: FastifyReply, id: string, rel: string): Promise<void> {
    const access = await this.authorize(req, id);
    const key = hlsKey(id, rel);
    const contentType = contentTypeOf(rel);
    if (!key || !contentType) throw notFound("No such media file.", "media_not_found");
    const kind = kindOf(rel);
    const isPrivate = access.video.visibility === "private";

    // A private video's playlists are rewritten per request (every nested URI gets the token), so
    // only the Node path below can answer them; public and unlisted ones are the stored bytes.
    if (kind === "playlist" && this.offload && !isPrivate) {
      // Cache-Control as the Node path sets it: the master is finished with the conversion, a
      // media playlist once it has EXT-X-ENDLIST (the parsed-playlist cache knows; 2 s TTL).
      const finished = key === masterKey(id) ? access.video.status === "ready" : ((await this.playlists.get(key))?.ended ?? false);
      if (!(await this.offload.send(reply, key, { contentType, cacheControl: cacheControl("playlist", false, finished) }))) throw notFound("No such media file.", "media_not_found");
      return;
    }

    if (kind === "playlist") {
      const obj = await this.d.sender.readAll(key, MAX_PLAYLIST_BYTES);
      if (!obj) throw notFound("No such media file.", "media_not_found");
      const text = obj.body.toString("utf8");
      // A media playlist is finished once it has EXT-X-ENDLIST (RFC 8216 §4.3.3.4: "no more Media
      // Segments will be added"); the master is finished when the conversion is.
      const finished = isMasterPlaylist(text) ? access.video.status === "ready" : /^#EXT-X-ENDLIST\s*$/m.test(text);
      const cc = cacheControl("playlist", isPrivate, finished);
      const token = await this.nestedToken(access);
      if (token) {
        const body = Buffer.from(rewritePlaylistUris(text, (uri) => (isRelative(uri) ? withQueryParam(uri, "token", token) : uri)), "utf8");
        // The rewritten body differs per token: no validators, never stored (no-store).
        return this.d.sender.send(req, reply, new BufferSource(body), { contentType, cacheControl: cc });
      }
      return this.d.sender.send(req, reply, new BufferSource(obj.body, obj.etag, obj.lastModifiedMs), { contentType, cacheControl: cc });
    }

    if (this.d.storage.kind === "s3" && this.d.config.storage.s3.streamMode === "redirect") {
      if (req.method === "GET") this.maybeCountSegment(req, access, key);
      const url = await this.d.storage.presignedGetUrl(key, 900);
      if (!url || !(await this.d.storage.exists(key))) throw notFound("No such media file.", "media_not_found");
      return reply.status(302).header("location", url).header("cache-control", "no-store").send();
    }
    if (this.offload) {
      if (!(await this.offload.send(reply, key, { contentType, cacheControl: cacheControl(kind, isPrivate, true) }))) throw notFound("No such media file.", "media_not_found");
      if (req.method === "GET" && kind === "segment") this.maybeCountSegment(req, access, key);
      return;
    }
    const src = await this.d.sender.open(key);
    if (!src) throw notFound("No such media file.", "media_not_found");
    await this.d.sender.send(req, reply, src, {
      contentType,
      cacheControl: cacheControl(kind, isPrivate, true),
      onPlan: (plan) => {
        if (req.method === "GET" && kind === "segment" && (plan.status === 200 || plan.status === 206)) this.maybeCountSegment(req, access, key);
      },
    });
  }

  /** A view starts with the first media segment of any video rung (fire and forget). */
  private maybeCountSegment(req: FastifyRequest, access: MediaAccess, key: string): void {
    const id = access.video.id;
    const rel = hlsRel(id, key);
    if (!rel || !rel.includes("/")) return;
    const dir = key.slice(0, key.lastIndexOf("/") + 1);
    const rung = access.video.media?.renditions.find((r) => r.playlistKey.startsWith(dir) && !r.playlistKey.slice(dir.length).includes("/"));
    // While converting the media JSON is not there yet: the rung's playlist is `<dir>/<PLAYLIST_NAME>`.
    const playlistKey = rung?.playlistKey ?? (rel.startsWith("audio/") || rel.startsWith("subs/") ? null : `${dir}${PLAYLIST_NAME}`);
    if (!playlistKey) return;
    this.playlists
      .get(playlistKey)
      .then((pl) => {
        const first = pl?.segments[0];
        if (first && resolveRelative(playlistKey, first.uri) === key) this.countView(req, access);
      })
      .catch((err) => this.d.onError(err, "view counting failed"));
  }

  // -------------------------------------------------------------------------------------------
  // Chapters and the segmented structure
  // -------------------------------------------------------------------------------------------

  durationOf(v: StreamVideo): number | null {
    return v.duration_s ?? v.media?.durationS ?? null;
  }

  chapters(v: StreamVideo): Chapter[] {
    return chaptersOf({ chapters: v.chapters, description: v.description, duration_s: this.durationOf(v) });
  }

  chaptersVtt(v: StreamVideo): string {
    return chaptersToWebVtt(this.chapters(v));
  }

  async sendText(req: FastifyRequest, reply: FastifyReply, body: string, contentType: string, isPrivate: boolean): Promise<void> {
    await this.d.sender.send(req, reply, new BufferSource(Buffer.from(body, "utf8")), {
      contentType,
      cacheControl: isPrivate ? "private, no-store" : "public, max-age=60",
    });
  }

  /** Replaces a video's chapters (owner, moderators, admins); an empty list clears them. */
  async putChapters(req: FastifyRequest, id: string, list: ChapterInput[]): Promise<Chapter[]> {
    if (!UUID_RE.test(id)) throw notFound("Video not found.", "video_not_found");
    const row = await this.d.repo.find(id);
    if (!row || !VideoService.canView(row, req.user, req.role)) throw notFound("Video not found.", "video_not_found");
    if (!VideoService.canManage(row, req.user, req.role)) throw forbidden();
    let duration = row.duration_s === null ? null : Number(row.duration_s);
    if (duration === null && row.media) duration = (JSON.parse(row.media) as { durationS?: number }).durationS ?? null;
    if (duration === null || !(duration > 0)) throw conflict("duration_unknown", "The video's duration is not known yet: chapters can be set once it is probed.");
    const problems = validateChapters(list, duration);
    if (problems.length) {
      throw validationError(problems.map((p) => ({ location: "body", field: p.field, code: p.code, message: p.message })));
    }
    const clean = list.map((c) => ({ title: c.title.trim(), start: c.start }));
    await this.d.repo.update(id, { chapters: clean.length ? JSON.stringify(clean) : null });
    this.d.videos.invalidate(id);
    if (clean.length) return withEnds(clean, duration);
    return chaptersOf({ chapters: null, description: row.description, duration_s: duration });
  }

  /**
   * Per video rung, the segments listed by its stored media playlist with their start times; per
   * chapter, the first and last segment of each rung that cover it (a client prefetches a
   * chapter by fetching that span).
   */
  async segments(access: MediaAccess): Promise<SegmentStructure> {
    const v = access.video;
    const rungs = await this.rungPlaylists(v);
    const token = await this.nestedToken(access);
    const tokenize = (url: string) => (token ? withQueryParam(url, "token", token) : url);
    const renditions: RungSegments[] = [];
    for (const { quality, key } of rungs) {
      const pl = await this.playlists.get(key);
      if (!pl) continue;
      renditions.push({
        quality,
        playlist_uri: tokenize(`/api/videos/${v.id}/hls/${hlsRel(v.id, key)}`),
        target_duration: pl.targetDuration,
        ended: pl.ended,
        segments: pl.segments.map((s) => {
          const segKey = resolveRelative(key, s.uri);
          const rel = segKey ? hlsRel(v.id, segKey) : null;
          return { index: s.index, uri: rel ? tokenize(`/api/videos/${v.id}/hls/${rel}`) : s.uri, start: s.start, duration: s.duration };
        }),
      });
    }
    const chapters = this.chapters(v).map((c) => ({
      ...c,
      segments: Object.fromEntries(renditions.map((r) => [r.quality, segmentSpan(r.segments, c.start, c.end)])),
    }));
    return { renditions, chapters };
  }

  /** The video rungs' media playlists: from the media JSON, else (still converting) from the master. */
  private async rungPlaylists(v: StreamVideo): Promise<{ quality: string; key: string }[]> {
    if (v.media?.renditions.length) {
      return v.media.renditions.filter((r) => hlsRel(v.id, r.playlistKey) !== null).map((r) => ({ quality: r.quality, key: r.playlistKey }));
    }
    const master = await this.d.sender.readAll(masterKey(v.id), MAX_PLAYLIST_BYTES);
    if (!master) throw notFound("This video has no segments yet.", "media_not_available");
    let variants;
    try {
      variants = parseMasterPlaylist(master.body.toString("utf8")).variants;
    } catch {
      throw notFound("This video has no segments yet.", "media_not_available");
    }
    const out: { quality: string; key: string }[] = [];
    for (const variant of variants) {
      const key = resolveRelative(masterKey(v.id), variant.uri);
      if (!key || hlsRel(v.id, key) === null) continue;
      const res = variant.resolution;
      const quality = res ? `${Math.min(res.width, res.height)}p` : key.split("/").slice(-2, -1)[0]!;
      out.push({ quality, key });
    }
    return out;
  }

  /** Forgets everything cached about a video in this process: its row, parsed playlists, open files. */
  invalidate(id: string): void {
    this.d.videos.invalidate(id);
    this.playlists.invalidatePrefix(`videos/${id}/`);
    this.d.sender.invalidatePrefix(`videos/${id}/`);
  }
}

function isRelative(uri: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith("/") && !uri.startsWith("data:");
}

/** The request (without knowing the size) reads from byte 0: no Range, or a first range `0-`. */
export function startsAtZero(range: string | undefined): boolean {
  if (range === undefined) return true;
  return /^\s*bytes\s*=\s*0-/i.test(range);
}

function planStartsAtZero(plan: ResponsePlan): boolean {
  if (plan.status === 200) return true;
  if (plan.status !== 206) return false;
  return "range" in plan ? plan.range.start === 0 : plan.ranges.some((r) => r.start === 0);
}
