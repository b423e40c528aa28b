/**
 * The master playlist of a finished conversion, from its TranscodeResult alone (pure). The worker
 * writes it at the end of a conversion; the videos domain rewrites it from the stored result when
 * subtitle tracks are uploaded or deleted, so both always produce the same text for the same
 * tracks.
 */
import path from "node:path";
import type { SegmentType, SubtitleTrackOutput, TranscodeResult } from "../../contracts/transcode.messages.js";
import { AUDIO_CHANNELS } from "./ffmpeg-args.js";
import { buildMasterPlaylist, type MasterSubtitle } from "./playlists.js";

/** `key` as a URI relative to the master playlist's own key (both under the same storage prefix). */
export function uriRelativeTo(masterKey: string, key: string): string {
  return path.posix.relative(path.posix.dirname(masterKey), key);
}

export type MasterSubtitleTrack = Pick<SubtitleTrackOutput, "language" | "name" | "playlistKey">;

/**
 * The master of `result` with `subtitles` as its SUBTITLES group (the worker passes its own
 * tracks; the videos domain passes source tracks merged with uploaded ones). No subtitle is
 * DEFAULT: forcing captions on is the viewer's choice (AUTOSELECT lets players follow the
 * system's caption preference).
 */
export function buildMasterFromResult(
  result: Pick<TranscodeResult, "masterKey" | "renditions" | "audioTracks">,
  subtitles: readonly MasterSubtitleTrack[],
  segmentType: SegmentType,
): string {
  const rel = (key: string) => uriRelativeTo(result.masterKey, key);
  return buildMasterPlaylist(
    result.renditions.map((r) => ({
      uri: rel(r.playlistKey),
      bandwidth: r.bandwidth,
      averageBandwidth: r.averageBandwidth,
      width: r.width,
      height: r.height,
      codecs: r.codecs,
      fps: r.fps,
    })),
    result.audioTracks.map((a) => ({ uri: rel(a.playlistKey), language: a.language, name: a.name, isDefault: a.isDefault, channels: AUDIO_CHANNELS })),
    subtitles.map((s): MasterSubtitle => ({ uri: rel(s.playlistKey), language: s.language, name: s.name, isDefault: false })),
    { segmentType },
  );
}
