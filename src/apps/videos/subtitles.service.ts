/**
 * Subtitle tracks added or removed after conversion: `PUT /api/videos/{id}/subtitles/{lang}/`
 * (SubRip or WebVTT, converted to WebVTT) and `DELETE`. An uploaded track is a WebVTT rendition
 * like the ones the worker extracts (RFC 8216 §3.5): `hls/subs/<lang>/subs.vtt` plus a
 * one-segment media playlist, recorded in the video's media JSON (`uploadedSubtitles`), and the
 * master playlist is rewritten from that JSON with the worker's own builder.
 *
 * The person's file itself is kept apart from the conversion's outputs, as our WebVTT without
 * X-TIMESTAMP-MAP, in `uploads/subtitles/<lang>.vtt` (see media-layout.ts): a reprocess replaces
 * the whole HLS tree, and `attachUploads` gives each uploaded track its rendition and its place in
 * the new master again when the new result is applied.
 *
 * Timing: only once the video is converted (the media JSON exists); before that the answer is
 * 409 `not_converted`: the rendition needs the conversion's timing (X-TIMESTAMP-MAP) and duration.
 *
 * Parsing runs in a worker thread (subtitle-parser.ts) and is bounded: SUBTITLE_MAX_CUES cues
 * (413 `too_many_cues`), hours of three digits and no cue starting more than a minute after the
 * video's end (422 `invalid_subtitles`, with the lines).
 *
 * Tracks per language: an uploaded track replaces the source track(s) of its language in the
 * master and the API. A source track stored in the same directory (`hls/subs/<lang>/`) is first
 * moved to `hls/subs/<lang>-source/`, so deleting the upload brings the source track back.
 * DELETE removes the uploaded track of the language if there is one, else the source track(s).
 */
