/**
 * Playback test data: a ready video whose media JSON names two rungs with MP4s, two English
 * audio tracks and a French one, and English and German subtitles (no files are needed: control
 * only reads the detail's URLs), and helpers to build the WebSocket and HTTP URLs.
 */
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import type { Harness } from "../../test/app-harness.js";
import { insertReadyVideo } from "../streaming/streaming.fixtures.js";

export const PLAYBACK_DURATION_S = 120;

export function playbackMedia(videoId: string): TranscodeResult {
  const p = `videos/${videoId}/`;
  const rung = (quality: string, width: number, height: number) => ({
    quality,
    width,
    height,
    bitrate: height * 1000,
    bandwidth: height * 1200,
    averageBandwidth: height * 1000,
    codecs: "avc1.42c01e",
    fps: 25,
    playlistKey: `${p}hls/${quality}/index.m3u8`,
    mp4Key: `${p}mp4/${quality}.mp4`,
    sizeBytes: height * 100,
  });
  const audio = (dir: string, language: string, name: string, isDefault: boolean) => ({ language, name, isDefault, playlistKey: `${p}hls/audio/${dir}/index.m3u8`, codecs: "mp4a.40.2", bitrate: 96000 });
  return {
    masterKey: `${p}hls/master.m3u8`,
    durationS: PLAYBACK_DURATION_S,
    renditions: [rung("480p", 854, 480), rung("240p", 426, 240)],
    audioTracks: [audio("a0_en", "en", "English", true), audio("a1_en", "en", "English commentary", false), audio("a2_fr", "fr", "français", false)],
    subtitleTracks: [
      { language: "en", name: "English", vttKey: `${p}hls/subs/s0_en/subs.vtt`, playlistKey: `${p}hls/subs/s0_en/index.m3u8` },
      { language: "de", name: "Deutsch", vttKey: `${p}hls/subs/s1_de/subs.vtt`, playlistKey: `${p}hls/subs/s1_de/index.m3u8` },
    ],
    thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
    segmentType: "mpegts",
    mpegtsStartPts: 126000,
  } as TranscodeResult;
}

export async function insertPlaybackVideo(h: Harness, ownerId: string, visibility: "public" | "unlisted" | "private" = "public"): Promise<string> {
  const id = crypto.randomUUID();
  await insertReadyVideo(h.ctx, { id, ownerId, visibility, media: playbackMedia(id), durationS: PLAYBACK_DURATION_S });
  return id;
}

/** `ws://127.0.0.1:<port>/ws/stream/<id>/?…` for a listening harness app. */
export function streamWsUrl(h: Harness, videoId: string, q: Record<string, string | undefined> = {}): string {
  const addr = h.app.server.address();
  if (!addr || typeof addr === "string") throw new Error("the app is not listening");
  const qs = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  return `ws://127.0.0.1:${addr.port}/ws/stream/${videoId}/${qs ? `?${qs}` : ""}`;
}

export function streamQuery(q: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams(Object.entries(q).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();
  return qs ? `?${qs}` : "";
}
