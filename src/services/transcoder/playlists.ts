/**
 * HLS playlists (RFC 8216), pure: the master playlist, reading the media playlists ffmpeg writes,
 * measuring their bandwidth, and turning a growing EVENT playlist into the final VOD one.
 */
import type { SegmentType } from "../../contracts/transcode.messages.js";

export interface MasterVariant {
  /** media playlist URI relative to the master, e.g. `720p/index.m3u8` */
  uri: string;
  /** bit/s: peak and average (RFC 8216 §4.3.4.2) */
  bandwidth: number;
  averageBandwidth: number | null;
  width: number;
  height: number;
  /** every format in the variant, audio renditions included: `avc1.64001f,mp4a.40.2` */
  codecs: string;
  fps: number;
}

export interface MasterAudio {
  uri: string;
  language: string;
  name: string;
  isDefault: boolean;
  channels: number;
}

export interface MasterSubtitle {
  uri: string;
  language: string;
  name: string;
  isDefault: boolean;
}

export const AUDIO_GROUP = "aud";
export const SUBTITLE_GROUP = "subs";

/** quoted-string values cannot contain `"`, CR or LF (RFC 8216 §4.2) */
function q(s: string): string {
  return `"${s.replace(/["\r\n]/g, (c) => (c === '"' ? "'" : " "))}"`;
}

/**
 * EXT-X-VERSION: 3 covers floating-point EXTINF durations (needed for MPEG-TS); fMP4 segments need
 * EXT-X-MAP, version 6 and above (RFC 8216 §7), and ffmpeg labels its fMP4 playlists 7.
 */
export function hlsVersion(segmentType: SegmentType): number {
  return segmentType === "fmp4" ? 7 : 3;
}

/**
 * The master playlist. Audio is carried only in the audio renditions (group "aud"), so every
 * variant references the group and lists the AAC codec (§4.3.4.2: CODECS lists every format in
 * any rendition the variant can be played with). Variants are listed by ascending bandwidth: the
 * first one is where players without a bandwidth estimate start, and a low start is a fast start.
 */
