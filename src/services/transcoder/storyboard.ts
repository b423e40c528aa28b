/**
 * Storyboard (scrubbing previews), pure parts: the plan, the ffmpeg command and the WebVTT index.
 *
 * One JPEG sprite sheet of 160x90 tiles, one tile every N whole seconds with N chosen so there are
 * at most 100 tiles (a 1600x900 sheet at most), and a WebVTT file whose cues point into the sheet
 * with a Media Fragment `storyboard.jpg#xywh=x,y,w,h` (W3C Media Fragments URI 1.0, §4.2.2
 * spatial dimension): the format hls.js/video.js/Plyr/JW Player thumbnail plugins read.
 *
 * Tiles are LETTERBOXED, not cropped: the picture keeps its aspect ratio and is centred on black,
 * so a portrait video shows its whole frame (narrow, with side bars) rather than a 16:9 slice of
 * its middle, which is what a viewer scrubbing for a scene needs to recognise.
 */
import { STORYBOARD_IMAGE } from "../../contracts/media-layout.js";
import { ownHlsInputArgs } from "../../platform/media/input-guard.js";

export const STORYBOARD_TILE_WIDTH = 160;
export const STORYBOARD_TILE_HEIGHT = 90;
export const STORYBOARD_MAX_TILES = 100;
export const STORYBOARD_MAX_COLUMNS = 10;

/**
 * ffmpeg's `fps=1/N:round=up` emits ceil(D/N) frames for D seconds of video. D is measured from
 * playlists (EXTINF sums), which can be a frame longer than ffmpeg's own reckoning; planning a
 * tile for a remainder shorter than this share of N would risk a trailing black tile, while one
 * extra frame from ffmpeg is harmless (it would start a second sheet, which is never written).
 */
const REMAINDER_SLACK = 0.05;

export interface StoryboardPlan {
  /** seconds between tiles (N) */
  intervalS: number;
  /** tiles with a cue */
  count: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  /** the picture inside a tile: aspect kept, even sizes (4:2:0 chroma) */
  pictureWidth: number;
  pictureHeight: number;
  /** the picture's offset inside its tile (black bars around it), even */
  offsetX: number;
  offsetY: number;
  /** the video's duration: the last cue ends there */
  durationS: number;
}

const evenFloor = (x: number) => Math.max(0, Math.floor(x / 2) * 2);

/**
 * The storyboard of `durationS` seconds of a `picture`-sized video (the rung it is made from),
 * null when there is nothing to show (unknown duration or size).
 */
export function planStoryboard(
  durationS: number,
  picture: { width: number; height: number },
  opts: { maxTiles?: number; tileWidth?: number; tileHeight?: number; maxColumns?: number } = {},
): StoryboardPlan | null {
  const maxTiles = opts.maxTiles ?? STORYBOARD_MAX_TILES;
  const tileWidth = opts.tileWidth ?? STORYBOARD_TILE_WIDTH;
  const tileHeight = opts.tileHeight ?? STORYBOARD_TILE_HEIGHT;
  const maxColumns = opts.maxColumns ?? STORYBOARD_MAX_COLUMNS;
  if (!(durationS > 0) || !(picture.width > 0) || !(picture.height > 0) || !Number.isFinite(durationS)) return null;
  // Whole seconds: cue times stay exact in the VTT (no drift from float sums) and 1 s is as fine
  // as scrubbing previews usefully get.
  const intervalS = Math.max(1, Math.ceil(durationS / maxTiles));
  const count = Math.min(maxTiles, Math.max(1, Math.ceil(durationS / intervalS - REMAINDER_SLACK)));
  const columns = Math.min(maxColumns, count);
  const rows = Math.ceil(count / columns);
  const k = Math.min(tileWidth / picture.width, tileHeight / picture.height);
  const pictureWidth = Math.min(tileWidth, Math.max(2, Math.round((picture.width * k) / 2) * 2));
  const pictureHeight = Math.min(tileHeight, Math.max(2, Math.round((picture.height * k) / 2) * 2));
  return {
    intervalS,
    count,
    columns,
    rows,
    tileWidth,
    tileHeight,
    pictureWidth,
    pictureHeight,
    offsetX: evenFloor((tileWidth - pictureWidth) / 2),
    offsetY: evenFloor((tileHeight - pictureHeight) / 2),
    durationS,
  };
}

/**
 * The sprite sheet in one ffmpeg, from a video-only input (the handler passes the lowest rung's
 * local HLS playlist: already upright, square-pixel, 8-bit, and the cheapest stream to decode).
 * `fps=1/N:round=up` keeps one frame per N seconds (the frame at 0, N, 2N…; `round=up` makes the
 * count ceil(D/N), see REMAINDER_SLACK) BEFORE scaling, so only kept frames are scaled; `pad`
 * letterboxes into the tile; `tile=CxR` lays tiles out row by row and, at the end of the input,
 * flushes a partly filled sheet (empty cells stay black). `-frames:v 1` keeps the first sheet.
 * Only filters and options that exist in ffmpeg 4.1 (the npm-bundled build) are used. The
 * playlist is ours, so it is opened as HLS and nothing else (input-guard.ts `ownHlsInputArgs`).
 */
export function buildStoryboardArgs(input: string, plan: StoryboardPlan, output: string): string[] {
  const p = plan;
  const graph =
    `[0:v:0]fps=1/${p.intervalS}:round=up,scale=${p.pictureWidth}:${p.pictureHeight},setsar=1,` +
    `pad=${p.tileWidth}:${p.tileHeight}:${p.offsetX}:${p.offsetY}:black,tile=${p.columns}x${p.rows}[sb]`;
  return ["-y", "-v", "error", ...ownHlsInputArgs(input), "-filter_complex", graph, "-map", "[sb]", "-frames:v", "1", "-q:v", "4", "-f", "image2", "-update", "1", output];
}

/** WebVTT timestamp `HH:MM:SS.mmm` (hours always present: valid for any length). */
export function vttTimestamp(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/**
 * The WebVTT index: cue i spans [i*N, (i+1)*N) (the last one up to the duration) and its payload
 * is the tile's region of the sheet. `imageUri` is relative, so it resolves next to the VTT.
 */
export function buildStoryboardVtt(plan: StoryboardPlan, imageUri = STORYBOARD_IMAGE): string {
  const lines = ["WEBVTT", ""];
  for (let i = 0; i < plan.count; i++) {
    const start = i * plan.intervalS;
    const end = i === plan.count - 1 ? Math.max(plan.durationS, start + 0.001) : (i + 1) * plan.intervalS;
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    lines.push(`${vttTimestamp(start)} --> ${vttTimestamp(end)}`, `${imageUri}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, "");
  }
  return lines.join("\n");
}

/** Sheet size in pixels (every row is full width: `tile` pads the last row). */
export function storyboardSize(plan: StoryboardPlan): { width: number; height: number } {
  return { width: plan.columns * plan.tileWidth, height: plan.rows * plan.tileHeight };
}
