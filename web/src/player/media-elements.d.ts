/**
 * JSX typing of the custom elements the player renders: media-chrome's controls and
 * hls-video-element's `<hls-video>`. Preact passes unknown attributes through to custom elements,
 * so only the attributes the player uses are declared, each as the element reads it (strings,
 * or "" for a boolean attribute's presence).
 */
import type { HTMLAttributes } from "preact";

type El = HTMLAttributes<HTMLElement>;
/** A boolean attribute of a custom element: present ("") or absent (undefined). */
type Flag = "" | undefined;

interface MenuAttrs extends El {
  anchor?: string;
}

declare module "preact" {
  namespace JSX {
    interface IntrinsicElements {
      "media-controller": El & {
        nohotkeys?: Flag;
        autohide?: string;
        defaultsubtitles?: Flag;
        gesturesdisabled?: Flag;
        breakpoints?: string;
      };
      "hls-video": El & { playsinline?: Flag; preload?: string; poster?: string; crossorigin?: string };
      "media-control-bar": El;
      "media-play-button": El & { notooltip?: Flag };
      "media-mute-button": El;
      "media-volume-range": El;
      "media-time-range": El;
      "media-fullscreen-button": El;
      "media-pip-button": El;
      "media-loading-indicator": El & { noautohide?: Flag };
      "media-seek-backward-button": El & { seekoffset?: string };
      "media-seek-forward-button": El & { seekoffset?: string };
      "media-captions-menu-button": El;
      "media-captions-menu": MenuAttrs;
      "media-audio-track-menu-button": El;
      "media-audio-track-menu": MenuAttrs;
      "media-rendition-menu-button": El;
      "media-rendition-menu": MenuAttrs;
      "media-playback-rate-menu-button": El;
      "media-playback-rate-menu": MenuAttrs & { rates?: string };
    }
  }
}
