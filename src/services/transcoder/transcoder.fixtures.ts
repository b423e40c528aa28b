/**
 * ProbeResult builders for transcoder unit tests: a plausible source described in one line.
 */
import type { AudioStreamInfo, ProbeResult, VideoStreamInfo } from "../../platform/media/media.types.js";

export function videoStream(v: Partial<VideoStreamInfo> & { width: number; height: number }): VideoStreamInfo {
  const rotation = v.rotation ?? 0;
  const sar = v.sar ?? [1, 1];
  const sqW = Math.round((v.width * sar[0]) / sar[1]);
  const swap = rotation === 90 || rotation === 270;
  return {
    index: 0,
    codec: "h264",
    displayWidth: swap ? v.height : sqW,
    displayHeight: swap ? sqW : v.height,
    rotation,
    sar,
    fps: 30,
    isVfr: false,
    pixFmt: "yuv420p",
    bitDepth: 8,
    bitRate: null,
    ...v,
  };
}

export function audioStream(index: number, a: Partial<AudioStreamInfo> = {}): AudioStreamInfo {
  return { index, codec: "aac", channels: 2, sampleRate: 48000, language: null, title: null, bitRate: 128000, isDefault: index === 1, ...a };
}

export function probeOf(video: VideoStreamInfo | null, audio: AudioStreamInfo[] = [], extra: Partial<ProbeResult> = {}): ProbeResult {
  return { container: "mp4", formatName: "mov,mp4,m4a,3gp,3g2,mj2", durationS: 3, sizeBytes: 1_000_000, bitRate: null, video, audio, subtitles: [], chapters: [], ...extra };
}