export function buildMasterPlaylist(
  variants: readonly MasterVariant[],
  audio: readonly MasterAudio[],
  subtitles: readonly MasterSubtitle[],
  opts: { segmentType: SegmentType },
): string {
  const lines = ["#EXTM3U", `#EXT-X-VERSION:${hlsVersion(opts.segmentType)}`, "#EXT-X-INDEPENDENT-SEGMENTS"];
  const hasDefaultAudio = audio.some((a) => a.isDefault);
  audio.forEach((a, i) => {
    // Exactly one DEFAULT=YES per group; DEFAULT=YES requires AUTOSELECT=YES (§4.3.4.1).
    const isDefault = hasDefaultAudio ? a.isDefault : i === 0;
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=${q(AUDIO_GROUP)},LANGUAGE=${q(a.language)},NAME=${q(a.name)},` +
        `DEFAULT=${isDefault ? "YES" : "NO"},AUTOSELECT=YES,CHANNELS=${q(String(a.channels))},URI=${q(a.uri)}`,
    );
  });
  for (const s of subtitles) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=${q(SUBTITLE_GROUP)},LANGUAGE=${q(s.language)},NAME=${q(s.name)},` +
        `DEFAULT=${s.isDefault ? "YES" : "NO"},AUTOSELECT=YES,URI=${q(s.uri)}`,
    );
  }
  const sorted = [...variants].sort((a, b) => a.bandwidth - b.bandwidth || a.height - b.height);
  for (const v of sorted) {
    const attrs = [`BANDWIDTH=${Math.round(v.bandwidth)}`];
    if (v.averageBandwidth !== null) attrs.push(`AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`);
    attrs.push(`RESOLUTION=${v.width}x${v.height}`, `CODECS=${q(v.codecs)}`, `FRAME-RATE=${v.fps.toFixed(3)}`);
    if (audio.length > 0) attrs.push(`AUDIO=${q(AUDIO_GROUP)}`);
    if (subtitles.length > 0) attrs.push(`SUBTITLES=${q(SUBTITLE_GROUP)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Media playlists

export interface MediaSegment {
  uri: string;
  duration: number;
}

export interface MediaPlaylist {
  targetDuration: number;
  playlistType: "EVENT" | "VOD" | null;
  /** EXT-X-MAP URI (fMP4 init section), null for MPEG-TS */
  mapUri: string | null;
  segments: MediaSegment[];
  /** has EXT-X-ENDLIST */
  ended: boolean;
}

/**
 * Reads a media playlist. Only complete lines count: while ffmpeg rewrites a playlist, a reader can
 * see a partly written file (ffmpeg 4.1 even warns it cannot rename atomically when the output is
 * not a plain file), so a segment URI without its line end is not taken as listed yet.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const end = text.lastIndexOf("\n");
  const lines = (end < 0 ? "" : text.slice(0, end)).split("\n").map((l) => l.trim());
  const pl: MediaPlaylist = { targetDuration: 0, playlistType: null, mapUri: null, segments: [], ended: false };
  if (lines[0] !== "#EXTM3U") return pl;
  let pending: number | null = null;
  for (const line of lines) {
    if (line.startsWith("#EXT-X-TARGETDURATION:")) pl.targetDuration = Number(line.slice(22)) || 0;
    else if (line.startsWith("#EXT-X-PLAYLIST-TYPE:")) {
      const t = line.slice(21);
      pl.playlistType = t === "EVENT" || t === "VOD" ? t : null;
    } else if (line.startsWith("#EXT-X-MAP:")) pl.mapUri = /URI="([^"]*)"/.exec(line)?.[1] ?? null;
    else if (line.startsWith("#EXTINF:")) pending = Number.parseFloat(line.slice(8));
    else if (line === "#EXT-X-ENDLIST") pl.ended = true;
    else if (line !== "" && !line.startsWith("#") && pending !== null) {
      pl.segments.push({ uri: line, duration: Number.isFinite(pending) ? pending : 0 });
      pending = null;
    }
  }
  return pl;
}

/**
 * The playlist text cut after its first `count` segments, as a still-growing EVENT playlist (no
 * EXT-X-ENDLIST): what is published while the encode runs, listing only segments already stored.
 */
export function eventPlaylistPrefix(text: string, count: number): string {
  const end = text.lastIndexOf("\n");
  const out: string[] = [];
  // Tags seen since the last kept segment: they belong to the next segment (EXTINF, MAP…) or,
  // before the first one, are the header.
  let pending: string[] = [];
  let seen = 0;
  for (const raw of (end < 0 ? "" : text.slice(0, end)).split("\n")) {
    const line = raw.trim();
    if (line === "" || line === "#EXT-X-ENDLIST") continue;
    if (line.startsWith("#")) {
      pending.push(line);
      continue;
    }
    if (seen >= count) break;
    out.push(...pending, line);
    pending = [];
    seen++;
  }
  if (seen === 0) {
    const firstInf = pending.findIndex((l) => l.startsWith("#EXTINF:"));
    out.push(...(firstInf < 0 ? pending : pending.slice(0, firstInf)));
  }
  return out.join("\n") + "\n";
}

/**
 * EVENT → VOD once every segment exists: EXT-X-PLAYLIST-TYPE:VOD (§4.3.3.5: the playlist can no
 * longer change, so players may cache it and seek anywhere) and EXT-X-ENDLIST (§4.3.3.4: no more
 * segments; without it players poll forever and treat the stream as live).
 */
export function finalizeVodPlaylist(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n").map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const out = lines.filter((l) => l !== "#EXT-X-ENDLIST");
  const typeAt = out.findIndex((l) => l.startsWith("#EXT-X-PLAYLIST-TYPE:"));
  if (typeAt >= 0) out[typeAt] = "#EXT-X-PLAYLIST-TYPE:VOD";
  else {
    // Media playlist tags go before the first segment; after the version/target lines reads best.
    const firstSegTag = out.findIndex((l) => l.startsWith("#EXTINF:") || l.startsWith("#EXT-X-MAP:"));
    out.splice(firstSegTag < 0 ? out.length : firstSegTag, 0, "#EXT-X-PLAYLIST-TYPE:VOD");
  }
  out.push("#EXT-X-ENDLIST");
  return out.join("\n") + "\n";
}

export interface PlaylistMeasure {
  /** peak segment bit rate, bit/s (RFC 8216 §4.3.4.2 definition, see below) */
  peak: number;
  /** total bits / total duration */
  average: number;
  durationS: number;
  bytes: number;
}

/**
 * Bandwidth of a finished media playlist from its segment sizes. RFC 8216 §4.3.4.2: "The peak
 * segment bit rate of a Media Playlist is the largest bit rate of any contiguous set of segments
 * whose total duration is between 0.5 and 1.5 times the target duration", a set's bit rate being
 * its bytes over its duration. This keeps a tiny last segment (0.03 s of audio padding) from
 * looking like a huge peak. A playlist shorter than half a target duration is measured whole.
 */
export function measurePlaylist(pl: MediaPlaylist, sizeOf: (uri: string) => number): PlaylistMeasure {
  const sizes = pl.segments.map((s) => sizeOf(s.uri));
  const durs = pl.segments.map((s) => s.duration);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const durationS = durs.reduce((a, b) => a + b, 0);
  const average = durationS > 0 ? (bytes * 8) / durationS : 0;
  const target = pl.targetDuration > 0 ? pl.targetDuration : Math.max(0, ...durs);
  let peak = 0;
  for (let i = 0; i < sizes.length; i++) {
    let b = 0;
    let d = 0;
    for (let j = i; j < sizes.length; j++) {
      b += sizes[j]!;
      d += durs[j]!;
      if (d > 1.5 * target) break;
      if (d >= 0.5 * target && d > 0) peak = Math.max(peak, (b * 8) / d);
    }
  }
  if (peak === 0) peak = average;
  return { peak: Math.round(peak), average: Math.round(average), durationS, bytes };
}
