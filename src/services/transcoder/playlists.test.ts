import { describe, expect, it } from "vitest";
import { buildMasterPlaylist, eventPlaylistPrefix, finalizeVodPlaylist, measurePlaylist, parseMediaPlaylist } from "./playlists.js";

/** What ffmpeg's HLS muxer writes with -hls_playlist_type event, mid-encode. */
const EVENT = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:4.000000,
seg_00000.ts
#EXTINF:4.000000,
seg_00001.ts
#EXTINF:4.000000,
seg_00002.ts
`;

describe("buildMasterPlaylist", () => {
  it("MPEG-TS, two audio languages, sorted variants", () => {
    const text = buildMasterPlaylist(
      [
        { uri: "720p/index.m3u8", bandwidth: 3_100_456, averageBandwidth: 2_900_123, width: 1280, height: 720, codecs: "avc1.64001f,mp4a.40.2", fps: 30 },
        { uri: "240p/index.m3u8", bandwidth: 560_000, averageBandwidth: 500_000, width: 426, height: 240, codecs: "avc1.4d4015,mp4a.40.2", fps: 29.97002997 },
      ],
      [
        { uri: "audio/en/index.m3u8", language: "en", name: "English", isDefault: true, channels: 2 },
        { uri: "audio/fr/index.m3u8", language: "fr", name: "français", isDefault: false, channels: 2 },
      ],
      [],
      { segmentType: "mpegts" },
    );
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="fr",NAME="français",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/fr/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=560000,AVERAGE-BANDWIDTH=500000,RESOLUTION=426x240,CODECS="avc1.4d4015,mp4a.40.2",FRAME-RATE=29.970,AUDIO="aud"',
        "240p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=3100456,AVERAGE-BANDWIDTH=2900123,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,AUDIO="aud"',
        "720p/index.m3u8",
        "",
      ].join("\n"),
    );
  });

  it("fMP4 with subtitles and no audio; exactly one default audio; quotes sanitized", () => {
    expect(
      buildMasterPlaylist(
        [{ uri: "360p/index.m3u8", bandwidth: 1000, averageBandwidth: null, width: 360, height: 640, codecs: "avc1.42c01e", fps: 25 }],
        [],
        [{ uri: "subs/fr/index.m3u8", language: "fr", name: 'Le "film"', isDefault: false }],
        { segmentType: "fmp4" },
      ),
    ).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"fr\",NAME=\"Le 'film'\",DEFAULT=NO,AUTOSELECT=YES,URI=\"subs/fr/index.m3u8\"",
        '#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=360x640,CODECS="avc1.42c01e",FRAME-RATE=25.000,SUBTITLES="subs"',
        "360p/index.m3u8",
        "",
      ].join("\n"),
    );
    const noDefault = buildMasterPlaylist([], [
      { uri: "a/0.m3u8", language: "und", name: "Audio 1", isDefault: false, channels: 2 },
      { uri: "a/1.m3u8", language: "und", name: "Audio 2", isDefault: false, channels: 2 },
    ], [], { segmentType: "mpegts" });
    expect(noDefault.match(/DEFAULT=YES/g)).toHaveLength(1);
    expect(noDefault).toContain('NAME="Audio 1",DEFAULT=YES');
  });
});

describe("media playlists", () => {
  it("parses ffmpeg's playlists, ignoring a partly written last line", () => {
    expect(parseMediaPlaylist(EVENT)).toEqual({
      targetDuration: 4,
      playlistType: "EVENT",
      mapUri: null,
      segments: [
        { uri: "seg_00000.ts", duration: 4 },
        { uri: "seg_00001.ts", duration: 4 },
        { uri: "seg_00002.ts", duration: 4 },
      ],
      ended: false,
    });
    expect(parseMediaPlaylist(EVENT + "#EXTINF:4.000000,\nseg_000").segments).toHaveLength(3);
    const fmp4 = '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.000000,\nseg_00000.m4s\n#EXT-X-ENDLIST\n';
    expect(parseMediaPlaylist(fmp4)).toEqual({ targetDuration: 2, playlistType: null, mapUri: "init.mp4", segments: [{ uri: "seg_00000.m4s", duration: 2 }], ended: true });
    expect(parseMediaPlaylist("garbage\n").segments).toEqual([]);
  });

  it("cuts a growing playlist after the segments already stored", () => {
    expect(eventPlaylistPrefix(EVENT + "#EXT-X-ENDLIST\n", 2)).toBe(
      "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
        "#EXTINF:4.000000,\nseg_00000.ts\n#EXTINF:4.000000,\nseg_00001.ts\n",
    );
    expect(eventPlaylistPrefix(EVENT, 0)).toBe("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    expect(eventPlaylistPrefix(EVENT + "#EXT-X-ENDLIST\n", 3)).toBe(EVENT);
  });

  it("finalizes EVENT to VOD", () => {
    const vod = EVENT.replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD") + "#EXT-X-ENDLIST\n";
    expect(finalizeVodPlaylist(EVENT)).toBe(vod);
    expect(finalizeVodPlaylist(EVENT + "#EXT-X-ENDLIST\n")).toBe(vod);
    expect(finalizeVodPlaylist(vod)).toBe(vod);
    expect(finalizeVodPlaylist("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:1.5,\na.ts\n")).toBe(
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.5,\na.ts\n#EXT-X-ENDLIST\n",
    );
  });

  it("measures peak (RFC 8216 windows of 0.5-1.5 target durations) and average bandwidth", () => {
    const pl = parseMediaPlaylist(
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\na.ts\n#EXTINF:4.0,\nb.ts\n#EXTINF:2.0,\nc.ts\n#EXTINF:0.04,\nd.ts\n#EXT-X-ENDLIST\n",
    );
    const sizes: Record<string, number> = { "a.ts": 500_000, "b.ts": 1_000_000, "c.ts": 300_000, "d.ts": 20_000 };
    // b alone: 2 Mbit/s; b+c (6 s <= 1.5*4): 1.733 Mbit/s; d alone is too short to be a window (0.04 s < 2 s).
    expect(measurePlaylist(pl, (u) => sizes[u]!)).toEqual({ peak: 2_000_000, average: Math.round((1_820_000 * 8) / 10.04), durationS: 10.04, bytes: 1_820_000 });
    const tiny = parseMediaPlaylist("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:1.0,\na.ts\n");
    expect(measurePlaylist(tiny, () => 1000)).toEqual({ peak: 8000, average: 8000, durationS: 1, bytes: 1000 });
  });
});