import type { Storage } from "../../platform/storage/storage.js";
import { conflict, fieldError, notFound, payloadTooLarge, unprocessable, unsupportedMediaType } from "../../lib/errors.js";
import type { Role, AuthUser } from "../users/index.js";
import { objectContentType, PLAYLIST_NAME, SUBTITLE_FILE, subtitleDir, uploadedSubtitleLang, videoKeys } from "../../contracts/media-layout.js";
import { mpegtsFirstPts, subtitlePlaylist, languageName, toBcp47, UNDETERMINED, buildMasterFromResult, type MasterSubtitleTrack, parseMediaPlaylist } from "../../services/transcoder/index.js";
import type { SegmentType, SubtitleTrackOutput, TranscodeResult } from "../../contracts/transcode.messages.js";
import type { SubtitleParser } from "./subtitle-parser.js";
import { vttRendition } from "./subtitles-convert.js";
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
    throw fieldError("invalid_language", "The language must be a BCP 47 tag such as en, fr or fr-CA (ISO 639-2 codes such as fra are accepted).", "params", "lang");
  }
  const lang = toBcp47(tag);
  if (lang === UNDETERMINED) throw fieldError("invalid_language", `Unknown language ${JSON.stringify(tag)}.`, "params", "lang");
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
  /** runs the parse off the event loop */
  parser: SubtitleParser;
  /** SUBTITLE_MAX_CUES */
  maxCues: number;
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
    const converted = await this.converted(id);
    const stored = await this.parse(await read(), converted.durationS);
    return this.serialized(id, async () => {
      // 0. The person's file, apart from the conversion's outputs: what every later conversion
      //    carries over (written first: a failure after this loses nothing, the next conversion
      //    lists the track).
      await this.d.storage.put(videoKeys.uploadedSubtitle(id, lang), stored, { contentType: VTT_TYPE });
      // 1.-2. The source track out of the way, the rendition's files.
      const track = await this.placeRendition(id, lang, stored);
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

  /**
   * The uploaded file → the WebVTT we store (our serialization, no X-TIMESTAMP-MAP), parsed in a
   * worker thread against the cue cap and the video's duration; refusals as API errors.
   */
  private async parse(bytes: Buffer, durationS: number): Promise<Buffer> {
    const r = await this.d.parser.parse(bytes, { maxCues: this.d.maxCues, durationS: durationS > 0 ? durationS : null });
    if (r.ok) return Buffer.from(r.vtt.buffer, r.vtt.byteOffset, r.vtt.byteLength);
    switch (r.reason) {
      case "unsupported":
        throw unsupportedMediaType("The file is neither WebVTT nor SubRip (.srt) text.", "unsupported_subtitles");
      case "too_many_cues":
        throw payloadTooLarge(`The file has ${r.cues} cues; a track may have at most ${r.limit}.`, "too_many_cues", { limit: r.limit, cues: r.cues });
      case "invalid":
        throw unprocessable("invalid_subtitles", `The ${r.format === "vtt" ? "WebVTT" : "SubRip"} file is not valid.`, { format: r.format, problems: r.problems });
      default: {
        const never: never = r;
        return never;
      }
    }
  }

  /**
   * Writes the HLS rendition of an uploaded track (`stored`: its kept WebVTT) in
   * `hls/subs/<lang>/`, after moving a source track living there to `hls/subs/<lang>-source/`
   * (committed before its files are overwritten, so a failure here loses nothing). The files
   * exist before the caller lists the track: a listed URL always resolves.
   */
  private async placeRendition(id: string, lang: string, stored: Buffer): Promise<UploadedSubtitle> {
    const prefix = videoKeys.prefix(id);
    const dir = `${prefix}${subtitleDir(lang)}/`;
    const track: UploadedSubtitle = { lang, name: languageName(lang) ?? lang, vttKey: `${dir}${SUBTITLE_FILE}`, playlistKey: `${dir}${PLAYLIST_NAME}` };
    await this.mutate(id, async (media) => {
      const i = media.subtitleTracks.findIndex((t) => t.vttKey.startsWith(dir) || t.playlistKey.startsWith(dir));
      if (i < 0) return null;
      const moved = await this.relocate(media.subtitleTracks[i]!, `${prefix}${subtitleDir(`${lang}-source`)}/`);
      return { ...media, subtitleTracks: media.subtitleTracks.map((t, j) => (j === i ? moved : t)) };
    });
    const media = await this.converted(id);
    await this.d.storage.put(track.vttKey, vttRendition(stored, await this.mpegtsStartPts(media)), { contentType: VTT_TYPE });
    await this.d.storage.put(track.playlistKey, subtitlePlaylist(media.durationS), { contentType: M3U8_TYPE });
    return track;
  }

  /**
   * The media JSON of a new conversion result with the uploaded tracks carried over: for each
   * `uploads/subtitles/<lang>.vtt`, its rendition written next to the new outputs (a source track
   * of the same language moved to `<lang>-source/` first, as on upload), and the master
   * rewritten with them. Called by the result applier before the video turns ready (and again,
   * harmlessly, if that is retried); it writes files only, the caller stores the returned JSON.
   */
  async attachUploads(id: string, result: TranscodeResult): Promise<StoredMedia> {
    const langs = (await this.d.storage.list(videoKeys.uploads(id)))
      .map((key) => uploadedSubtitleLang(id, key))
      .filter((l): l is string => l !== null)
      .sort();
    if (langs.length === 0) return result;
    const prefix = videoKeys.prefix(id);
    let subtitleTracks = result.subtitleTracks;
    const uploadedSubtitles: UploadedSubtitle[] = [];
    for (const lang of langs) {
      const dir = `${prefix}${subtitleDir(lang)}/`;
      subtitleTracks = await Promise.all(
        subtitleTracks.map((t) => (t.vttKey.startsWith(dir) || t.playlistKey.startsWith(dir) ? this.relocate(t, `${prefix}${subtitleDir(`${lang}-source`)}/`) : t)),
      );
      const track: UploadedSubtitle = { lang, name: languageName(lang) ?? lang, vttKey: `${dir}${SUBTITLE_FILE}`, playlistKey: `${dir}${PLAYLIST_NAME}` };
      const stored = await this.d.storage.getBuffer(videoKeys.uploadedSubtitle(id, lang));
      await this.d.storage.put(track.vttKey, vttRendition(stored, await this.mpegtsStartPts(result)), { contentType: VTT_TYPE });
      await this.d.storage.put(track.playlistKey, subtitlePlaylist(result.durationS), { contentType: M3U8_TYPE });
      uploadedSubtitles.push(track);
    }
    const media: StoredMedia = { ...result, subtitleTracks, uploadedSubtitles };
    await this.d.storage.put(media.masterKey, buildMasterFromResult(media, effectiveSubtitleTracks(media), await this.segmentType(media)), { contentType: M3U8_TYPE });
    return media;
  }

  /** Removes the uploaded track of `langInput`, else the source track(s) of that language (404 when none). */
  async remove(id: string, langInput: string, user: AuthUser | null, role: Role): Promise<void> {
    await this.d.videos.getManageable(id, user, role);
    const lang = parseSubtitleLanguage(langInput);
    await this.converted(id);
    await this.serialized(id, async () => {
      let removed: Array<Pick<SubtitleTrackOutput, "vttKey" | "playlistKey">> = [];
      const kept = videoKeys.uploadedSubtitle(id, lang);
      const hasUpload = await this.d.storage.exists(kept);
      await this.mutate(id, async (media) => {
        const uploaded = media.uploadedSubtitles ?? [];
        if (uploaded.some((u) => u.lang === lang)) {
          removed = uploaded.filter((u) => u.lang === lang);
          return { ...media, uploadedSubtitles: uploaded.filter((u) => u.lang !== lang) };
        }
        // the kept file alone (its rendition was never listed): only the file goes
        if (hasUpload) {
          removed = [];
          return null;
        }
        removed = media.subtitleTracks.filter((t) => t.language === lang);
        if (removed.length === 0) throw notFound(`This video has no ${lang} subtitles.`, "subtitles_not_found");
        return { ...media, subtitleTracks: media.subtitleTracks.filter((t) => t.language !== lang) };
      });
      // The master stops listing them before their files go; the kept upload last, so a
      // failure in between leaves a track the next conversion lists again, never a listed
      // track without its file.
      await this.writeMaster(id);
      for (const t of removed) {
        await this.d.storage.delete(t.vttKey);
        await this.d.storage.delete(t.playlistKey);
      }
      if (hasUpload) await this.d.storage.delete(kept);
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
