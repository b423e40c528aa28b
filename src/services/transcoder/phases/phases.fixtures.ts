/** A job for the phase unit tests: a 720p source with English and French audio, 3 s. */
import type { TranscodeJob, TranscodeOptions } from "../../../contracts/transcode.messages.js";
import type { ProbeResult } from "../../../platform/media/media.types.js";
import { audioStream, probeOf, videoStream } from "../transcoder.fixtures.js";

export const OPTIONS: TranscodeOptions = {
  ladder: [240, 480, 720],
  maxFps: 30,
  segmentS: 2,
  segmentType: "mpegts",
  mp4: true,
  preset: "veryfast",
  mode: "single",
  timeoutS: 600,
  defaultLanguage: null,
};

export const BILINGUAL_720P: ProbeResult = probeOf(videoStream({ width: 1280, height: 720 }), [audioStream(1, { language: "eng" }), audioStream(2, { language: "fra" })]);

export function jobOf(probe: ProbeResult = BILINGUAL_720P, options: Partial<TranscodeOptions> = {}): TranscodeJob {
  return { videoId: "v1", sourceKey: "videos/v1/original", outputPrefix: "videos/v1/", probe, options: { ...OPTIONS, ...options } };
}
