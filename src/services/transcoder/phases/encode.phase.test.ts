import { describe, expect, it } from "vitest";
import { buildEarlyMaster } from "./encode.phase.js";
import { jobOf } from "./phases.fixtures.js";
import { planTranscode } from "./plan.phase.js";
import { probeOf, videoStream } from "../transcoder.fixtures.js";

describe("encode phase: the early master", () => {
  it("bandwidths from the encoder's limits plus audio, every audio rendition, no subtitles", () => {
    const plan = planTranscode(jobOf(undefined, { ladder: [240, 720] }));
    expect(buildEarlyMaster(plan, { "240p": "avc1.4d4015", "720p": "avc1.64001f" }, "mpegts")).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="fr",NAME="français",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/fr/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=728000,AVERAGE-BANDWIDTH=528000,RESOLUTION=426x240,CODECS="avc1.4d4015,mp4a.40.2",FRAME-RATE=30.000,AUDIO="aud"',
        "240p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=4328000,AVERAGE-BANDWIDTH=2928000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,AUDIO="aud"',
        "720p/index.m3u8",
        "",
      ].join("\n"),
    );
  });

  it("without audio: video bitrates alone, video codec alone, fMP4 version", () => {
    const plan = planTranscode(jobOf(probeOf(videoStream({ width: 320, height: 240 })), { segmentType: "fmp4" }));
    expect(buildEarlyMaster(plan, { "240p": "avc1.4d400d" }, "fmp4")).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=600000,AVERAGE-BANDWIDTH=400000,RESOLUTION=320x240,CODECS="avc1.4d400d",FRAME-RATE=30.000',
        "240p/index.m3u8",
        "",
      ].join("\n"),
    );
  });
});
