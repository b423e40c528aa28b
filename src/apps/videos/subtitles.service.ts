/**
 * Subtitle tracks added or removed after conversion: `PUT /api/videos/{id}/subtitles/{lang}/`
 * (SubRip or WebVTT, converted to WebVTT) and `DELETE`. An uploaded track is a WebVTT rendition
 * like the ones the worker extracts (RFC 8216 §3.5): `hls/subs/<lang>/subs.vtt` plus a
 * one-segment media playlist, recorded in the video's media JSON (`uploadedSubtitles`), and the
 * master playlist is rewritten from that JSON with the worker's own builder.
 *
 * Timing: only once the video is converted (the media JSON exists); before that the answer is
 * 409 `not_converted`. A conversion (or reprocess) rewrites every output, so a track uploaded
 * meanwhile would be lost; refusing it says so at once instead of dropping it silently.
 *
 * Tracks per language: an uploaded track replaces the source track(s) of its language in the
 * master and the API. A source track stored in the same directory (`hls/subs/<lang>/`) is first
 * moved to `hls/subs/<lang>-source/`, so deleting the upload brings the source track back.
 * DELETE removes the uploaded track of the language if there is one, else the source track(s).
 */
import type { Storage } from "../../platform/storage/storage.js";
import { badRequest, conflict, notFound, unprocessable, unsupportedMediaType } from "../../lib/errors.js";
import type { Role, AuthUser } from "../users/index.js";
import { objectContentType, PLAYLIST_NAME, SUBTITLE_FILE, subtitleDir, videoKeys } from "../../contracts/media-layout.js";
import { mpegtsFirstPts, subtitlePlaylist, withTimestampMap, languageName, toBcp47, UNDETERMINED, buildMasterFromResult, type MasterSubtitleTrack, parseMediaPlaylist } from "../../services/transcoder/index.js";
import type { SegmentType, SubtitleTrackOutput, TranscodeResult } from "../../contracts/transcode.messages.js";
import { normalizeSubtitles } from "./subtitles-convert.js";
import type { VideoRepository } from "./video.repository.js";
import type { UploadedSubtitle } from "./video-serializer.js";
import type { VideoService } from "./video.service.js";

/** Upload limit (multipart file size). */
export const SUBTITLES_MAX_BYTES = 5 * 1024 * 1024;

/** The media JSON column: the worker's result plus the tracks uploaded since. */
export type StoredMedia = TranscodeResult & { uploadedSubtitles?: UploadedSubtitle[] };

/** Same shape as the upload metadata's `language` (RFC 5646 syntax, at most 35 characters). */
const LANGUAGE_RE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$/;

/**
 * The BCP-47 short form of a `{lang}` path parameter: `fr`, `fra`, `fre`, `fr-CA` → `fr` (tracks
 * are keyed by primary language, as the worker's are). Unknown or undetermined languages are
 * refused: a track is addressed by its language, so it needs a real one.
 */
export function parseSubtitleLanguage(input: string): string {
  const tag = input.trim();
  if (!LANGUAGE_RE.test(tag) || tag.length > 35) {
    throw badRequest("invalid_language", "The language must be a BCP 47 tag such as en, fr or fr-CA (ISO 639-2 codes such as fra are accepted).", { field: "lang", location: "path" });
  }
  const lang = toBcp47(tag);
  if (lang === UNDETERMINED) throw badRequest("invalid_language", `Unknown language ${JSON.stringify(tag)}.`, { field: "lang", location: "path" });
  return lang;
}

/**
 * The subtitle renditions a master lists: source tracks, except the languages an upload replaces,
 * then the uploaded tracks (the detail's `subtitles` follows the same rule).
 */
export function effectiveSubtitleTracks(media: StoredMedia): MasterSubtitleTrack[] {
  const uploaded = media.uploadedSubtitles ?? [];
  const langs = new Set(uploaded.map((u) => u.lang));
  return [
    ...media.subtitleTracks.filter((t) => !langs.has(t.language)),
    ...uploaded.map((u) => ({ language: u.lang, name: u.name, playlistKey: u.playlistKey })),
  ];
}

const VTT_TYPE = objectContentType(`${subtitleDir("x")}/${SUBTITLE_FILE}`);
const M3U8_TYPE = objectContentType(`${subtitleDir("x")}/${PLAYLIST_NAME}`);
const MAX_ATTEMPTS = 8;

