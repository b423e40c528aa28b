/** The video-info service's public face: the human-readable info block of a converted video. */
export { buildVideoInfo, type InfoInput, type RenditionInfo, type VideoInfo } from "./info-builder.js";
export { formatDuration, humanSize } from "./format.js";
