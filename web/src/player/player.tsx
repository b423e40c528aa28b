/**
 * The video player: media-chrome's controls over `<hls-video>` (hls-video-element, hls.js inside).
 * Quality, audio language, subtitles and speed are media-chrome menus fed by the element's
 * media-tracks lists and text tracks; chapters (the API's chapters VTT as a `kind="chapters"`
 * track) mark the timeline; the storyboard VTT (`kind="metadata" label="thumbnails"`) gives the
 * previews on hover. Used by the watch page and, alone, by the embed page.
 *
 * The markup is rendered once per video and left to the custom elements afterwards: media-chrome
 * moves its menus' items and states around itself, which a re-render must not undo.
 */
import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Hls } from "hls-video-element";
import type { Paths } from "../api/client.js";
import { api } from "../api/session.js";
import { formatClock } from "../ui/format.js";
import "./elements.js";
import { createHandle, subtitleTracks, type HlsVideo } from "./hls-video.js";
import type { PlayerHandle } from "./player-handle.js";
import { shortcutFor, type Shortcut } from "./shortcuts.js";

export type VideoDetail = Paths["/api/videos/{id}/"]["get"]["responses"][200]["content"]["application/json"];

export interface PlayerProps {
  video: VideoDetail;
  /** Where to start, in seconds (`?t=`, or the history's position). */
  start?: number;
  /** The handle once the player exists; null when it goes. */
  onHandle?: (handle: PlayerHandle | null) => void;
  /** The embed page: the player fills the viewport. */
  fill?: boolean;
}

/** A media URL of this video with its playback token (private videos), as the detail's own URLs carry it. */
export function mediaUrl(video: VideoDetail, path: string): string {
  const url = `/api/videos/${encodeURIComponent(video.id)}/${path}`;
  return video.playback_token ? `${url}?token=${encodeURIComponent(video.playback_token)}` : url;
}

function perform(action: Shortcut, el: HlsVideo, controller: HTMLElement): void {
  const request = (type: string, detail?: unknown) => controller.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  switch (action.kind) {
    case "toggle-play":
      request(el.paused ? "mediaplayrequest" : "mediapauserequest");
      break;
    case "seek-by": {
      const d = el.duration;
      const end = Number.isFinite(d) && d > 0 ? d : Number.POSITIVE_INFINITY;
      request("mediaseekrequest", Math.min(end, Math.max(0, el.currentTime + action.seconds)));
      break;
    }
    case "fullscreen":
      request(document.fullscreenElement ? "mediaexitfullscreenrequest" : "mediaenterfullscreenrequest");
      break;
    case "mute":
      request(el.muted ? "mediaunmuterequest" : "mediamuterequest");
      break;
    case "captions":
      if (subtitleTracks(el).length) request("mediatogglesubtitlesrequest");
      break;
  }
}

/**
 * Position and duration as text. Not media-chrome's time display: that is a button whose fixed
 * label ("playback time") differs from the times it shows (WCAG 2.5.3), reset on every update.
 * Screen readers get the time from the timeline slider's value text.
 */
function PlayerTime(props: { media: RefObject<HTMLElement | null> }) {
  const [time, setTime] = useState({ t: 0, d: Number.NaN });
  useEffect(() => {
    const el = props.media.current as HlsVideo | null;
    if (!el) return;
    const update = () => setTime({ t: el.currentTime, d: el.duration });
    const events = ["timeupdate", "durationchange", "seeked", "loadedmetadata", "emptied"];
    for (const e of events) el.addEventListener(e, update);
    return () => events.forEach((e) => el.removeEventListener(e, update));
  }, []);
  return (
    <span class="player-time">
      {formatClock(time.t)}
      {Number.isFinite(time.d) && ` / ${formatClock(time.d)}`}
    </span>
  );
}

