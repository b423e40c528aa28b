/**
 * Secondary outputs of a conversion, pure parts: poster/candidate thumbnail times and the
 * near-black test, and WebVTT subtitle renditions (RFC 8216 §3.5) with their one-segment playlists.
 */
import type { ProbeResult } from "../../platform/media/media.types.js";
import { SUBTITLE_FILE } from "../../contracts/media-layout.js";
import { languageName, toBcp47, UNDETERMINED } from "./languages.js";
import type { Rung } from "./ladder.js";

// ---------------------------------------------------------------------------------------------
// Thumbnails

/**
 * Candidate frames, as fractions of the duration. The poster is the first that is not near-black,
 * in this order: ~10% in (past intros and fade-ins, still early enough to be representative), then
 * a little later, then spread over the video; users can pick any candidate instead.
 */
export const THUMBNAIL_FRACTIONS = [0.1, 0.15, 0.25, 0.5, 0.75] as const;

/** Timestamps (s) of the candidates; one at 0 when the duration is unknown. */
export function thumbnailTimes(durationS: number): number[] {
  if (!(durationS > 0)) return [0];
  return THUMBNAIL_FRACTIONS.map((f) => Math.round(durationS * f * 1000) / 1000);
}

/** The top rung's size, with the long side capped at `maxLong`, even. */
export function thumbnailSize(top: Pick<Rung, "width" | "height">, maxLong = 1280): { width: number; height: number } {
  const k = Math.min(1, maxLong / Math.max(top.width, top.height));
  const even = (x: number) => Math.max(2, Math.round((x * k) / 2) * 2);
  return { width: even(top.width), height: even(top.height) };
}

/**
 * Near-black: the mean of a tiny grayscale rendering is below 32 of 255. ffmpeg's `format=gray` is
 * full range, so limited-range video (black at luma 16) is expanded and black reads as ~0 either way.
 */
export function isNearBlack(gray: Uint8Array, threshold = 32): boolean {
  if (gray.length === 0) return true;
  let sum = 0;
  for (const v of gray) sum += v;
  return sum / gray.length < threshold;
}

/** Index of the poster among candidates (their mean brightness): the first not near-black, else the brightest. */
export function choosePoster(grays: ReadonlyArray<Uint8Array | null>): number | null {
  const first = grays.findIndex((g) => g !== null && !isNearBlack(g));
  if (first >= 0) return first;
  let best: number | null = null;
  let bestMean = -1;
  grays.forEach((g, i) => {
    if (!g || g.length === 0) return;
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    if (mean > bestMean) {
      bestMean = mean;
      best = i;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------------
// Subtitles

export interface SubtitlePlan {
  /** absolute stream index in the source */
  streamIndex: number;
  language: string;
  name: string;
  /** directory under `hls/subs/` */
  dir: string;
}

/**
 * Text subtitle streams (bitmap ones such as PGS/DVB cannot become WebVTT without OCR). The
 * upload's default language is not applied: subtitles are often in another language than the
 * audio, and a wrong LANGUAGE is worse than `und`.
 */
export function planSubtitles(probe: ProbeResult): SubtitlePlan[] {
  const subs = probe.subtitles.filter((s) => s.isText);
  const langs = subs.map((s) => toBcp47(s.language));
  const used = new Set<string>();
  return subs.map((s, i) => {
    const language = langs[i]!;
    const unique = language !== UNDETERMINED && langs.filter((l) => l === language).length === 1;
    let name = languageName(language) ?? s.title ?? `Subtitles ${i + 1}`;
    if (used.has(name) && s.title && !used.has(`${name} (${s.title})`)) name = `${name} (${s.title})`;
    for (let n = 2; used.has(name); n++) name = `${languageName(language) ?? s.title ?? "Subtitles"} ${n}`;
    used.add(name);
    return { streamIndex: s.index, language, name, dir: unique ? language : String(i) };
  });
}

/**
 * A subtitle rendition is one WebVTT "segment" spanning the whole video (allowed: RFC 8216 §3.5
 * only requires segments; players fetch it once). TARGETDURATION must be >= every EXTINF rounded
 * to the nearest integer (§4.3.3.1), hence the ceiling.
 */
export function subtitlePlaylist(durationS: number): string {
  const d = Math.max(0.001, durationS);
  return [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(d))}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    `#EXTINF:${d.toFixed(3)},`,
    SUBTITLE_FILE,
    "#EXT-X-ENDLIST",
    "",
  ].join("\n");
}

/**
 * Adds `X-TIMESTAMP-MAP` to a WebVTT file. RFC 8216 §3.5: WebVTT segments used with MPEG-TS media
 * MUST carry it, mapping cue time LOCAL to the MPEG-TS presentation time of the media (ffmpeg's
 * TS muxer starts at 1.4 s, so cue 00:00 is PTS 126000, not 0; without the map Safari shows every
 * cue 1.4 s early). The header goes right after the `WEBVTT` line.
 */
export function withTimestampMap(vtt: string, mpegtsPts: number): string {
  const text = vtt.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n");
  const lines = text.split("\n");
  const filtered = lines.filter((l) => !l.startsWith("X-TIMESTAMP-MAP="));
  const at = filtered[0]?.startsWith("WEBVTT") ? 1 : 0;
  if (at === 0) filtered.unshift("WEBVTT");
  filtered.splice(1, 0, `X-TIMESTAMP-MAP=MPEGTS:${mpegtsPts},LOCAL:00:00:00.000`);
  return filtered.join("\n");
}

/**
 * PTS (90 kHz) of the first PES packet carrying a timestamp in an MPEG-TS file: the presentation
 * time of the first frame of the first segment. Pure byte parsing (ISO/IEC 13818-1): 188-byte
 * packets, payload_unit_start packets begin a PES header whose PTS is 33 bits spread over 5 bytes.
 */
export function mpegtsFirstPts(ts: Uint8Array): number | null {
  for (let off = 0; off + 188 <= ts.length; off += 188) {
    if (ts[off] !== 0x47) return null;
    const pusi = (ts[off + 1]! & 0x40) !== 0;
    if (!pusi) continue;
    const afc = (ts[off + 3]! >> 4) & 0x3;
    if ((afc & 0x1) === 0) continue;
    const p = off + 4 + (afc & 0x2 ? 1 + ts[off + 4]! : 0);
    if (p + 14 > off + 188) continue;
    if (ts[p] !== 0 || ts[p + 1] !== 0 || ts[p + 2] !== 1) continue;
    const streamId = ts[p + 3]!;
    // audio (0xC0-0xDF) or video (0xE0-0xEF) elementary streams
    if (streamId < 0xc0 || streamId > 0xef) continue;
    if ((ts[p + 7]! & 0x80) === 0) continue;
    const b = ts.subarray(p + 9, p + 14);
    return (
      (b[0]! & 0x0e) * 2 ** 29 + // bits 32..30
      b[1]! * 2 ** 22 +
      (b[2]! >> 1) * 2 ** 15 +
      b[3]! * 2 ** 7 +
      (b[4]! >> 1)
    );
  }
  return null;
}