export interface SubtitlesDeps {
  repo: VideoRepository;
  videos: VideoService;
  storage: Storage;
  /** told after a video's media changed (the streaming caches drop the old state) */
  onMediaChanged?: (videoId: string) => void;
}

export class SubtitlesService {
  /** per-video chain: this process applies one track change of a video at a time */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly d: SubtitlesDeps) {}

  /**
   * Adds or replaces the uploaded track of `langInput`. `read` yields the file's bytes and is
   * only called once the caller is known to manage the video and the video can take tracks.
   */
  async upload(id: string, langInput: string, read: () => Promise<Buffer>, user: AuthUser | null, role: Role): Promise<{ lang: string; created: boolean }> {
    await this.d.videos.getManageable(id, user, role);
    const lang = parseSubtitleLanguage(langInput);
    await this.converted(id);
    const normalized = normalizeSubtitles(await read());
    if (!normalized.ok) {
      if (normalized.reason === "unsupported") {
        throw unsupportedMediaType("The file is neither WebVTT nor SubRip (.srt) text.", "unsupported_subtitles");
      }
      throw unprocessable("invalid_subtitles", `The ${normalized.format === "vtt" ? "WebVTT" : "SubRip"} file is not valid.`, {
        format: normalized.format,
        problems: normalized.problems,
      });
    }
    return this.serialized(id, async () => {
      const prefix = videoKeys.prefix(id);
      const dir = `${prefix}${subtitleDir(lang)}/`;
      const track: UploadedSubtitle = { lang, name: languageName(lang) ?? lang, vttKey: `${dir}${SUBTITLE_FILE}`, playlistKey: `${dir}${PLAYLIST_NAME}` };

      // 1. A source track living in the upload's directory moves out first (committed before
      //    its files are overwritten, so a failure here loses nothing).
      await this.mutate(id, async (media) => {
        const i = media.subtitleTracks.findIndex((t) => t.vttKey.startsWith(dir) || t.playlistKey.startsWith(dir));
        if (i < 0) return null;
        const moved = await this.relocate(media.subtitleTracks[i]!, `${prefix}${subtitleDir(`${lang}-source`)}/`);
        return { ...media, subtitleTracks: media.subtitleTracks.map((t, j) => (j === i ? moved : t)) };
      });

      // 2. The files, before the track is listed: a listed URL always resolves.
      const media = await this.converted(id);
      const pts = await this.mpegtsStartPts(media);
      await this.d.storage.put(track.vttKey, pts === null ? normalized.vtt : withTimestampMap(normalized.vtt, pts), { contentType: VTT_TYPE });
      await this.d.storage.put(track.playlistKey, subtitlePlaylist(media.durationS), { contentType: M3U8_TYPE });

      // 3. The record, then the master.
      let created = true;
      await this.mutate(id, async (m) => {
        const others = (m.uploadedSubtitles ?? []).filter((u) => u.lang !== lang);
        created = others.length === (m.uploadedSubtitles ?? []).length;
        return { ...m, uploadedSubtitles: [...others, track] };
      });
      await this.writeMaster(id);
      await this.changed(id);
      return { lang, created };
    });
  }

  /** Removes the uploaded track of `langInput`, else the source track(s) of that language (404 when none). */
  async remove(id: string, langInput: string, user: AuthUser | null, role: Role): Promise<void> {
    await this.d.videos.getManageable(id, user, role);
    const lang = parseSubtitleLanguage(langInput);
    await this.converted(id);
    await this.serialized(id, async () => {
      let removed: Array<Pick<SubtitleTrackOutput, "vttKey" | "playlistKey">> = [];
      await this.mutate(id, async (media) => {
        const uploaded = media.uploadedSubtitles ?? [];
        if (uploaded.some((u) => u.lang === lang)) {
          removed = uploaded.filter((u) => u.lang === lang);
          return { ...media, uploadedSubtitles: uploaded.filter((u) => u.lang !== lang) };
        }
        removed = media.subtitleTracks.filter((t) => t.language === lang);
        if (removed.length === 0) throw notFound(`This video has no ${lang} subtitles.`, "subtitles_not_found");
        return { ...media, subtitleTracks: media.subtitleTracks.filter((t) => t.language !== lang) };
      });
      // The master stops listing them before their files go.
      await this.writeMaster(id);
      for (const t of removed) {
        await this.d.storage.delete(t.vttKey);
        await this.d.storage.delete(t.playlistKey);
      }
      await this.changed(id);
    });
  }

  /**
   * Rewrites `hls/master.m3u8` from the stored media JSON. Re-reads afterwards and writes again if
   * the tracks changed meanwhile (another process), so the last write reflects the last state.
   */
  async writeMaster(id: string): Promise<void> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const row = await this.d.repo.find(id);
      if (!row?.media) return;
      const media = JSON.parse(row.media) as StoredMedia;
      const text = buildMasterFromResult(media, effectiveSubtitleTracks(media), await this.segmentType(media));
      await this.d.storage.put(media.masterKey, text, { contentType: M3U8_TYPE });
      const after = await this.d.repo.find(id);
      if (after?.media === row.media) return;
    }
  }

  /** The video's media JSON; 409 while it is not converted. */
  private async converted(id: string): Promise<StoredMedia> {
    const row = await this.d.repo.find(id);
    if (!row) throw notFound("Video not found.", "video_not_found");
    if (!row.media) throw conflict("not_converted", "Subtitles can be added or removed once the video is converted.", { status: row.status });
    return JSON.parse(row.media) as StoredMedia;
  }

  /**
   * Read-modify-write of the media JSON with compare-and-set, retried when another writer got in
   * between. `fn` returns the new media, or null for "nothing to change".
   */
  private async mutate(id: string, fn: (media: StoredMedia) => Promise<StoredMedia | null>): Promise<void> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const row = await this.d.repo.find(id);
      if (!row) throw notFound("Video not found.", "video_not_found");
      if (!row.media) throw conflict("not_converted", "Subtitles can be added or removed once the video is converted.", { status: row.status });
      const next = await fn(JSON.parse(row.media) as StoredMedia);
      if (next === null) return;
      if (await this.d.repo.updateMediaIf(id, row.media, JSON.stringify(next))) return;
    }
    throw conflict("concurrent_update", "The video's tracks are being changed by another request; try again.");
  }

  private async relocate(t: SubtitleTrackOutput, dir: string): Promise<SubtitleTrackOutput> {
    const moved = { ...t, vttKey: `${dir}${SUBTITLE_FILE}`, playlistKey: `${dir}${PLAYLIST_NAME}` };
    await this.d.storage.put(moved.vttKey, await this.d.storage.getBuffer(t.vttKey), { contentType: VTT_TYPE });
    await this.d.storage.put(moved.playlistKey, await this.d.storage.getBuffer(t.playlistKey), { contentType: M3U8_TYPE });
    return moved;
  }

  /** Recorded by the worker; for results stored before it was, read from the top rendition's playlist. */
  private async segmentType(media: StoredMedia): Promise<SegmentType> {
    if (media.segmentType) return media.segmentType;
    const top = media.renditions[media.renditions.length - 1];
    if (!top) return "mpegts";
    const text = (await this.d.storage.getBuffer(top.playlistKey)).toString("utf8");
    return parseMediaPlaylist(text).mapUri ? "fmp4" : "mpegts";
  }

  /** The X-TIMESTAMP-MAP PTS (RFC 8216 §3.5) uploaded WebVTT needs with MPEG-TS media; null for fMP4. */
  private async mpegtsStartPts(media: StoredMedia): Promise<number | null> {
    if (media.mpegtsStartPts !== undefined) return media.mpegtsStartPts;
    if ((await this.segmentType(media)) !== "mpegts") return null;
    const top = media.renditions[media.renditions.length - 1];
    if (!top) return null;
    const pl = parseMediaPlaylist((await this.d.storage.getBuffer(top.playlistKey)).toString("utf8"));
    const first = pl.segments[0]?.uri;
    if (!first) return null;
    const segKey = `${top.playlistKey.slice(0, top.playlistKey.lastIndexOf("/") + 1)}${first}`;
    // ffmpeg's MPEG-TS muxer starts at 1.4 s (126000) when the segment cannot be read.
    return mpegtsFirstPts(await this.d.storage.getBuffer(segKey)) ?? 126_000;
  }

  private async changed(id: string): Promise<void> {
    this.d.onMediaChanged?.(id);
    await this.d.videos.publish(id, { type: "updated", fields: ["subtitles"] });
  }

  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.chains.set(id, tail);
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return run;
  }
}