export function Player(props: PlayerProps) {
  const { video } = props;
  const controller = useRef<HTMLElement>(null);
  const media = useRef<HTMLElement>(null);
  const [error, setError] = useState<string | null>(null);
  const rungs = video.info.renditions;

  useEffect(() => {
    const el = media.current as HlsVideo | null;
    const ctl = controller.current;
    if (!el || !ctl || !video.hls_url) return;
    const start = props.start && props.start > 0 ? props.start : 0;
    // Set before `src`: hls-video-element reads its config when the source loads.
    el.config = { startPosition: start > 0 ? start : -1 };
    el.src = video.hls_url;

    const native = el.nativeEl;
    let hooked = false;
    const onLoadStart = () => {
      const hls = el.api;
      if (hooked || !hls) return;
      hooked = true;
      let recoveries = 0;
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        // hls.js's documented recovery: reload after a network error, rebuild the buffer after a
        // media error; a few times, then say so.
        const retry = recoveries++ < 3;
        if (retry && data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
        else if (retry && data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else setError(`Playback failed (${data.details}).`);
      });
    };
    // hls-video-element applies a rendition choice only when it differs from hls.js's
    // `nextLevel`, which is where automatic selection was heading anyway: choosing that rung
    // then left hls.js in auto mode. The choice is made manual (or auto again) here.
    const onRendition = () => {
      const hls = el.api;
      const index = el.videoRenditions.selectedIndex;
      if (hls && hls.manualLevel !== index) hls.nextLevel = index;
    };
    el.videoRenditions.addEventListener("change", onRendition);
    // Native HLS (Safari, no MSE): no startPosition there, so seek once the duration is known.
    const onMetadata = () => {
      if (start > 0 && Math.abs(el.currentTime - start) > 1) el.currentTime = start;
    };
    // One view per page, once playback really starts (the API also dedupes per viewer and window).
    let viewed = false;
    const onPlaying = () => {
      if (viewed) return;
      viewed = true;
      api("post", "/api/videos/{id}/view/", { params: { id: video.id }, url: mediaUrl(video, "view/") }).catch(() => undefined);
    };
    native.addEventListener("loadstart", onLoadStart);
    native.addEventListener("loadedmetadata", onMetadata);
    native.addEventListener("playing", onPlaying);

    const onKey = (e: KeyboardEvent) => {
      const action = shortcutFor(e);
      if (!action) return;
      e.preventDefault();
      perform(action, el, ctl);
    };
    document.addEventListener("keydown", onKey);

    const handle = createHandle(el, ctl, rungs);
    props.onHandle?.(handle);
    return () => {
      props.onHandle?.(null);
      handle.dispose();
      document.removeEventListener("keydown", onKey);
      native.removeEventListener("loadstart", onLoadStart);
      el.videoRenditions.removeEventListener("change", onRendition);
      native.removeEventListener("loadedmetadata", onMetadata);
      native.removeEventListener("playing", onPlaying);
      // Without a source hls-video-element destroys its hls.js instance (no more segment loads).
      el.removeAttribute("src");
    };
  }, [video.id]);

  if (!video.hls_url) return <p class="error">This video has no stream to play.</p>;
  const storyboard = video.thumbnails.storyboard_vtt;
  return (
    <div class={props.fill ? "player-wrap player-fill" : "player-wrap"}>
      <media-controller ref={controller} class="player" nohotkeys="">
        <hls-video ref={media} slot="media" playsinline="" preload="metadata" poster={video.poster ?? undefined}>
          {video.chapters.length > 0 && <track kind="chapters" default src={mediaUrl(video, "chapters.vtt")} />}
          {storyboard && <track kind="metadata" label="thumbnails" default src={storyboard} />}
        </hls-video>
        <media-loading-indicator slot="centered-chrome" noautohide="" />
        <media-control-bar class="player-timeline">
          <media-time-range />
        </media-control-bar>
        <media-control-bar>
          {/* No tooltip: its hidden "Play" text counts as visible beside the "pause" label for
              axe's WCAG 2.5.3 check while the pointer or focus is on it; the icon is universal. */}
          <media-play-button notooltip="" />
          <media-seek-backward-button seekoffset="10" />
          <media-seek-forward-button seekoffset="10" />
          <media-mute-button />
          <media-volume-range />
          <PlayerTime media={media} />
          <span class="player-spacer" />
          <media-captions-menu-button />
          <media-audio-track-menu-button />
          <media-rendition-menu-button />
          {/* An icon instead of the default "1x" text, which differs from the button's accessible
              name ("Playback rate 1"): WCAG 2.5.3 wants the visible text inside the name. */}
          <media-playback-rate-menu-button>
            <svg slot="icon" aria-hidden="true" viewBox="0 0 24 24">
              <path d="M12 4a9 9 0 0 0-7.8 13.5l1.7-1A7 7 0 1 1 19 12a7 7 0 0 1-.9 3.5l1.7 1A9 9 0 0 0 12 4Zm3.9 3.7-5 4.6a1.6 1.6 0 1 0 2.3 2.2l3.4-6.1-.7-.7Z" />
            </svg>
          </media-playback-rate-menu-button>
          <media-pip-button />
          <media-fullscreen-button />
        </media-control-bar>
        {/* After the control bars, so an open menu paints over the timeline it overlaps. */}
        <media-rendition-menu hidden anchor="auto" />
        <media-audio-track-menu hidden anchor="auto" />
        <media-captions-menu hidden anchor="auto" />
        <media-playback-rate-menu hidden anchor="auto" rates="0.5 0.75 1 1.25 1.5 2" />
      </media-controller>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
