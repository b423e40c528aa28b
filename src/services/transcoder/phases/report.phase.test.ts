import { describe, expect, it } from "vitest";
import { probeOf, videoStream } from "../transcoder.fixtures.js";
import type { ExtrasOutput } from "./extras.phase.js";
import { jobOf } from "./phases.fixtures.js";
import { planTranscode } from "./plan.phase.js";
import { buildResult } from "./report.phase.js";

const EXTRAS: ExtrasOutput = {
  thumbnails: { posterKey: "videos/v1/thumbs/poster.jpg", candidateKeys: ["videos/v1/thumbs/c0.jpg"], storyboardKey: null, storyboardVttKey: null },
  subtitles: [{ language: "fr", name: "français", vttKey: "videos/v1/hls/subs/fr/subs.vtt", playlistKey: "videos/v1/hls/subs/fr/index.m3u8" }],
  mpegtsStartPts: 126_000,
};

describe("report phase: the result", () => {
  it("renditions from the measures: default audio in bitrate and size, heaviest audio in bandwidths", () => {
    const plan = planTranscode(jobOf());
    const result = buildResult({
      plan,
      segmentType: "mpegts",
      measures: {
        video: {
          "240p": { peak: 500_000, average: 400_000, durationS: 3, bytes: 150_000 },
          "480p": { peak: 1_500_000, average: 1_200_000, durationS: 3, bytes: 450_000 },
          "720p": { peak: 3_000_000, average: 2_500_000, durationS: 2.9876, bytes: 937_500 },
        },
        audio: [
          { peak: 140_000, average: 130_000, durationS: 3.02, bytes: 49_000 },
          { peak: 150_000, average: 128_000, durationS: 3.02, bytes: 48_000 },
        ],
      },
      codecs: { "240p": "avc1.4d4015", "480p": "avc1.64001e", "720p": "avc1.64001f" },
      mp4Sizes: { "240p": 200_000, "480p": 500_000 },
      extras: EXTRAS,
    });
    const p = "videos/v1/";
    expect(result).toEqual({
      masterKey: `${p}hls/master.m3u8`,
      durationS: 2.988,
      renditions: [
        { quality: "240p", width: 426, height: 240, bitrate: 530_000, bandwidth: 650_000, averageBandwidth: 530_000, codecs: "avc1.4d4015,mp4a.40.2", fps: 30, playlistKey: `${p}hls/240p/index.m3u8`, mp4Key: `${p}mp4/240p.mp4`, sizeBytes: 200_000 },
        { quality: "480p", width: 854, height: 480, bitrate: 1_330_000, bandwidth: 1_650_000, averageBandwidth: 1_330_000, codecs: "avc1.64001e,mp4a.40.2", fps: 30, playlistKey: `${p}hls/480p/index.m3u8`, mp4Key: `${p}mp4/480p.mp4`, sizeBytes: 500_000 },
        // no MP4: the HLS bytes of the video and the default audio
        { quality: "720p", width: 1280, height: 720, bitrate: 2_630_000, bandwidth: 3_150_000, averageBandwidth: 2_630_000, codecs: "avc1.64001f,mp4a.40.2", fps: 30, playlistKey: `${p}hls/720p/index.m3u8`, mp4Key: null, sizeBytes: 986_500 },
      ],
      audioTracks: [
        { language: "en", name: "English", isDefault: true, playlistKey: `${p}hls/audio/en/index.m3u8`, codecs: "mp4a.40.2", bitrate: 130_000 },
        { language: "fr", name: "français", isDefault: false, playlistKey: `${p}hls/audio/fr/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128_000 },
      ],
      subtitleTracks: EXTRAS.subtitles,
      thumbnails: EXTRAS.thumbnails,
      segmentType: "mpegts",
      mpegtsStartPts: 126_000,
    });
  });

  it("without audio and without a measured duration: video alone, the probe's duration", () => {
    const plan = planTranscode(jobOf(probeOf(videoStream({ width: 320, height: 240 }), [], { durationS: 2.5 }), { mp4: false }));
    const result = buildResult({
      plan,
      segmentType: "fmp4",
      measures: { video: { "240p": { peak: 410_000, average: 380_000, durationS: 0, bytes: 118_750 } }, audio: [] },
      codecs: { "240p": "avc1.4d400d" },
      mp4Sizes: {},
      extras: { ...EXTRAS, subtitles: [], mpegtsStartPts: null },
    });
    expect(result).toMatchObject({
      durationS: 2.5,
      renditions: [{ quality: "240p", bitrate: 380_000, bandwidth: 410_000, averageBandwidth: 380_000, codecs: "avc1.4d400d", mp4Key: null, sizeBytes: 118_750 }],
      audioTracks: [],
      segmentType: "fmp4",
      mpegtsStartPts: null,
    });
  });
});
