/**
 * What a session may switch between — rungs, audio tracks, subtitle tracks — and where each one
 * is served, read from the video's detail (the videos domain's, so the URLs are exactly the ones
 * the detail page gives, tokenized for private videos). Resolving a device's words (`fre`, an
 * audio track's name, `off`) into the video's own form happens here, so the state only ever
 * holds values the video has.
 */
import { fieldError } from "../../lib/errors.js";
import { playlistIn, rungDir } from "../../contracts/media-layout.js";
import { toBcp47 } from "../../services/transcoder/index.js";
import type { VideoDetail } from "../videos/index.js";
import type { SwitchInfo } from "./playback.schemas.js";

export interface AudioChoice {
  /** the rendition's folder name (`a0_en`): unique even when two tracks share a language */
  id: string;
  language: string;
  name: string;
  isDefault: boolean;
  url: string;
}

export interface SubtitleChoice {
  lang: string;
  name: string;
  url: string;
}

export interface Catalogue {
  videoId: string;
  duration: number | null;
  hlsUrl: string;
  qualities: string[];
  mp4: Map<string, string | null>;
  audio: AudioChoice[];
  subtitles: SubtitleChoice[];
  /** the playback token the URLs carry (private videos), to build the rung playlist URLs alike */
  token: string | null;
}

function tokenQuery(token: string | null): string {
  return token ? `?token=${encodeURIComponent(token)}` : "";
}

/** `/api/videos/<id>/hls/audio/<dir>/index.m3u8?…` → `<dir>`. */
function audioId(url: string, fallback: string): string {
  const m = /\/hls\/audio\/([^/]+)\//.exec(url);
  return m ? decodeURIComponent(m[1]!) : fallback;
}

export function catalogueOf(d: VideoDetail): Catalogue {
  return {
    videoId: d.id,
    duration: d.duration ?? d.info.duration_seconds ?? null,
    hlsUrl: d.hls_url ?? `/api/videos/${d.id}/hls/master.m3u8${tokenQuery(d.playback_token)}`,
    qualities: d.formats.map((f) => f.quality),
    mp4: new Map(d.formats.map((f) => [f.quality, f.mp4_url])),
    audio: d.audio_tracks.map((a, i) => ({ id: audioId(a.url, `a${i}`), language: a.language, name: a.name, isDefault: a.default, url: a.url })),
    subtitles: d.subtitles.map((s) => ({ lang: s.lang, name: s.name, url: s.url })),
    token: d.playback_token,
  };
}

export function defaultAudio(c: Catalogue): AudioChoice | null {
  return c.audio.find((a) => a.isDefault) ?? c.audio[0] ?? null;
}

export function resolveQuality(c: Catalogue, quality: string): string {
  const q = quality.trim().toLowerCase();
  if (q === "auto" || c.qualities.includes(q)) return q;
  throw fieldError("quality_unavailable", `This video has no "${quality}" rendition.`, "message", "quality", { entryMessage: `one of auto, ${c.qualities.join(", ")}` });
}

/**
 * An audio choice by track id, then by name (case-insensitive), then by language in any form
 * `toBcp47` knows (`fr`, `fra`, `fre`, `fr-CA`): the default track of that language first.
 */
export function resolveAudio(c: Catalogue, input: string): AudioChoice {
  const raw = input.trim();
  const byId = c.audio.find((a) => a.id === raw);
  if (byId) return byId;
  const byName = c.audio.find((a) => a.name.toLowerCase() === raw.toLowerCase());
  if (byName) return byName;
  const lang = toBcp47(raw);
  const matches = c.audio.filter((a) => a.language === lang || (lang === "und" && a.language === raw.toLowerCase()));
  const pick = matches.find((a) => a.isDefault) ?? matches[0];
  if (pick) return pick;
  throw fieldError("language_unavailable", `This video has no "${input}" audio track.`, "message", "audio", {
    entryMessage: `one of ${c.audio.map((a) => a.language).join(", ") || "(none)"}`,
  });
}

/** A subtitle language in the video's form, or null for off (`null`, `off`, `none`, ``). */
export function resolveSubtitles(c: Catalogue, input: string | null): SubtitleChoice | null {
  if (input === null) return null;
  const raw = input.trim().toLowerCase();
  if (raw === "" || raw === "off" || raw === "none") return null;
  const lang = toBcp47(raw);
  const pick = c.subtitles.find((s) => s.lang === lang) ?? c.subtitles.find((s) => s.lang.toLowerCase() === raw || s.name.toLowerCase() === raw);
  if (pick) return pick;
  throw fieldError("language_unavailable", `This video has no "${input}" subtitles.`, "message", "subtitles", {
    entryMessage: `one of off, ${c.subtitles.map((s) => s.lang).join(", ") || "(none)"}`,
  });
}

/** Where a device switches to for the given choices (`auto`: the master playlist). */
export function switchInfo(c: Catalogue, quality: string, audioLang: string | null, subtitleLang: string | null, audioId?: string): SwitchInfo {
  const audio = (audioId ? c.audio.find((a) => a.id === audioId) : undefined) ?? c.audio.find((a) => a.language === audioLang && a.isDefault) ?? c.audio.find((a) => a.language === audioLang);
  const sub = subtitleLang ? c.subtitles.find((s) => s.lang === subtitleLang) : undefined;
  return {
    quality,
    playlist_url: quality === "auto" ? null : `/api/videos/${c.videoId}/${playlistIn(rungDir(quality))}${tokenQuery(c.token)}`,
    hls_url: c.hlsUrl,
    mp4_url: quality === "auto" ? null : (c.mp4.get(quality) ?? null),
    audio: audio ? { id: audio.id, language: audio.language, name: audio.name, url: audio.url } : null,
    subtitles: sub ? { lang: sub.lang, name: sub.name, url: sub.url } : null,
  };
}
