/**
 * The `<hls-video>` element (hls-video-element) as the player sees it, and the PlayerHandle built
 * on it. hls-video-element mirrors hls.js's levels and audio tracks into the media-tracks lists
 * (`videoRenditions`, `audioTracks`) that media-chrome's menus read and write, and hls.js follows
 * the native text tracks' modes for subtitles. The handle goes through those same lists, so a
 * change made from outside (the remote panel) shows in the player's menus and the other way round.
 */
import type Hls from "hls.js";
import type { HlsConfig } from "hls.js";
import type { AudioOption, PlayerHandle, QualityOption } from "./player-handle.js";

interface AudioTrackLike {
  id?: string;
  label: string;
  language: string;
  enabled: boolean;
}
interface RenditionLike {
  id?: string;
  width?: number;
  height?: number;
  selected: boolean;
}
interface TrackList<T> extends EventTarget, Iterable<T> {
  readonly length: number;
}

/** What the player uses of hls-video-element (its own .d.ts declares neither media-tracks list). */
export interface HlsVideo extends HTMLElement {
  /** The real `<video>` in the element's shadow root. */
  readonly nativeEl: HTMLVideoElement;
  api: Hls | null;
  config: Partial<HlsConfig> | null;
  src: string;
  currentTime: number;
  readonly duration: number;
  readonly paused: boolean;
  muted: boolean;
  play(): Promise<void>;
  pause(): void;
  readonly textTracks: TextTrackList;
  readonly audioTracks: TrackList<AudioTrackLike>;
  readonly videoRenditions: TrackList<RenditionLike> & { selectedIndex: number };
}

/** A rung as the API names it (`240p`, from info.renditions), else its shorter side, as media-chrome labels it. */
export function rungName(width: number | undefined, height: number | undefined, rungs: readonly { quality: string; width: number; height: number }[]): string {
  const known = rungs.find((r) => r.width === width && r.height === height) ?? rungs.find((r) => r.height === height);
  if (known) return known.quality;
  return `${Math.min(width ?? height ?? 0, height ?? width ?? 0)}p`;
}

const isSubtitles = (t: TextTrack) => t.kind === "subtitles" || t.kind === "captions";
const baseLang = (lang: string) => lang.toLowerCase().split("-")[0] ?? "";

export function subtitleTracks(el: HlsVideo): TextTrack[] {
  return [...el.textTracks].filter(isSubtitles);
}

/** media-chrome requests that change a track: a change made in the player's own menus (or its `c` key). */
const TRACK_REQUESTS = ["mediarenditionrequest", "mediaaudiotrackrequest", "mediashowsubtitlesrequest", "mediadisablesubtitlesrequest", "mediatogglesubtitlesrequest"];

export function createHandle(el: HlsVideo, controller: HTMLElement, rungs: readonly { quality: string; width: number; height: number }[]): PlayerHandle & { dispose(): void } {
  const listeners = new Set<() => void>();
  const renditions = () => [...el.videoRenditions];
  const nameOf = (r: RenditionLike) => rungName(r.width, r.height, rungs);
  const onRequest = () => {
    // The request is applied by media-chrome's store in its own listener on the controller; the
    // lists (and hls.js) have the new value one task later.
    window.setTimeout(() => listeners.forEach((cb) => cb()), 0);
  };
  for (const type of TRACK_REQUESTS) controller.addEventListener(type, onRequest);

  return {
    get video() {
      return el.nativeEl;
    },
    qualities(): QualityOption[] {
      const rungList = renditions()
        .map((r) => ({ id: nameOf(r), label: nameOf(r), height: r.height ?? 0 }))
        .sort((a, b) => a.height - b.height);
      return [{ id: "auto", label: "Auto" }, ...rungList.map(({ id, label }) => ({ id, label }))];
    },
    quality() {
      const chosen = renditions()[el.videoRenditions.selectedIndex];
      return chosen ? nameOf(chosen) : "auto";
    },
    setQuality(id) {
      el.videoRenditions.selectedIndex = id === "auto" ? -1 : renditions().findIndex((r) => nameOf(r) === id);
    },
    audioTracks(): AudioOption[] {
      return [...el.audioTracks].map((t) => ({ id: t.language || (t.id ?? ""), lang: t.language, label: t.label || t.language }));
    },
    audioLang() {
      return [...el.audioTracks].find((t) => t.enabled)?.language ?? null;
    },
    setAudioLang(lang) {
      const tracks = [...el.audioTracks];
      const target = tracks.find((t) => t.language === lang || t.id === lang) ?? tracks.find((t) => baseLang(t.language) === baseLang(lang));
      if (!target || target.enabled) return;
      for (const t of tracks) t.enabled = t === target;
    },
    subtitleLangs() {
      return [...new Set(subtitleTracks(el).map((t) => t.language))];
    },
    subtitleLang() {
      return subtitleTracks(el).find((t) => t.mode === "showing")?.language ?? null;
    },
    setSubtitleLang(lang) {
      const tracks = subtitleTracks(el);
      const target = lang === null ? undefined : (tracks.find((t) => t.language === lang) ?? tracks.find((t) => baseLang(t.language) === baseLang(lang)));
      for (const t of tracks) t.mode = t === target ? "showing" : "disabled";
    },
    seek(seconds) {
      const d = el.duration;
      el.currentTime = Math.max(0, Number.isFinite(d) && d > 0 ? Math.min(seconds, d) : seconds);
    },
    onTrackChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    dispose() {
      for (const type of TRACK_REQUESTS) controller.removeEventListener(type, onRequest);
      listeners.clear();
    },
  };
}
