/**
 * Defines the custom elements the player uses. Each media-chrome element is imported on its own
 * (not the package index, which defines every control and theme) so the player's chunk carries
 * only what it renders. `hls-video-element` (media-chrome's authors' hls.js wrapper) pulls in
 * hls.js, which Vite puts in its own chunk (web/vite.config.ts).
 */
import "media-chrome/dist/media-controller.js";
import "media-chrome/dist/media-control-bar.js";
import "media-chrome/dist/media-play-button.js";
import "media-chrome/dist/media-mute-button.js";
import "media-chrome/dist/media-volume-range.js";
import "media-chrome/dist/media-time-range.js";
import "media-chrome/dist/media-fullscreen-button.js";
import "media-chrome/dist/media-pip-button.js";
import "media-chrome/dist/media-loading-indicator.js";
import "media-chrome/dist/media-seek-backward-button.js";
import "media-chrome/dist/media-seek-forward-button.js";
// The menus create their items as media-chrome-menu-item but do not define it themselves.
import "media-chrome/dist/menu/media-chrome-menu-item.js";
import "media-chrome/dist/menu/media-captions-menu.js";
import "media-chrome/dist/menu/media-captions-menu-button.js";
import "media-chrome/dist/menu/media-audio-track-menu.js";
import "media-chrome/dist/menu/media-audio-track-menu-button.js";
import "media-chrome/dist/menu/media-rendition-menu.js";
import "media-chrome/dist/menu/media-rendition-menu-button.js";
import "media-chrome/dist/menu/media-playback-rate-menu.js";
import "media-chrome/dist/menu/media-playback-rate-menu-button.js";
import "hls-video-element";
