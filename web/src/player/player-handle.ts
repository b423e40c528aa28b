/**
 * What the watch page's player (player.tsx: media-chrome controls over hls.js) exposes to the
 * parts that drive it from outside: the remote-control and sync panel (remote-panel.tsx), the
 * comments' time links, the share button. One object per mounted player.
 */
export interface QualityOption {
  /** `auto` or a rung name as the API and the playback protocol spell it (`240p`). */
  id: string;
  label: string;
}

export interface AudioOption {
  /** The audio track's id (the playback state's `audio_track`), or its language when the video has one track per language. */
  id: string;
  lang: string;
  label: string;
}

export interface PlayerHandle {
  readonly video: HTMLVideoElement;
  qualities(): QualityOption[];
  /** `auto` or the rung playing now by choice. */
  quality(): string;
  setQuality(id: string): void;
  audioTracks(): AudioOption[];
  audioLang(): string | null;
  setAudioLang(lang: string): void;
  /** Subtitle languages the player offers (without "off"). */
  subtitleLangs(): string[];
  subtitleLang(): string | null;
  setSubtitleLang(lang: string | null): void;
  seek(seconds: number): void;
  /** Called after any change of quality, audio or subtitles made in the player's own menus. */
  onTrackChange(cb: () => void): () => void;
}
