import { describe, expect, it } from "vitest";
import { buildMasterFromResult, uriRelativeTo } from "./master.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";

const p = "videos/v1/";
const result: Pick<TranscodeResult, "masterKey" | "renditions" | "audioTracks"> = {
  masterKey: `${p}hls/master.m3u8`,
  renditions: [
    { quality: "480p", width: 854, height: 480, bitrate: 900_000, bandwidth: 1_200_000, averageBandwidth: 1_000_000, codecs: "avc1.64001e,mp4a.40.2", fps: 25, playlistKey: `${p}hls/480p/index.m3u8`, mp4Key: null, sizeBytes: 1 },
    { quality: "240p", width: 426, height: 240, bitrate: 300_000, bandwidth: 400_000.4, averageBandwidth: 350_000, codecs: "avc1.640015,mp4a.40.2", fps: 25, playlistKey: `${p}hls/240p/index.m3u8`, mp4Key: null, sizeBytes: 1 },
  ],
  audioTracks: [
    { language: "en", name: "English", isDefault: true, playlistKey: `${p}hls/audio/en/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128_000 },
    { language: "fr", name: "français", isDefault: false, playlistKey: `${p}hls/audio/fr/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128_000 },
  ],
};

describe("master playlist from a result", () => {
  it("relative URIs, audio group, subtitles group, variants by bandwidth", () => {
    const text = buildMasterFromResult(result, [{ language: "en", name: "English", playlistKey: `${p}hls/subs/en/index.m3u8` }], "mpegts");
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="fr",NAME="français",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/fr/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,URI="subs/en/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=350000,RESOLUTION=426x240,CODECS="avc1.640015,mp4a.40.2",FRAME-RATE=25.000,AUDIO="aud",SUBTITLES="subs"',
        "240p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=854x480,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=25.000,AUDIO="aud",SUBTITLES="subs"',
        "480p/index.m3u8",
        "",
      ].join("\n"),
    );
  });

  it("without subtitles there is no SUBTITLES attribute; fMP4 is version 7", () => {
    const text = buildMasterFromResult(result, [], "fmp4");
    expect(text).toContain("#EXT-X-VERSION:7\n");
    expect(text).not.toContain("SUBTITLES");
  });

  it("uriRelativeTo", () => {
    expect(uriRelativeTo("videos/a/hls/master.m3u8", "videos/a/hls/subs/fr/index.m3u8")).toBe("subs/fr/index.m3u8");
    expect(uriRelativeTo("videos/a/hls/master.m3u8", "videos/a/hls/720p/index.m3u8")).toBe("720p/index.m3u8");
  });
});
