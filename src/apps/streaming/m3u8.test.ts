import { describe, expect, it } from "vitest";
import { isMasterPlaylist, parseAttributes, parseMasterPlaylist, parseMediaPlaylist, PlaylistParseError, resolveRelative, rewritePlaylistUris, withQueryParam } from "./m3u8.js";

const MEDIA = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:1.000000,
seg_000.ts
#EXTINF:1.040000,
seg_001.ts
#EXTINF:0.960000,title
seg_002.ts
#EXT-X-ENDLIST
`;

const MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/en/index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Fran, çais",LANGUAGE="fr",DEFAULT=NO,URI="subs/fr/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=250000,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"
240p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=240x180,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="aud"
180p/index.m3u8
`;

describe("m3u8 parsing (RFC 8216)", () => {
  it("parses a media playlist with start times", () => {
    const pl = parseMediaPlaylist(MEDIA);
    expect(pl).toMatchObject({ version: 3, targetDuration: 2, mediaSequence: 0, playlistType: "VOD", ended: true, mapUri: null });
    expect(pl.segments).toEqual([
      { index: 0, uri: "seg_000.ts", start: 0, duration: 1 },
      { index: 1, uri: "seg_001.ts", start: 1, duration: 1.04 },
      { index: 2, uri: "seg_002.ts", start: 2.04, duration: 0.96 },
    ]);
  });
  it("parses a growing fMP4 playlist with CRLF line ends", () => {
    const pl = parseMediaPlaylist('#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:4,\r\nseg_0.m4s\r\n');
    expect(pl.ended).toBe(false);
    expect(pl.mapUri).toBe("init.mp4");
    expect(pl.segments).toHaveLength(1);
  });
  it("rejects non-playlists and segments without EXTINF", () => {
    expect(() => parseMediaPlaylist("hello")).toThrow(PlaylistParseError);
    expect(() => parseMediaPlaylist("#EXTM3U\nseg.ts\n")).toThrow(PlaylistParseError);
    expect(() => parseMediaPlaylist("#EXTM3U\n#EXTINF:abc,\nseg.ts\n")).toThrow(PlaylistParseError);
  });
  it("parses attribute lists with quoted commas", () => {
    expect(parseAttributes('A=1,B="x,y",C=320x240,D=0x1F')).toEqual({ A: "1", B: "x,y", C: "320x240", D: "0x1F" });
  });
  it("parses a master playlist", () => {
    expect(isMasterPlaylist(MASTER)).toBe(true);
    expect(isMasterPlaylist(MEDIA)).toBe(false);
    const m = parseMasterPlaylist(MASTER);
    expect(m.variants.map((v) => [v.uri, v.bandwidth, v.resolution])).toEqual([
      ["240p/index.m3u8", 300000, { width: 320, height: 240 }],
      ["180p/index.m3u8", 200000, { width: 240, height: 180 }],
    ]);
    expect(m.variants[0]!.attributes.CODECS).toBe("avc1.42c00d,mp4a.40.2");
    expect(m.media.map((r) => [r.type, r.language, r.uri, r.isDefault, r.name])).toEqual([
      ["AUDIO", "en", "audio/en/index.m3u8", true, "English"],
      ["SUBTITLES", "fr", "subs/fr/index.m3u8", false, "Fran, çais"],
    ]);
  });
});

describe("m3u8 rewriting", () => {
  const tok = (u: string) => withQueryParam(u, "token", "T/+=");
  it("appends a query parameter, replacing an existing one and keeping fragments", () => {
    expect(withQueryParam("a.ts", "token", "x")).toBe("a.ts?token=x");
    expect(withQueryParam("a.ts?v=1", "token", "x")).toBe("a.ts?v=1&token=x");
    expect(withQueryParam("a.ts?token=old&v=1", "token", "x")).toBe("a.ts?v=1&token=x");
    expect(withQueryParam("a.ts#t=1", "token", "a b")).toBe("a.ts?token=a%20b#t=1");
  });
  it("rewrites every URI of a master playlist", () => {
    const out = rewritePlaylistUris(MASTER, tok);
    expect(out).toContain('URI="audio/en/index.m3u8?token=T%2F%2B%3D"');
    expect(out).toContain('URI="subs/fr/index.m3u8?token=T%2F%2B%3D"');
    expect(out).toContain("\n240p/index.m3u8?token=T%2F%2B%3D\n");
    expect(out).toContain("\n180p/index.m3u8?token=T%2F%2B%3D\n");
    expect(out).toContain('NAME="Fran, çais"');
    // nothing else changes
    expect(out.replace(/\?token=T%2F%2B%3D/g, "")).toBe(MASTER);
  });
  it("rewrites segment lines and EXT-X-MAP of a media playlist", () => {
    const out = rewritePlaylistUris('#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\nseg_0.m4s\n#EXT-X-ENDLIST\n', tok);
    expect(out).toBe('#EXTM3U\n#EXT-X-MAP:URI="init.mp4?token=T%2F%2B%3D"\n#EXTINF:4,\nseg_0.m4s?token=T%2F%2B%3D\n#EXT-X-ENDLIST\n');
    expect(parseMediaPlaylist(out).segments[0]!.uri).toBe("seg_0.m4s?token=T%2F%2B%3D");
  });
  it("resolves relative URIs against the playlist key", () => {
    expect(resolveRelative("videos/v/hls/240p/index.m3u8", "seg_000.ts")).toBe("videos/v/hls/240p/seg_000.ts");
    expect(resolveRelative("videos/v/hls/master.m3u8", "audio/en/index.m3u8?x=1")).toBe("videos/v/hls/audio/en/index.m3u8");
    expect(resolveRelative("videos/v/hls/subs/en/index.m3u8", "../../240p/a.ts")).toBe("videos/v/hls/240p/a.ts");
    expect(resolveRelative("videos/v/hls/master.m3u8", "https://cdn/x.ts")).toBeNull();
    expect(resolveRelative("videos/v/hls/master.m3u8", "/abs.ts")).toBeNull();
    expect(resolveRelative("a.m3u8", "../x.ts")).toBeNull();
  });
});
